import { index, integer, jsonb, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core'
import { ts } from './columns.js'
import { slas } from './service-level.js'
import { tickets } from './tickets.js'

/**
 * Each escalation threshold that fired: once per clock, clock run and threshold percent, the unique
 * key making a second attempt (a scheduler that lost its lease, a redelivered timer) a no-op. A run
 * is the clock's count of restarts and re-targets, so a re-targeted clock may fire a threshold again.
 * `actions` is what was done: each configured action with its outcome (who was told, the layer moved
 * to, the priority raised to, or why it was skipped).
 */
export const slaEscalationFirings = pgTable(
  'sla_escalation_firings',
  {
    id: uuid('id').primaryKey(),
    clockId: uuid('clock_id').notNull(),
    run: integer('run').notNull(),
    percent: integer('percent').notNull(),
    /** response | resolution */
    clock: text('clock').notNull(),
    ticketId: uuid('ticket_id')
      .notNull()
      .references(() => tickets.id, { onDelete: 'cascade' }),
    slaId: uuid('sla_id').references(() => slas.id, { onDelete: 'set null' }),
    actions: jsonb('actions').notNull(),
    firedAt: ts('fired_at').notNull().defaultNow()
  },
  t => [
    uniqueIndex('sla_escalation_firings_uq').on(t.clockId, t.run, t.percent),
    index('sla_escalation_firings_ticket_idx').on(t.ticketId)
  ]
)
