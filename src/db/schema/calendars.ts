import { sql } from 'drizzle-orm'
import { integer, jsonb, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core'
import { ts } from './columns.js'

/**
 * Business calendars: the working time SLA and OLA clocks count in (src/lib/business-time.ts computes
 * on them). `hours` is { mon: [["08:00","12:00"], ...], ..., sun: [] } in the calendar's own zone;
 * `holidays` is [{ date: "2026-12-25", name } | { month, day, yearly: true, name }]; `exceptions` is
 * [{ date, hours: [[start, end], ...] }] replacing that date's hours, holiday or not.
 */
export const calendars = pgTable(
  'calendars',
  {
    id: uuid('id').primaryKey(),
    name: text('name').notNull(),
    /** IANA zone name, e.g. Europe/Paris. */
    timeZone: text('time_zone').notNull(),
    hours: jsonb('hours').notNull().default(sql`'{}'::jsonb`),
    holidays: jsonb('holidays').notNull().default(sql`'[]'::jsonb`),
    exceptions: jsonb('exceptions').notNull().default(sql`'[]'::jsonb`),
    version: integer('version').notNull().default(1),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow()
  },
  t => [uniqueIndex('calendars_name_uq').on(sql`lower(${t.name})`)]
)
