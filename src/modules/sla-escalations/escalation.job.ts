import { inArray } from 'drizzle-orm'
import { slaClocks, slas } from '../../db/schema/index.js'
import type { BatchQueueJob } from '../../jobs/job.js'
import { completeMany, defineQueue, holdMany } from '../../jobs/queue.js'
import { loadDefinitions } from '../calendars/calendars.service.js'
import type { EscalationInput } from '../services/slas.schemas.js'
import type { DueThreshold } from './escalations.apply.js'
import { armThresholds, ESCALATION_QUEUE, elapsedAt, reaches, type ThresholdTimer } from './escalations.arming.js'
import { ESCALATION_ACTOR } from './escalations.service.js'

export type { ThresholdTimer } from './escalations.arming.js'

/** Thresholds due at their instant, one pending per clock (key = clock id). */
export const escalationQueue = defineQueue<ThresholdTimer>(ESCALATION_QUEUE)

/** Arms (or moves) the clock's next threshold, in the caller's transaction. */
export const armThreshold = (q: Parameters<typeof escalationQueue.enqueue>[0], timer: ThresholdTimer, dueAt: Date) =>
  escalationQueue.enqueue(q, { key: timer.clockId, payload: timer, dueAt, replace: true })

export const ESCALATION_BATCH = 250

/**
 * Applies due thresholds a batch at a time, each batch in one transaction: the rows still held are
 * locked, then their clocks; a threshold fires only while its clock is in the same run, running, and
 * has really used that percent of its target as of the service's now (a stale row does nothing, an
 * early one is armed again for its instant). Each threshold's actions are read from its SLA as
 * configured now and applied once per clock run (escalations.apply.ts: ticket changes through the
 * writer, history, outbox); the rows are settled and each clock's next threshold armed, all in that
 * transaction. A scheduler killed mid-batch commits nothing: the rows come back after the lease; a
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
      if (live.length === 0) return { claimed: items.length, held: 0, fired: 0 }
      const clockIds = [...new Set(live.map(i => i.payload.clockId))].sort()
      const locked = await tx
        .select()
        .from(slaClocks)
        .where(inArray(slaClocks.id, clockIds))
        .orderBy(slaClocks.id)
        .for('update')
      const clocks = new Map(locked.map(c => [c.id, c] as const))
      const slaIds = [...new Set(locked.flatMap(c => (c.slaId ? [c.slaId] : [])))]
      const configured = new Map(
        slaIds.length
          ? (
              await tx.select({ id: slas.id, escalations: slas.escalations }).from(slas).where(inArray(slas.id, slaIds))
            ).map(s => [s.id, s.escalations as EscalationInput[]] as const)
          : []
      )
      const calendars = await loadDefinitions(tx, [...new Set(locked.map(c => c.calendarId))])
      const now = ctx.services.slaClocks.clock.now()
      let stale = 0
      let early = 0
      const due: DueThreshold[] = []
      for (const i of live) {
        const p = i.payload
        const c = clocks.get(p.clockId)
        const e = c && configured.get(c.slaId ?? '')?.find(x => x.clock === c.target && x.percent === p.percent)
        // Gone, restarted or re-targeted, paused or stopped since it was armed, or a threshold removed
        // from its SLA since: this row does nothing (the clock's next threshold is armed below)
        if (!c || !e || c.run !== p.run || c.state !== 'running' || c.agreement !== 'sla') stale++
        else if (!reaches(elapsedAt(c, calendars.get(c.calendarId), now), p.percent, c.targetMinutes)) early++
        else
          due.push({
            ...p,
            clock: c.target as DueThreshold['clock'],
            ticketId: c.ticketId,
            slaId: c.slaId,
            actions: e.actions
          })
      }
      const fired = await ctx.services.slaEscalations.apply({ actor: ESCALATION_ACTOR, log: ctx.log, db: tx }, due, now)
      const settled = await completeMany(tx, live)
      // Each clock's next threshold, from the clock as it stands now (an action may have re-targeted it).
      // A clock whose row just went has nothing armed to disarm (one re-armed by the clocks meanwhile
      // kept its row: its lease token changed)
      const current = await tx.select().from(slaClocks).where(inArray(slaClocks.id, clockIds))
      const emptied = new Set(live.filter(i => settled.has(i.id)).map(i => i.payload.clockId))
      await armThresholds(tx, current, { thresholds: configured, calendars, fresh: emptied })
      return { claimed: items.length, held: live.length, fired: fired.length, stale, early }
    })
  }
}
