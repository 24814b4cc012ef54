import { and, eq } from 'drizzle-orm'
import { systemActor } from '../../auth/actor.js'
import { slaClocks } from '../../db/schema/index.js'
import type { Deps, Queryable, Tx, TxCtx } from '../../lib/context.js'
import type { TicketService } from '../tickets/tickets.service.js'
import { applyThresholds, type DueThreshold, firingsOf } from './escalations.apply.js'
import { type ArmableClock, type ArmHints, armThresholds, freshThresholdItems } from './escalations.arming.js'

/** Who the scheduler's escalations are by, in audit rows and change records. */
export const ESCALATION_ACTOR = systemActor('sla-escalations')

/**
 * Escalations: applying the thresholds an SLA clock has reached (each once per clock run) and reading
 * what fired. The clocks call `apply` from their timer, inside the transaction that settles it.
 */
export function createEscalationService(deps: Deps & { tickets: TicketService }) {
  const { db, log, tickets } = deps
  /**
   * The running clocks of an SLA whose thresholds changed, re-armed set-wise in the caller's
   * transaction: each one's next threshold under the new configuration (a new 50 % fires for tickets
   * already running; a removed one is disarmed). Locked by id, so a clock write in flight either
   * finished before (and is re-armed here) or waits and arms from the new thresholds.
   */
  async function rearmSla(tx: Tx, slaId: string) {
    const running = await tx
      .select()
      .from(slaClocks)
      .where(and(eq(slaClocks.slaId, slaId), eq(slaClocks.agreement, 'sla'), eq(slaClocks.state, 'running')))
      .orderBy(slaClocks.id)
      .for('update')
    return armThresholds(tx, running)
  }
  return {
    rearmSla,
    /** In the caller's transaction (its actor is the one audited). */
    apply: (ctx: TxCtx, due: readonly DueThreshold[], now?: Date) => applyThresholds(ctx, tickets.writer, due, now),
    /**
     * Arms each SLA clock's next threshold of its current run (or disarms it), in q's transaction:
     * the clock service calls it for every clock it writes (start, pause, resume, re-target, reopen,
     * stop), the escalation job after firing. Hints spare the queries the caller can answer.
     */
    arm: (q: Queryable, clocks: readonly ArmableClock[], hints?: ArmHints & { fresh?: ReadonlySet<string> }) =>
      armThresholds(q, clocks, hints),
    /** The items `arm` would write for clocks not yet written (a create statement writes them itself). */
    freshItems: (q: Queryable, clocks: readonly ArmableClock[], hints?: ArmHints) =>
      freshThresholdItems(q, clocks, hints),
    /** In a transaction of its own, as the system (tests, tools). */
    applyNow: (due: readonly DueThreshold[]) =>
      db.transaction(tx => applyThresholds({ actor: ESCALATION_ACTOR, log, db: tx }, tickets.writer, due)),
    firingsOf: (q: Queryable, clockIds: readonly string[]) => firingsOf(q, clockIds)
  }
}
export type EscalationService = ReturnType<typeof createEscalationService>
