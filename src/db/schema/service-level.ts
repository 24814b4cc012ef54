import { sql } from 'drizzle-orm'
import { boolean, index, integer, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core'
import { calendars } from './calendars.js'
import { ts } from './columns.js'
import { teams } from './identity.js'

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
    version: integer('version').notNull().default(1),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow()
  },
  t => [
    uniqueIndex('services_name_uq').on(sql`lower(${t.name})`),
    index('services_organisations_idx').using('gin', t.organisationIds)
  ]
)
