import { systemActor } from '../../auth/actor.js'
import type { Deps, Queryable, TxCtx } from '../../lib/context.js'
import type { TicketService } from '../tickets/tickets.service.js'
import { applyThresholds, type DueThreshold, firingsOf } from './escalations.apply.js'

/** Who the scheduler's escalations are by, in audit rows and change records. */
export const ESCALATION_ACTOR = systemActor('sla-escalations')

/**
 * Escalations: applying the thresholds an SLA clock has reached (each once per clock run) and reading
 * what fired. The clocks call `apply` from their timer, inside the transaction that settles it.
 */
export function createEscalationService(deps: Deps & { tickets: TicketService }) {
  const { db, log, tickets } = deps
  return {
    /** In the caller's transaction (its actor is the one audited). */
    apply: (ctx: TxCtx, due: readonly DueThreshold[]) => applyThresholds(ctx, tickets.writer, due),
    /** In a transaction of its own, as the system (tests, tools). */
    applyNow: (due: readonly DueThreshold[]) =>
      db.transaction(tx => applyThresholds({ actor: ESCALATION_ACTOR, log, db: tx }, tickets.writer, due)),
    firingsOf: (q: Queryable, clockIds: readonly string[]) => firingsOf(q, clockIds)
  }
}
export type EscalationService = ReturnType<typeof createEscalationService>
