import { sql } from 'drizzle-orm'
import {
  bigserial,
  boolean,
  customType,
  index,
  integer,
  jsonb,
  pgSequence,
  pgTable,
  primaryKey,
  smallint,
  text,
  uniqueIndex,
  uuid
} from 'drizzle-orm/pg-core'
import { ts } from './columns.js'
import { categories } from './config.js'
import { organisations, teams, users } from './identity.js'
import { services } from './service-level.js'

export const tsvector = customType<{ data: string }>({ dataType: () => 'tsvector' })

/** One number sequence per ticket kind, so INC-000001 and REQ-000001 both exist. */
export const incidentNumberSeq = pgSequence('incident_number_seq', { startWith: 1 })
export const requestNumberSeq = pgSequence('request_number_seq', { startWith: 1 })
export const problemNumberSeq = pgSequence('problem_number_seq', { startWith: 1 })
export const changeNumberSeq = pgSequence('change_number_seq', { startWith: 1 })
export const releaseNumberSeq = pgSequence('release_number_seq', { startWith: 1 })

/** What all ticket kinds share; kind-specific detail goes in side tables. */
export const tickets = pgTable(
  'tickets',
  {
    id: uuid('id').primaryKey(),
    kind: text('kind').notNull(),
    number: integer('number').notNull(),
    title: text('title').notNull(),
    description: text('description').notNull().default(''),
    status: text('status').notNull(),
    impact: smallint('impact').notNull(),
    urgency: smallint('urgency').notNull(),
    priority: smallint('priority').notNull(),
    category: text('category'),
    /** The category tree node (its path is copied into `category` for display and filtering). */
    categoryId: uuid('category_id').references(() => categories.id),
    requesterId: uuid('requester_id')
      .notNull()
      .references(() => users.id),
    organisationId: uuid('organisation_id').references(() => organisations.id),
    teamId: uuid('team_id').references(() => teams.id),
    /** The service of the catalog the ticket is about (services.ts): what its SLA is matched on. */
    serviceId: uuid('service_id').references(() => services.id),
    layer: integer('layer'),
    assigneeId: uuid('assignee_id').references(() => users.id),
    createdBy: uuid('created_by')
      .notNull()
      .references(() => users.id),
    resolutionCode: text('resolution_code'),
    resolution: text('resolution'),
    /** Admin-defined fields of this kind, validated against custom_field_definitions on every write. */
    customFields: jsonb('custom_fields').notNull().default(sql`'{}'::jsonb`),
    version: integer('version').notNull().default(1),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
    resolvedAt: ts('resolved_at'),
    closedAt: ts('closed_at'),
    search: tsvector('search').generatedAlwaysAs(
      sql`to_tsvector('simple', coalesce(title, '') || ' ' || coalesce(description, ''))`
    )
  },
  t => [
    uniqueIndex('tickets_kind_number_uq').on(t.kind, t.number),
    // DESC NULLS FIRST is what ORDER BY … DESC means; drizzle's bare .desc() says NULLS LAST, which no
    // list query could use, so every page would sort the whole filtered set
    index('tickets_kind_created_idx').on(t.kind, t.createdAt.desc().nullsFirst(), t.id.desc().nullsFirst()),
    index('tickets_kind_status_created_idx').on(
      t.kind,
      t.status,
      t.createdAt.desc().nullsFirst(),
      t.id.desc().nullsFirst()
    ),
    index('tickets_org_created_idx').on(t.organisationId, t.createdAt.desc().nullsFirst(), t.id.desc().nullsFirst()),
    index('tickets_requester_idx').on(t.requesterId),
    index('tickets_assignee_idx').on(t.assigneeId),
    index('tickets_team_idx').on(t.teamId, t.layer),
    index('tickets_kind_priority_idx').on(t.kind, t.priority, t.id),
    index('tickets_updated_idx').on(t.kind, t.updatedAt.desc().nullsFirst(), t.id.desc().nullsFirst()),
    index('tickets_search_idx').using('gin', t.search),
    index('tickets_custom_fields_idx').using('gin', sql`${t.customFields} jsonb_path_ops`),
    index('tickets_category_idx').on(t.categoryId),
    index('tickets_service_idx').on(t.serviceId),
    // Reports across kinds: tickets created in a period, and resolved (or closed) in one. The done
    // index carries the columns a report reads of a done ticket (creation, resolution, closing, id), so a
    // count over a period or by days to resolve is an index-only scan (ticket-reports README)
    index('tickets_created_idx').on(t.createdAt),
    index('tickets_done_report_idx').on(
      sql`coalesce(${t.resolvedAt}, ${t.closedAt})`,
      t.createdAt,
      t.resolvedAt,
      t.closedAt,
      t.id
    ),
    // Open tickets (neither resolved nor closed) by creation: ageing, backlog and past-due reports
    index('tickets_open_idx').on(t.createdAt, t.id).where(sql`${t.resolvedAt} IS NULL AND ${t.closedAt} IS NULL`)
  ]
)

