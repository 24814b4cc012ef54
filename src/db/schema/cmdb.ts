import { sql } from 'drizzle-orm'
import { boolean, index, integer, jsonb, pgTable, primaryKey, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core'
import { ts } from './columns.js'
import { organisations, teams, users } from './identity.js'

/**
 * A typed attribute a CI class defines (inherited by its subclasses): stored in the class row's
 * `attributes` array, checked on every CI write (modules/cmdb/attributes.ts).
 */
export interface CiAttributeDefinition {
  name: string
  type: 'text' | 'number' | 'boolean' | 'date' | 'enum' | 'ci'
  label?: string
  required?: boolean
  unique?: boolean
  default?: unknown
  /** The values of an enum attribute. */
  values?: string[]
}

/**
 * CI classes as data: a shipped ITIL set (seeded by the migration, `builtin`) and what admins add, each
 * with a parent whose attribute definitions it inherits. `configuration_items.class` names one
 * (foreign key on `name`, added by hand in the migration so existing rows could be carried over).
 */
export const ciClasses = pgTable(
  'ci_classes',
  {
    id: uuid('id').primaryKey(),
    name: text('name').notNull(),
    label: text('label').notNull(),
    description: text('description').notNull().default(''),
    parentId: uuid('parent_id'),
    attributes: jsonb('attributes').$type<CiAttributeDefinition[]>().notNull().default(sql`'[]'::jsonb`),
    builtin: boolean('builtin').notNull().default(false),
    version: integer('version').notNull().default(1),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow()
  },
  t => [uniqueIndex('ci_classes_name_uq').on(t.name), index('ci_classes_parent_idx').on(t.parentId)]
)

/** Relationship types with both readings: `runs_on` reads "runs on" from the source, "hosts" from the target. */
export const ciRelationshipTypes = pgTable(
  'ci_relationship_types',
  {
    id: uuid('id').primaryKey(),
    name: text('name').notNull(),
    label: text('label').notNull(),
    reverseLabel: text('reverse_label').notNull(),
    builtin: boolean('builtin').notNull().default(false),
    version: integer('version').notNull().default(1),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow()
  },
  t => [uniqueIndex('ci_relationship_types_name_uq').on(t.name)]
)

/**
 * Where discovered data comes from. A source may overwrite a field last written by a source of lower
 * or equal `precedence`; a manual edit only when `overrides_manual`. CIs it has not seen for
 * `missing_after_days` are marked missing by the sweep.
 */
export const discoverySources = pgTable(
  'discovery_sources',
  {
    id: uuid('id').primaryKey(),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    precedence: integer('precedence').notNull().default(50),
    overridesManual: boolean('overrides_manual').notNull().default(false),
    missingAfterDays: integer('missing_after_days'),
    version: integer('version').notNull().default(1),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow()
  },
  t => [uniqueIndex('discovery_sources_name_uq').on(t.name)]
)

/**
 * Configuration items. Identification keys are stored in their one spelling (lib/ci-identity.ts);
 * `attributes` holds the class attributes; `field_sources` says who last wrote each field
 * (`manual` or a discovery source id), which source precedence reads.
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
    /** Every MAC address of the CI (the primary one included), lower-case colon pairs. */
    macAddresses: text('mac_addresses').array().notNull().default(sql`'{}'::text[]`),
    /** The SMBIOS system UUID, lower-case with dashes. */
    systemUuid: text('system_uuid'),
    assetTag: text('asset_tag'),
    status: text('status').notNull().default('live'),
    supportTeamId: uuid('support_team_id').references(() => teams.id),
    ownerTeamId: uuid('owner_team_id').references(() => teams.id),
    organisationId: uuid('organisation_id').references(() => organisations.id),
    location: text('location'),
    /** The finance work's cost centre; no foreign key until that table exists. */
    costCentreId: uuid('cost_centre_id'),
    attributes: jsonb('attributes').$type<Record<string, unknown>>().notNull().default(sql`'{}'::jsonb`),
    fieldSources: jsonb('field_sources').$type<Record<string, string>>().notNull().default(sql`'{}'::jsonb`),
    /** Set by the missing sweep when no source has seen the CI in time; cleared when one does. */
    missingSince: ts('missing_since'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
    version: integer('version').notNull().default(1)
  },
  t => [
    index('configuration_items_name_idx').on(t.name),
    index('configuration_items_class_idx').on(t.ciClass),
    index('configuration_items_hostname_idx').on(t.hostname),
    index('configuration_items_fqdn_idx').on(t.fqdn),
    index('configuration_items_serial_idx').on(t.serial),
    index('configuration_items_mac_idx').on(t.macAddress),
    index('configuration_items_macs_idx').using('gin', t.macAddresses),
    index('configuration_items_system_uuid_idx').on(t.systemUuid),
    index('configuration_items_asset_tag_idx').on(t.assetTag),
    index('configuration_items_attributes_idx').using('gin', sql`${t.attributes} jsonb_path_ops`)
  ]
)

/** Typed relationships between CIs: source <type> target (`ci_relationship_types.name`, foreign key by hand). */
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
    // Both cover the impact walk's hops (index-only scans): downstream by source, upstream by target
    uniqueIndex('ci_relationships_uq').on(t.sourceId, t.targetId, t.type),
    index('ci_relationships_target_source_type_idx').on(t.targetId, t.sourceId, t.type)
  ]
)

/** What a discovery source has seen: its key for the CI and when it last reported it. */
export const ciSourceRecords = pgTable(
  'ci_source_records',
  {
    sourceId: uuid('source_id')
      .notNull()
      .references(() => discoverySources.id, { onDelete: 'cascade' }),
    externalKey: text('external_key').notNull(),
    ciId: uuid('ci_id')
      .notNull()
      .references(() => configurationItems.id, { onDelete: 'cascade' }),
    lastSeenAt: ts('last_seen_at').notNull().defaultNow()
  },
  t => [
    primaryKey({ columns: [t.sourceId, t.externalKey] }),
    index('ci_source_records_ci_idx').on(t.ciId),
    index('ci_source_records_seen_idx').on(t.sourceId, t.lastSeenAt)
  ]
)

/** A frozen snapshot of a set of CIs with their attributes and relationships, diffable against now. */
export const ciBaselines = pgTable(
  'ci_baselines',
  {
    id: uuid('id').primaryKey(),
    name: text('name').notNull(),
    /** How the set was chosen: `{ filter }` or `{ serviceId, depth }`. */
    scope: jsonb('scope').$type<Record<string, unknown>>().notNull(),
    snapshot: jsonb('snapshot').$type<{ cis: unknown[]; relationships: unknown[] }>().notNull(),
    createdBy: uuid('created_by').references(() => users.id),
    createdAt: ts('created_at').notNull().defaultNow()
  },
  t => [index('ci_baselines_created_idx').on(t.createdAt)]
)
