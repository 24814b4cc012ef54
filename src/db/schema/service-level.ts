import { sql } from 'drizzle-orm'
import { boolean, index, integer, jsonb, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core'
import { calendars } from './calendars.js'
import { ts } from './columns.js'
import { organisations, teams } from './identity.js'

/**
 * The service catalog: what the desk supports (an e-mail service, a payroll application), who owns it
 * and who supports it, its hours of cover (a business calendar), and which organisations subscribe.
 * Offerings sit under a service (catalog_offerings.service_id), tickets name one (tickets.service_id).
 */
export const services = pgTable(
  'services',
  {
    id: uuid('id').primaryKey(),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    /** planned (in the pipeline), live (in the catalogue), retired. */
    status: text('status').notNull().default('live'),
    ownerTeamId: uuid('owner_team_id').references(() => teams.id),
    supportTeamId: uuid('support_team_id').references(() => teams.id),
    /** The hours of cover. */
    hoursCalendarId: uuid('hours_calendar_id').references(() => calendars.id),
    /** Customers see it (when their organisation subscribes); internal services are staff-only. */
    customerVisible: boolean('customer_visible').notNull().default(false),
    /**
     * The subscribed organisations, sorted and without repeats (checked on every write: an array has
     * no foreign keys). An array, not a join table: the list is short, read and written whole, audited
     * as one field, and a customer's visibility is one indexed `= any(...)`.
     */
    organisationIds: uuid('organisation_ids').array().notNull().default(sql`'{}'::uuid[]`),
    /** The cost centre carrying it (finance; checked on write, no foreign key: finance sits above). */
    costCentreId: uuid('cost_centre_id'),
    version: integer('version').notNull().default(1),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow()
  },
  t => [
    uniqueIndex('services_name_uq').on(sql`lower(${t.name})`),
    index('services_organisations_idx').using('gin', t.organisationIds)
  ]
)

/**
 * Service level agreements: matched to a ticket on its service, organisation, kind and priority (a null
 * condition matches any; the most non-null matching conditions win, ties by `order`, lower first), with
 * per-priority response and resolution targets in business minutes of `calendar_id`.
 */
export const slas = pgTable(
  'slas',
  {
    id: uuid('id').primaryKey(),
    name: text('name').notNull(),
    calendarId: uuid('calendar_id')
      .notNull()
      .references(() => calendars.id),
    order: integer('order').notNull().default(0),
    serviceId: uuid('service_id').references(() => services.id),
    organisationId: uuid('organisation_id').references(() => organisations.id),
    kind: text('kind'),
    priority: integer('priority'),
    /** [{ priority, responseMinutes, resolutionMinutes }] sorted by priority, one per priority. */
    targets: jsonb('targets').notNull().default(sql`'[]'::jsonb`),
    /** first_public_reply | leaves_new */
    responseMetBy: text('response_met_by').notNull().default('first_public_reply'),
    /** [{ percent, clock, actions }] sorted by clock then percent, one per clock and percent. */
    escalations: jsonb('escalations').notNull().default(sql`'[]'::jsonb`),
    active: boolean('active').notNull().default(true),
    version: integer('version').notNull().default(1),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow()
  },
  t => [uniqueIndex('slas_name_uq').on(sql`lower(${t.name})`)]
)

/** Operational level agreements: a team's own targets, underpinning the SLAs named in `sla_ids`. */
export const olas = pgTable(
  'olas',
  {
    id: uuid('id').primaryKey(),
    name: text('name').notNull(),
    teamId: uuid('team_id')
      .notNull()
      .references(() => teams.id),
    calendarId: uuid('calendar_id')
      .notNull()
      .references(() => calendars.id),
    targets: jsonb('targets').notNull().default(sql`'[]'::jsonb`),
    slaIds: uuid('sla_ids').array().notNull().default(sql`'{}'::uuid[]`),
    active: boolean('active').notNull().default(true),
    version: integer('version').notNull().default(1),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow()
  },
  t => [uniqueIndex('olas_name_uq').on(sql`lower(${t.name})`), index('olas_slas_idx').using('gin', t.slaIds)]
)
