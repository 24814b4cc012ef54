import { and, eq, inArray, type SQL, sql } from 'drizzle-orm'
import type { AnyPgColumn } from 'drizzle-orm/pg-core'
import { calendars, slaClocks, tickets } from '../../db/schema/index.js'
import { businessMinutes } from '../../lib/business-time.js'
import type { Queryable } from '../../lib/context.js'
import { definitionOfRow } from '../calendars/calendars.service.js'
import type {
  KindFilterField,
  SlaClockSummary,
  SlaReadPort,
  SlaSortKey,
  TicketSlaSummary
} from '../tickets/tickets.ports.js'
import { percentOf, stateOf } from './clock-state.js'
import { CLOCK_STATES } from './sla-clocks.schemas.js'

type Target = 'response' | 'resolution'

/**
 * A ticket's SLA clock of one target holding `condition` (the clock row is unique per ticket,
 * agreement and target): an `exists` the planner may drive from `sla_clocks_due_idx` (agreement,
 * target, due_at) or from the ticket's `sla_clocks_ticket_uq` lookup.
 */
const clockOf =
  (target: Target) =>
  (condition: SQL): SQL =>
    sql`exists (select 1 from ${slaClocks} where ${slaClocks.ticketId} = ${tickets.id} and ${slaClocks.agreement} = 'sla' and ${slaClocks.target} = ${sql.raw(`'${target}'`)} and ${condition})`

/** The API state of a clock row in SQL, as `stateOf` tells it. */
const stateSql = sql`(case when ${slaClocks.breachedAt} is not null then 'breached' when ${slaClocks.state} = 'stopped' then 'met' else ${slaClocks.state} end)`

const timeField = (target: Target, column: AnyPgColumn): KindFilterField => ({
  sql: column,
  type: 'datetime',
  nullable: true,
  within: clockOf(target)
})
/** `sla.<target>DueAt`, `…BreachedAt`, `…StoppedAt`, `…StartedAt`: the SLA report links use them all. */
const timeFields = (target: Target): Record<string, KindFilterField> => ({
  [`sla.${target}DueAt`]: timeField(target, slaClocks.dueAt),
  [`sla.${target}BreachedAt`]: timeField(target, slaClocks.breachedAt),
  [`sla.${target}StoppedAt`]: timeField(target, slaClocks.stoppedAt),
  [`sla.${target}StartedAt`]: timeField(target, slaClocks.startedAt)
})
const stateField = (target: Target): KindFilterField => ({
  sql: stateSql,
  type: 'enum',
  values: CLOCK_STATES,
  nullable: true,
  within: clockOf(target)
})

/** Never null: a ticket without the clock, or whose clock is paused (no due time), sorts last ascending. */
const dueKey = (target: Target): SQL =>
  sql`coalesce((select ${slaClocks.dueAt} from ${slaClocks} where ${slaClocks.ticketId} = ${tickets.id} and ${slaClocks.agreement} = 'sla' and ${slaClocks.target} = ${sql.raw(`'${target}'`)}), 'infinity'::timestamptz)`

/**
 * The SLA clocks as the ticket core reads them (tickets.ports.ts SlaReadPort): the compact `sla`
 * object of a page of tickets in one query (the running clocks' calendars joined, so percentUsed
 * needs no further read), and the list filters and sort keys. `clock` is the clock service's time
 * source once wired (sla-clocks.manifest.ts), so tests moving it move these reads too.
 */
export function createSlaReadPort(): SlaReadPort & { clock: { now: () => Date } } {
  const port = {
    clock: { now: () => new Date() },

    async summariesOf(q: Queryable, ticketIds: readonly string[]): Promise<Map<string, TicketSlaSummary>> {
      const out = new Map<string, TicketSlaSummary>(ticketIds.map(id => [id, { response: null, resolution: null }]))
      if (ticketIds.length === 0) return out
      const rows = await q
        .select({
          ticketId: slaClocks.ticketId,
          target: slaClocks.target,
          state: slaClocks.state,
          dueAt: slaClocks.dueAt,
          breachedAt: slaClocks.breachedAt,
          elapsedMinutes: slaClocks.elapsedMinutes,
          runningSince: slaClocks.runningSince,
          targetMinutes: slaClocks.targetMinutes,
          calendar: calendars
        })
        .from(slaClocks)
        .leftJoin(calendars, and(eq(calendars.id, slaClocks.calendarId), eq(slaClocks.state, 'running')))
        .where(and(inArray(slaClocks.ticketId, [...new Set(ticketIds)]), eq(slaClocks.agreement, 'sla')))
      const now = port.clock.now()
      for (const r of rows) {
        let elapsed = r.elapsedMinutes
        if (r.state === 'running' && r.runningSince && r.calendar) {
          elapsed += Math.max(0, businessMinutes(definitionOfRow(r.calendar), r.runningSince, now))
        }
        const state = stateOf(r)
        const summary: SlaClockSummary = {
          state,
          dueAt: r.dueAt,
          breached: state === 'breached',
          percentUsed: percentOf(elapsed, r.targetMinutes)
        }
        const entry = out.get(r.ticketId)
        if (entry) entry[r.target] = summary
      }
      return out
    },

    filterFields: {
      ...timeFields('response'),
      ...timeFields('resolution'),
      'sla.responseState': stateField('response'),
      'sla.resolutionState': stateField('resolution'),
      'sla.breached': {
        sql: sql`exists (select 1 from ${slaClocks} where ${slaClocks.ticketId} = ${tickets.id} and ${slaClocks.agreement} = 'sla' and ${slaClocks.breachedAt} is not null)`,
        type: 'boolean'
      }
    } satisfies Record<string, KindFilterField>,

    sortKeys: {
      'sla.responseDueAt': dueKey('response'),
      'sla.resolutionDueAt': dueKey('resolution')
    } satisfies Record<SlaSortKey, SQL>
  }
  return port
}
