import { type SQL, sql } from 'drizzle-orm'
import type { AnyPgColumn } from 'drizzle-orm/pg-core'
import { slaClocks, tickets } from '../../db/schema/index.js'
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
 * A ticket's SLA clocks as one JSON array, a correlated subquery over `tickets` (one lookup on
 * `sla_clocks_ticket_uq`): [target, state, due_at, breached_at, elapsed_minutes, running_since,
 * target_minutes, calendar] per clock, the calendar (time zone, hours, holidays, exceptions) joined for
 * running clocks only, whose elapsed time counts to now. Ticket reads select it with their row, so the
 * `sla` object costs no round trip. No bound parameter: it is spliced into prebuilt selects. The ticket
 * is named in full (drizzle leaves the table off columns of a one-table select).
 */
const clocksJson = sql`(select coalesce(json_agg(json_build_array(c.target, c.state, c.due_at, c.breached_at,
    c.elapsed_minutes, c.running_since, c.target_minutes,
    case when c.state = 'running' then json_build_array(k.time_zone, k.hours, k.holidays, k.exceptions) end)), '[]'::json)
  from sla_clocks c left join calendars k on k.id = c.calendar_id and c.state = 'running'
  where c.ticket_id = "tickets"."id" and c.agreement = 'sla')`

/** One clock as `clocksJson` selects it. */
type RawClock = [
  target: Target,
  state: 'running' | 'paused' | 'stopped',
  dueAt: string | null,
  breachedAt: string | null,
  elapsedMinutes: number | string,
  runningSince: string | null,
  targetMinutes: number | string,
  calendar: [timeZone: string, hours: unknown, holidays: unknown, exceptions: unknown] | null
]

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

    clocksSql: clocksJson,

    summaryOf(raw: unknown): TicketSlaSummary {
      const out: TicketSlaSummary = { response: null, resolution: null }
      const clocks = (typeof raw === 'string' ? JSON.parse(raw) : (raw ?? [])) as RawClock[]
      if (clocks.length === 0) return out
      const now = port.clock.now()
      const at = (v: string | null) => (v === null ? null : new Date(v))
      for (const [target, state, due, breached, elapsedMinutes, since, targetMinutes, calendar] of clocks) {
        let elapsed = Number(elapsedMinutes)
        const runningSince = at(since)
        if (state === 'running' && runningSince && calendar) {
          const [timeZone, hours, holidays, exceptions] = calendar
          const definition = definitionOfRow({ timeZone, hours, holidays, exceptions })
          elapsed += Math.max(0, businessMinutes(definition, runningSince, now))
        }
        const breachedAt = at(breached)
        const apiState = stateOf({ state, breachedAt })
        out[target] = {
          state: apiState,
          dueAt: at(due),
          breached: apiState === 'breached',
          percentUsed: percentOf(elapsed, Number(targetMinutes))
        } satisfies SlaClockSummary
      }
      return out
    },

    async summariesOf(q: Queryable, ticketIds: readonly string[]): Promise<Map<string, TicketSlaSummary>> {
      const out = new Map<string, TicketSlaSummary>(ticketIds.map(id => [id, { response: null, resolution: null }]))
      if (ticketIds.length === 0) return out
      // Raw SQL: drizzle's builder cost more CPU than the query on hot reads
      const found = await q.execute(sql`select ${tickets.id} as id, ${clocksJson} as clocks from ${tickets}
        where ${tickets.id} = any(${sql.param([...new Set(ticketIds)])}::uuid[])`)
      for (const r of (found as unknown as { rows: { id: string; clocks: unknown }[] }).rows) {
        out.set(r.id, port.summaryOf(r.clocks))
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
