import { and, eq, inArray, isNull, sql } from 'drizzle-orm'
import { workItems } from '../../db/schema/index.js'
import { DEFAULT_MAX_ATTEMPTS, enqueue } from '../../jobs/queue.js'
import type { Queryable } from '../../lib/context.js'
import { uuidv7 } from '../../lib/ids.js'
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

type Armable = Pick<ClockRow, 'id' | 'run' | 'state' | 'dueAt' | 'breachedAt'>

/**
 * `armTimer` for many clocks in two statements at most: one upsert of the live items of the clocks
 * that have something to fire, one delete of the others' (a create's clocks: one round trip).
 */
export async function armTimers(q: Queryable, clocks: readonly Armable[]): Promise<void> {
  const armed = clocks.flatMap(c => {
    const at = nextFireAt(c)
    return at ? [{ c, at }] : []
  })
  const disarmed = clocks.filter(c => !nextFireAt(c)).map(c => c.id)
  if (armed.length) {
    await q
      .insert(workItems)
      .values(
        armed.map(({ c, at }) => ({
          id: uuidv7(),
          queue: SLA_TIMER_QUEUE,
          key: c.id,
          payload: { clockId: c.id, run: c.run, dueAt: at.toISOString() } satisfies TimerPayload,
          dueAt: at,
          maxAttempts: DEFAULT_MAX_ATTEMPTS
        }))
      )
      .onConflictDoUpdate({
        target: [workItems.queue, workItems.key],
        targetWhere: sql`dead_at IS NULL`,
        set: {
          payload: sql`excluded.payload`,
          dueAt: sql`excluded.due_at`,
          maxAttempts: sql`excluded.max_attempts`,
          attempts: 0,
          lastError: null,
          leaseOwner: null,
          leaseToken: null,
          leaseExpiresAt: null,
          updatedAt: sql`now()`
        }
      })
  }
  if (disarmed.length) {
    await q
      .delete(workItems)
      .where(and(eq(workItems.queue, SLA_TIMER_QUEUE), inArray(workItems.key, disarmed), isNull(workItems.deadAt)))
  }
}
