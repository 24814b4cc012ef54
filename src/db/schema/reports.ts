import { integer, jsonb, pgTable, smallint } from 'drizzle-orm/pg-core'
import { ts } from './columns.js'

/** Who else reads reports: customers (their organisation's summary and SLA compliance) when granted. */
export const reportSettings = pgTable('report_settings', {
  id: smallint('id').primaryKey(),
  settings: jsonb('settings').notNull(),
  version: integer('version').notNull().default(1),
  updatedAt: ts('updated_at').notNull().defaultNow()
})