/**
 * Numbers a ticket answered to before it was reclassified (INC-000012 became REQ-000040): lookups by
 * number and `q` still find it. A number is never reused, so (kind, number) is a key.
 */
export const ticketFormerNumbers = pgTable(
  'ticket_former_numbers',
  {
    kind: text('kind').notNull(),
    number: integer('number').notNull(),
    ticketId: uuid('ticket_id')
      .notNull()
      .references(() => tickets.id, { onDelete: 'cascade' }),
    createdAt: ts('created_at').notNull().defaultNow()
  },
  t => [primaryKey({ columns: [t.kind, t.number] }), index('ticket_former_numbers_ticket_idx').on(t.ticketId)]
)

export const ticketNotes = pgTable(
  'ticket_notes',
  {
    id: uuid('id').primaryKey(),
    ticketId: uuid('ticket_id')
      .notNull()
      .references(() => tickets.id, { onDelete: 'cascade' }),
    authorId: uuid('author_id')
      .notNull()
      .references(() => users.id),
    internal: boolean('internal').notNull(),
    body: text('body').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
    search: tsvector('search').generatedAlwaysAs(sql`to_tsvector('simple', body)`)
  },
  t => [
    index('ticket_notes_ticket_idx').on(t.ticketId, t.createdAt, t.id),
    index('ticket_notes_search_idx').using('gin', t.search)
  ]
)

/**
 * Append-only audit trail for every write on every entity. Ticket history is read from here.
 * `internal` marks rows a customer must not see (internal notes, internal-only fields).
 */
export const auditLog = pgTable(
  'audit_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    at: ts('at').notNull().defaultNow(),
    actorId: uuid('actor_id'),
    actorLabel: text('actor_label').notNull(),
    entityType: text('entity_type').notNull(),
    entityId: uuid('entity_id').notNull(),
    action: text('action').notNull(),
    changes: jsonb('changes').notNull().default(sql`'[]'::jsonb`),
    internal: boolean('internal').notNull().default(false),
    requestId: text('request_id')
  },
  t => [index('audit_log_entity_idx').on(t.entityType, t.entityId, t.id), index('audit_log_at_idx').on(t.at)]
)

/** Replay store for `Idempotency-Key`: one row per (principal, key), kept at least 24 hours. */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    principal: text('principal').notNull(),
    key: text('key').notNull(),
    operation: text('operation').notNull(),
    requestHash: text('request_hash').notNull(),
    responseStatus: integer('response_status'),
    responseBody: jsonb('response_body'),
    lockedUntil: ts('locked_until').notNull(),
    createdAt: ts('created_at').notNull().defaultNow()
  },
  t => [
    uniqueIndex('idempotency_keys_uq').on(t.principal, t.key),
    index('idempotency_keys_created_idx').on(t.createdAt)
  ]
)
