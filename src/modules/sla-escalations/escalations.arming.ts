import { inArray, sql } from 'drizzle-orm'
import { type slaClocks, slaEscalationFirings, slas } from '../../db/schema/index.js'
import { armMany, disarmMany } from '../../jobs/queue.js'
import { type BusinessCalendar, businessMinutes, deadline } from '../../lib/business-time.js'
import type { Queryable } from '../../lib/context.js'
import { sqlArray } from '../../lib/sql-array.js'
import { loadDefinitions } from '../calendars/calendars.service.js'
import type { EscalationInput } from '../services/slas.schemas.js'

/** The queue of armed thresholds: one live item per SLA clock (key = clock id). */
export const ESCALATION_QUEUE = 'sla.escalation'

type StoredClock = typeof slaClocks.$inferSelect

/** What arming reads of a clock (the row as the clock service writes it). */
export type ArmableClock = Pick<
  StoredClock,
  | 'id'
  | 'ticketId'
  | 'agreement'
  | 'target'
  | 'slaId'
  | 'calendarId'
  | 'targetMinutes'
  | 'run'
  | 'state'
  | 'runningSince'
  | 'elapsedMinutes'
  | 'escalations'
>

/** An armed threshold's payload: which clock run and which of its SLA's thresholds. */
export interface ThresholdTimer {
  clockId: string
  run: number
  clock: 'response' | 'resolution'
  ticketId: string
  slaId: string | null
  percent: number
}

/**
 * What the clock service keeps on a re-targeted run (`sla_clocks.escalations`): the run it follows
 * and the business minutes it started with. A threshold that had fired in that run and is already
 * reached under the new target when the run starts does not apply anew (it was told; a raise of
 * priority at 75 % must not re-fire itself down to P1); every other threshold of the new target does.
 */
export interface RunStart {
  run: number
  retargetedFrom: number
  elapsedAtStart: number
}

export const runStartOf = (c: Pick<ArmableClock, 'run' | 'escalations'>): RunStart | null => {
  const list = Array.isArray(c.escalations) ? (c.escalations as RunStart[]) : []
  return list.find(s => s && s.run === c.run && typeof s.retargetedFrom === 'number') ?? null
}

/** Hints that save queries when the caller knows already (the create path knows all three). */
export interface ArmHints {
  /** The thresholds of these SLAs (`slas.escalations`). */
  thresholds?: ReadonlyMap<string, readonly EscalationInput[]>
  /** These clocks have never fired (fresh ones): no firings to read. */
  neverFired?: boolean
  calendars?: ReadonlyMap<string, BusinessCalendar>
}

/** Whether `elapsed` business minutes reach `percent` of `target` (compared in whole milliseconds). */
export const reaches = (elapsed: number, percent: number, target: number) =>
  Math.round(elapsed * 60_000) >= Math.round(percent * target * 600)

/** Business minutes of this run as of `now`, on a loaded calendar. */
export function elapsedAt(c: ArmableClock, cal: BusinessCalendar | undefined, now: Date): number {
  if (c.state !== 'running' || !c.runningSince || !cal) return c.elapsedMinutes
  return c.elapsedMinutes + Math.max(0, businessMinutes(cal, c.runningSince, now))
}

export interface Armed {
  timer: ThresholdTimer
  dueAt: Date
}

/**
 * The next threshold of each clock's current run: the lowest of its SLA's thresholds on this clock
 * (response or resolution) not fired in this run (nor carried over a re-target, see RunStart), due
 * when percent × target business minutes have been used, counted on the clock's calendar from its
 * running segment. Clocks not running, OLA clocks and clocks with nothing left to fire get none.
 */
