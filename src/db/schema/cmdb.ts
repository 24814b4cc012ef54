import { index, integer, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core'
import { ts } from './columns.js'
import { teams } from './identity.js'

/**
 * A minimal configuration item: enough for changes, incidents and events to name what they concern.
 * The CMDB work adds classes with attribute definitions, discovery and baselines on top of this table.
 */
export const configurationItems = pgTable(
  'configuration_items',
  {
    id: uuid('id').primaryKey(),
    name: text('name').notNull(),
    ciClass: text('class').notNull().default('generic'),
    hostname: text('hostname'),
    fqdn: text('fqdn'),
    /** Upper-case; placeholders such as "To be filled by O.E.M." are stored as null (lib/ci-identity.ts). */
    serial: text('serial'),
    /** The primary MAC address, lower-case colon pairs. */
    macAddress: text('mac_address'),
    /** The SMBIOS system UUID, lower-case with dashes. */
    systemUuid: text('system_uuid'),
    status: text('status').notNull().default('active'),
    supportTeamId: uuid('support_team_id').references(() => teams.id),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
    version: integer('version').notNull().default(1)
  },
  t => [
    index('configuration_items_name_idx').on(t.name),
    index('configuration_items_hostname_idx').on(t.hostname),
    index('configuration_items_fqdn_idx').on(t.fqdn),
    index('configuration_items_serial_idx').on(t.serial),
    index('configuration_items_mac_idx').on(t.macAddress),
    index('configuration_items_system_uuid_idx').on(t.systemUuid)
  ]
)

/** Typed relationships between CIs (runs on, depends on, connects to, part of). */
export const ciRelationships = pgTable(
  'ci_relationships',
  {
    id: uuid('id').primaryKey(),
    sourceId: uuid('source_id')
      .notNull()
      .references(() => configurationItems.id, { onDelete: 'cascade' }),
    targetId: uuid('target_id')
      .notNull()
      .references(() => configurationItems.id, { onDelete: 'cascade' }),
    type: text('type').notNull(),
    createdAt: ts('created_at').notNull().defaultNow()
  },
  t => [
    uniqueIndex('ci_relationships_uq').on(t.sourceId, t.targetId, t.type),
    index('ci_relationships_target_idx').on(t.targetId)
  ]
)
