import { and, eq, lt, sql } from 'drizzle-orm'
import type { Actor } from '../../auth/actor.js'
import { eventAlerts, monitoringEvents, tickets } from '../../db/schema/index.js'
import { type Ctx, withTx } from '../../lib/context.js'
import type { EngineDeps, EventEngine } from './events.engine.js'

const SETTLE_BATCH = 200
const PURGE_CHUNK = 5000
const PURGE_MAX = 200_000

/**
 * What the scheduler does for events: settles flapping alerts that have been quiet for a whole flap
 * window (a held recovery then resolves its incident), and removes events past their retention.
 */
export function createEventMaintenance(deps: EngineDeps, engine: EventEngine) {
  const { db } = deps

  /** Acts as the integration account that raised the incident, with the pipeline's rights. */
  const actingAs = <C extends Ctx>(ctx: C, userId: string): C => ({
    ...ctx,
    actor: { ...ctx.actor, kind: 'system', id: userId, username: 'events:flap-settle' } as Actor
  })

  return {
    async settleFlapping(ctx: Ctx) {
      const s = await deps.settings.current()
      const wf = await deps.workflows.get('incident')
      const quietSince = new Date(Date.now() - s.flapWindowMinutes * 60_000)
      const candidates = await db
        .select({ id: eventAlerts.id, source: eventAlerts.source, dedupKey: eventAlerts.dedupKey })
        .from(eventAlerts)
        .where(and(eq(eventAlerts.flapping, true), lt(eventAlerts.lastChangeAt, quietSince)))
        .limit(SETTLE_BATCH)
      let resolved = 0
      let settled = 0
      for (const c of candidates) {
        await withTx(ctx, async (tx, ctx) => {
          await engine.lockKeys(tx, [engine.keyOf(c.source, c.dedupKey)])
          const [alert] = await tx.select().from(eventAlerts).where(eq(eventAlerts.id, c.id))
          if (!alert?.flapping || alert.lastChangeAt >= quietSince) return
          const [incident] = await tx
            .select({ requesterId: tickets.requesterId })
            .from(tickets)
            .where(eq(tickets.id, alert.incidentId))
          const acting = actingAs(ctx, incident!.requesterId)
          alert.flapping = false
          settled++
          if (alert.state === 'open' && alert.lastStatus === 'resolved') {
            alert.state = 'resolved'
            alert.endedAt = alert.lastChangeAt
            const why = `Flapping settled: ${alert.dedupKey} has stayed recovered since ${alert.lastChangeAt.toISOString()}`
            if (s.resolveAction === 'resolve' && (await engine.resolveIncident(acting, wf, alert.incidentId, why))) {
              resolved++
            } else {
              await engine.noteOn(acting, alert.incidentId, why)
            }
          } else if (alert.state === 'open') {
            await engine.noteOn(
              acting,
              alert.incidentId,
              `Flapping settled: ${alert.dedupKey} has stayed firing since ${alert.lastChangeAt.toISOString()}`
            )
          }
          await engine.saveAlerts(tx, [alert])
        })
      }
      return { settled, resolved }
    },

    /** Deletes events older than the retention, in chunks (incidents and alerts stay). */
    async purgeEvents() {
      const s = await deps.settings.current()
      let purged = 0
      while (purged < PURGE_MAX) {
        const gone = await db.execute(sql`
          delete from ${monitoringEvents} where id in (
            select id from ${monitoringEvents}
            where received_at < now() - make_interval(days => ${s.retentionDays})
            limit ${PURGE_CHUNK})`)
        const n =
          (gone as unknown as { rowCount?: number; affectedRows?: number }).rowCount ??
          (gone as unknown as { affectedRows?: number }).affectedRows ??
          0
        purged += n
        if (n < PURGE_CHUNK) break
      }
      return { purged }
    }
  }
}