export async function planThresholds(
  q: Queryable,
  clocks: readonly ArmableClock[],
  hints: ArmHints = {}
): Promise<Map<string, Armed | null>> {
  const out = new Map<string, Armed | null>()
  const sla = clocks.filter(c => c.agreement === 'sla')
  for (const c of sla) out.set(c.id, null)
  const running = sla.filter(c => c.state === 'running' && c.runningSince && c.slaId)
  if (running.length === 0) return out

  const thresholds = new Map(hints.thresholds ?? [])
  const missing = [...new Set(running.map(c => c.slaId!))].filter(id => !thresholds.has(id))
  if (missing.length) {
    const rows = await q
      .select({ id: slas.id, escalations: slas.escalations })
      .from(slas)
      .where(inArray(slas.id, missing))
    for (const r of rows) thresholds.set(r.id, r.escalations as EscalationInput[])
  }
  const percentsOf = (c: ArmableClock) =>
    (thresholds.get(c.slaId!) ?? [])
      .filter(e => e.clock === c.target)
      .map(e => e.percent)
      .sort((a, b) => a - b)
  const candidates = running.filter(c => percentsOf(c).length > 0)
  if (candidates.length === 0) return out

  // Fired: `clockId|run|percent` of the runs that matter (this one, and the one a re-target follows)
  const fired = new Set<string>()
  if (!hints.neverFired) {
    const rows = await q
      .select({
        clockId: slaEscalationFirings.clockId,
        run: slaEscalationFirings.run,
        percent: slaEscalationFirings.percent
      })
      .from(slaEscalationFirings)
      // One array parameter: an SLA edit re-arms every running clock of it, however many
      .where(
        sql`${slaEscalationFirings.clockId} = any(${sqlArray(
          candidates.map(c => c.id),
          'uuid'
        )})`
      )
    for (const r of rows) fired.add(`${r.clockId}|${r.run}|${r.percent}`)
  }

  const calendars = new Map(hints.calendars ?? [])
  const needCalendars = [...new Set(candidates.map(c => c.calendarId))].filter(id => !calendars.has(id))
  if (needCalendars.length) for (const [id, cal] of await loadDefinitions(q, needCalendars)) calendars.set(id, cal)

  for (const c of candidates) {
    const start = runStartOf(c)
    const next = percentsOf(c).find(p => {
      if (fired.has(`${c.id}|${c.run}|${p}`)) return false
      const carried =
        start && fired.has(`${c.id}|${start.retargetedFrom}|${p}`) && reaches(start.elapsedAtStart, p, c.targetMinutes)
      return !carried
    })
    const cal = calendars.get(c.calendarId)
    if (next === undefined || !cal) continue
    const dueAt = deadline(cal, c.runningSince!, (next * c.targetMinutes) / 100 - c.elapsedMinutes)
    if (!dueAt) continue
    out.set(c.id, {
      dueAt,
      timer: {
        clockId: c.id,
        run: c.run,
        clock: c.target as ThresholdTimer['clock'],
        ticketId: c.ticketId,
        slaId: c.slaId,
        percent: next
      }
    })
  }
  return out
}

/**
 * Arms the next threshold of each SLA clock in q's transaction (one `sla.escalation` item per clock,
 * replaced), and disarms the clocks with none: one statement for the armed, one for the rest.
 * `fresh`: ids of clocks just created (nothing armed yet, so nothing to disarm).
 */
export async function armThresholds(
  q: Queryable,
  clocks: readonly ArmableClock[],
  hints: ArmHints & { fresh?: ReadonlySet<string> } = {}
): Promise<Map<string, Armed | null>> {
  const plan = await planThresholds(q, clocks, hints)
  const arm: { key: string; payload: ThresholdTimer; dueAt: Date }[] = []
  const disarm: string[] = []
  for (const [id, armed] of plan) {
    if (armed) arm.push({ key: id, payload: armed.timer, dueAt: armed.dueAt })
    else if (!hints.fresh?.has(id)) disarm.push(id)
  }
  await armMany(q, ESCALATION_QUEUE, arm)
  await disarmMany(q, ESCALATION_QUEUE, disarm)
  return plan
}

/** What `armThresholds` writes for clocks just created (nothing armed to replace), as work items, unwritten. */
export async function freshThresholdItems(
  q: Queryable,
  clocks: readonly ArmableClock[],
  hints: ArmHints = {}
): Promise<{ queue: string; key: string; payload: ThresholdTimer; dueAt: Date }[]> {
  const plan = await planThresholds(q, clocks, { ...hints, neverFired: true })
  return [...plan].flatMap(([key, armed]) =>
    armed ? [{ queue: ESCALATION_QUEUE, key, payload: armed.timer, dueAt: armed.dueAt }] : []
  )
}
