import { eq, sql } from 'drizzle-orm'
import { systemActor } from '../../auth/actor.js'
import { slaClocks } from '../../db/schema/index.js'
import type { QueueJob } from '../../jobs/job.js'
import { complete } from '../../jobs/queue.js'
import { recordAudit } from '../audit/audit.service.js'
import { appendOutbox } from '../notifications/outbox.js'
import { armTimer, SLA_TIMER_QUEUE, type TimerPayload } from './clock-timer.js'

/**
 * A clock's timer fell due: in one transaction, the clock (locked) is marked breached once, at its due
 * time, with an audit row on the ticket (its history) and the one `sla.breach` notice of that breach in
 * the outbox (the ticket audiences of the breach rules hear it; an escalation at 100 % tells only the
 * people it names), and the item is completed. A clock that was
 * paused, stopped, re-targeted or already breached since changes nothing; a lost lease rolls it back.
 */
export const slaTimerJob: QueueJob<TimerPayload> = {
  name: 'sla.timer',
  queue: SLA_TIMER_QUEUE,
  async run(ctx, item) {
    return ctx.db.transaction(async tx => {
      const [clock] = await tx.select().from(slaClocks).where(eq(slaClocks.id, item.payload.clockId)).for('update')
      const now = ctx.services.slaClocks.clock.now()
      const due = clock?.state === 'running' && !clock.breachedAt && clock.dueAt && clock.dueAt <= now
      if (clock && due) {
        await tx
          .update(slaClocks)
          .set({ breachedAt: clock.dueAt, updatedAt: sql`now()` })
          .where(eq(slaClocks.id, clock.id))
        await recordAudit(
          tx,
          { actor: systemActor('sla'), log: ctx.log, db: tx },
          {
            entityType: 'ticket',
            entityId: clock.ticketId,
            action: 'sla.breached',
            changes: [{ field: `${clock.agreement}.${clock.target}`, old: null, new: clock.dueAt!.toISOString() }],
            internal: clock.agreement === 'ola'
          }
        )
        await appendOutbox(tx, [
          {
            event: 'sla.breach',
            ticketId: clock.ticketId,
            payload: {
              agreement: clock.agreement,
              clock: clock.target,
              clockId: clock.id,
              run: clock.run,
              dueAt: clock.dueAt!.toISOString(),
              ...(clock.teamId ? { teamId: clock.teamId } : {})
            }
          }
        ])
      }
      const held = await complete(tx, item)
      // Claimed before its due time by the service's clock (a moved clock, skew): armed again, not dropped
      if (held && clock && !due) await armTimer(tx, clock)
      // Re-armed meanwhile (a new due time) or taken over: a breach written here must not commit
      if (!held && due) throw new Error('sla.timer: lease lost, the breach is left to the next holder')
      return { clockId: item.payload.clockId, breached: !!due }
    })
  }
}
