import { eq } from 'drizzle-orm'
import { changeDetails } from '../../db/schema/index.js'
import { appendOutbox } from '../notifications/outbox.js'
import type { TicketSubscriber } from '../tickets/tickets.writer.js'
import { bundledChanges, isReady, readinessOf } from './releases.readiness.js'

/**
 * A bundled change's transition that makes its release ready (every change ready, at least one)
 * tells so: `release.ready` on the release, in the transition's transaction. Only the transition that
 * completes the set tells; a later one of an already ready release does not.
 */
export function releaseEventsSubscriber(maxAttempts: number): TicketSubscriber {
  return {
    name: 'releases.events',
    types: ['transitioned'],
    async onChange(ctx, change) {
      if (change.kind !== 'change' || !change.before || change.before.status === change.after.status) return
      // Ready by status before this move (an approval deciding in this transaction does not count)
      if (isReady(change.before.status, null)) return
      const [d] = await ctx.db
        .select({ releaseId: changeDetails.releaseId })
        .from(changeDetails)
        .where(eq(changeDetails.ticketId, change.ticketId))
      if (!d?.releaseId) return
      const now = await bundledChanges(ctx.db, [d.releaseId])
      const mine = now.find(c => c.changeId === change.ticketId)
      if (!mine?.ready) return
      // The release was not ready while this change was not: ready now means this move completed it
      const before = now.map(c => (c.changeId === change.ticketId ? { ...c, ready: false } : c))
      if (!readinessOf(now).ready || readinessOf(before).ready) return
      await appendOutbox(
        ctx.db,
        [
          {
            event: 'release.ready',
            ticketId: d.releaseId,
            actorId: change.actor.id,
            payload: { changeIds: now.map(c => c.changeId), completedBy: change.ticketId }
          }
        ],
        maxAttempts
      )
    }
  }
}
