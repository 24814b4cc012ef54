import { and, eq, isNull } from 'drizzle-orm'
import { workItems } from '../../db/schema/index.js'
import { armMany, disarmMany, enqueue } from '../../jobs/queue.js'
import type { Queryable } from '../../lib/context.js'
import type { ClockRow } from './clock-state.js'

/** The queue of clock timers: one live item per running clock, keyed by the clock's id. */
export const SLA_TIMER_QUEUE = 'sla.timer'

/** What a timer item carries: the clock, and the run and due time it was armed for. */
export interface TimerPayload {
  clockId: string
  run: number
  dueAt: string
}

/**
 * When the clock's timer should fire next, or null for none: its due time while it runs and has not
 * breached. (The escalation code extends this to the next threshold of the run.)
 */
export function nextFireAt(clock: Pick<ClockRow, 'state' | 'dueAt' | 'breachedAt'>): Date | null {
  if (clock.state !== 'running' || clock.breachedAt || !clock.dueAt) return null
  return clock.dueAt
}

/**
 * Arms (or re-arms) the clock's timer in q's transaction: one live `sla.timer` item under the clock's
 * id, due at `nextFireAt`; removes it when there is nothing to fire (paused, stopped, breached).
 */
export async function armTimer(
  q: Queryable,
  clock: Pick<ClockRow, 'id' | 'run' | 'state' | 'dueAt' | 'breachedAt'>
): Promise<void> {
  const at = nextFireAt(clock)
  if (!at) return disarmTimer(q, clock.id)
  await enqueue<TimerPayload>(q, {
    queue: SLA_TIMER_QUEUE,
    key: clock.id,
    replace: true,
    dueAt: at,
    payload: { clockId: clock.id, run: clock.run, dueAt: at.toISOString() }
  })
}

/** Removes the clock's live timer item (a worker holding it then fails to complete it and changes nothing). */
export async function disarmTimer(q: Queryable, clockId: string): Promise<void> {
  await q
    .delete(workItems)
    .where(and(eq(workItems.queue, SLA_TIMER_QUEUE), eq(workItems.key, clockId), isNull(workItems.deadAt)))
}

/**
 * `armTimer` for many clocks in two statements: the ones with something to fire armed at once, the
 * rest disarmed (`fresh`: ids of clocks just inserted, with nothing armed to remove).
 */
export async function armTimers(
  q: Queryable,
  clocks: readonly Pick<ClockRow, 'id' | 'run' | 'state' | 'dueAt' | 'breachedAt'>[],
  fresh: ReadonlySet<string> = new Set()
): Promise<void> {
  const arm: { key: string; payload: TimerPayload; dueAt: Date }[] = []
  const disarm: string[] = []
  for (const c of clocks) {
    const at = nextFireAt(c)
    if (at) arm.push({ key: c.id, dueAt: at, payload: { clockId: c.id, run: c.run, dueAt: at.toISOString() } })
    else if (!fresh.has(c.id)) disarm.push(c.id)
  }
  await armMany(q, SLA_TIMER_QUEUE, arm)
  await disarmMany(q, SLA_TIMER_QUEUE, disarm)
}
