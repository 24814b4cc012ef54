import { sql } from 'drizzle-orm'
import { doublePrecision, index, integer, jsonb, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core'
import { calendars } from './calendars.js'
import { ts } from './columns.js'
import { teams } from './identity.js'
import { olas, slas } from './service-level.js'
import { tickets } from './tickets.js'

/**
 * SLA and OLA clocks of tickets: one row per (ticket, agreement, target[, team]). An SLA clock pair
 * (response, resolution) starts with the ticket; an OLA pair per team, while the ticket is with it.
 * A clock counts business minutes on its calendar in running segments; `elapsed_minutes` holds the
 * closed segments of this run, `running_since` the open one. `run` is 1 at the start and one more at
 * every restart (a reopen, a re-target, a team taking the ticket back): escalation thresholds fire
 * once per run. `due_at` is when it breaches if it keeps running (null while paused); `breached_at`
 * is stamped once, by the breach timer (queue `sla.timer`, key = the clock id) or a stop past due.
 */
export const slaClocks = pgTable(
  'sla_clocks',
  {
    id: uuid('id').primaryKey(),
    ticketId: uuid('ticket_id')
      .notNull()
      .references(() => tickets.id, { onDelete: 'cascade' }),
    /** sla | ola */
    agreement: text('agreement').$type<'sla' | 'ola'>().notNull(),
    /** response | resolution */
    target: text('target').$type<'response' | 'resolution'>().notNull(),
    slaId: uuid('sla_id').references(() => slas.id),
    olaId: uuid('ola_id').references(() => olas.id),
    /** The team an OLA clock counts for (null on SLA clocks). */
    teamId: uuid('team_id').references(() => teams.id),
    calendarId: uuid('calendar_id')
      .notNull()
      .references(() => calendars.id),
    /** The priority the target was taken for. */
    priority: integer('priority').notNull(),
    targetMinutes: integer('target_minutes').notNull(),
    run: integer('run').notNull().default(1),
    /** running | paused | stopped (the API tells met or breached from breached_at). */
    state: text('state').$type<'running' | 'paused' | 'stopped'>().notNull(),
    /** When this run started. */
    startedAt: ts('started_at').notNull(),
    runningSince: ts('running_since'),
    /** Business minutes of this run's closed running segments. */
    elapsedMinutes: doublePrecision('elapsed_minutes').notNull().default(0),
    dueAt: ts('due_at'),
    breachedAt: ts('breached_at'),
    stoppedAt: ts('stopped_at'),
    /** The status that paused it (while paused). */
    pausedBy: text('paused_by'),
    /** [{ run, state: running|paused|stopped, from, to, status }]: every segment of every run. */
    segments: jsonb('segments').notNull().default(sql`'[]'::jsonb`),
    /** [{ threshold, firedAt, actions, run }]: escalations fired on it (the escalation code writes them). */
    escalations: jsonb('escalations').notNull().default(sql`'[]'::jsonb`),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow()
  },
  t => [
    uniqueIndex('sla_clocks_ticket_uq').on(
      t.ticketId,
      t.agreement,
      t.target,
      sql`coalesce(${t.teamId}, '00000000-0000-0000-0000-000000000000'::uuid)`
    ),
    // Lists filter and sort SLA clocks by due time: the ticket's clock of one target, by due
    index('sla_clocks_due_idx').on(t.agreement, t.target, t.dueAt),
    // SLA reports filter clocks by the time they were decided (breached, else stopped): sla-reports README
    index('sla_clocks_decided_idx').on(t.agreement, sql`coalesce(${t.breachedAt}, ${t.stoppedAt})`),
    // A ticket's running SLA resolution clock and when it breached or falls due (the reports'
    // resolutionDueAt, past due): an index-only probe per open ticket
    index('sla_clocks_running_resolution_idx')
      .on(t.ticketId, t.breachedAt, t.dueAt)
      .where(sql`${t.agreement} = 'sla' AND ${t.target} = 'resolution' AND ${t.state} <> 'stopped'`),
    index('sla_clocks_sla_idx').on(t.slaId),
    index('sla_clocks_ola_idx').on(t.olaId)
  ]
)
