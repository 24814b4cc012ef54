import { inArray } from 'drizzle-orm'
import { slas } from '../../db/schema/index.js'
import type { BatchQueueJob } from '../../jobs/job.js'
import { completeMany, defineQueue, holdMany } from '../../jobs/queue.js'
import type { EscalationInput } from '../services/slas.schemas.js'
import type { DueThreshold } from './escalations.apply.js'
import { ESCALATION_ACTOR } from './escalations.service.js'

/** A threshold armed for its instant: which clock run and which of its SLA's thresholds. */
export type ThresholdTimer = Omit<DueThreshold, 'actions'>

/** Thresholds due at their instant, one pending per clock (key = clock id). */
export const escalationQueue = defineQueue<ThresholdTimer>('sla.escalation')

/** Arms (or moves) the clock's next threshold, in the caller's transaction. */
export const armThreshold = (q: Parameters<typeof escalationQueue.enqueue>[0], timer: ThresholdTimer, dueAt: Date) =>
  escalationQueue.enqueue(q, { key: timer.clockId, payload: timer, dueAt, replace: true })

export const ESCALATION_BATCH = 250

/**
 * Applies due thresholds a batch at a time, each batch in one transaction: the rows still held are
 * locked, each threshold's actions read from its SLA as configured now, applied once per clock run
 * (escalations.apply.ts: ticket changes through the writer, history, outbox), and the rows settled
 * with it. A scheduler killed mid-batch commits nothing: the rows come back after the lease; a
 * threshold applied by a batch that committed is never applied again (the firing's unique key).
 */
export const escalationJob: BatchQueueJob<ThresholdTimer> = {
  name: 'sla.escalate',
  queue: escalationQueue.name,
  batchSize: ESCALATION_BATCH,
  timeoutMs: 120_000,
  async runBatch(ctx, items) {
    return ctx.db.transaction(async tx => {
      const held = await holdMany(tx, items)
      const live = items.filter(i => held.has(i.id))
      const slaIds = [...new Set(live.flatMap(i => (i.payload.slaId ? [i.payload.slaId] : [])))]
      const configured = new Map(
        slaIds.length
          ? (
              await tx.select({ id: slas.id, escalations: slas.escalations }).from(slas).where(inArray(slas.id, slaIds))
            ).map(s => [s.id, s.escalations as EscalationInput[]] as const)
          : []
      )
      const due: DueThreshold[] = live.flatMap(i => {
        const p = i.payload
        const e = configured.get(p.slaId ?? '')?.find(x => x.clock === p.clock && x.percent === p.percent)
        // A threshold removed from its SLA since it was armed does nothing
        return e ? [{ ...p, actions: e.actions }] : []
      })
      const fired = await ctx.services.slaEscalations.apply({ actor: ESCALATION_ACTOR, log: ctx.log, db: tx }, due)
      await completeMany(tx, live)
      return { claimed: items.length, held: live.length, fired: fired.length }
    })
  }
}
