import { inArray, type SQL, sql } from 'drizzle-orm'
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

/** A clock row as the summaries read it (snake_case, raw). */
interface RawClock {
  ticket_id: string
  target: Target
  state: 'running' | 'paused' | 'stopped'
  due_at: Date | string | null
  breached_at: Date | string | null
  elapsed_minutes: number | string
  running_since: Date | string | null
  target_minutes: number | string
  calendar_id: string
}

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
      // Raw SQL: drizzle's builder cost more CPU than the query on the hot single read (one a GET)
      const found = await q.execute(sql`select ticket_id, target, state, due_at, breached_at, elapsed_minutes,
          running_since, target_minutes, calendar_id
        from sla_clocks where ticket_id = any(${sql.param([...new Set(ticketIds)])}::uuid[]) and agreement = 'sla'`)
      const raw = (found as unknown as { rows: RawClock[] }).rows
      const at = (v: Date | string | null) => (v === null ? null : new Date(v))
      // The running clocks' calendars only (elapsed as of now); most reads have none
      const calendarIds = [...new Set(raw.filter(r => r.state === 'running').map(r => r.calendar_id))]
      const byId = new Map(
        calendarIds.length
          ? (await q.select().from(calendars).where(inArray(calendars.id, calendarIds))).map(c => [c.id, c] as const)
          : []
      )
      const rows = raw.map(r => ({
        ticketId: r.ticket_id,
        target: r.target,
        state: r.state,
        dueAt: at(r.due_at),
        breachedAt: at(r.breached_at),
        elapsedMinutes: Number(r.elapsed_minutes),
        runningSince: at(r.running_since),
        targetMinutes: Number(r.target_minutes),
        calendar: r.state === 'running' ? (byId.get(r.calendar_id) ?? null) : null
      }))
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
