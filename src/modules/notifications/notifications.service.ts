import { and, desc, eq, inArray, isNotNull, isNull, lt, type SQL, sql } from 'drizzle-orm'
import { authorize } from '../../auth/policy.js'
import { notificationDeliveries, notificationOutbox } from '../../db/schema/index.js'
import { type Ctx, type Deps, type Queryable, withTx } from '../../lib/context.js'
import { decodeCursor, encodeCursor, pageOf } from '../../lib/cursor.js'
import { badRequest, conflict, notFound } from '../../lib/errors.js'
import { recordAudit } from '../audit/audit.service.js'
import type { CiLinkPort } from '../tickets/tickets.ports.js'
import { createDispatcher, type Dispatcher } from './dispatcher.js'
import { createMailer, type Mailer } from './mail.js'
import type { NotificationListInput } from './notifications.schemas.js'
import { appendOutbox, type OutboxEntry } from './outbox.js'
import { createSmsSender } from './sms.js'

type OutboxRow = typeof notificationOutbox.$inferSelect
type DeliveryRow = typeof notificationDeliveries.$inferSelect

export type NotificationState = 'pending' | 'sent' | 'dead'

const stateOf = (r: OutboxRow): NotificationState => (r.deadAt ? 'dead' : r.sentAt ? 'sent' : 'pending')

function deliveryView(d: DeliveryRow) {
  return {
    id: d.id,
    channel: d.channel,
    recipient: d.recipient,
    userId: d.userId,
    status: d.status,
    attempt: d.attempt,
    messageId: d.messageId,
    providerMessageId: d.providerMessageId,
    error: d.error,
    createdAt: d.createdAt
  }
}

function notificationView(r: OutboxRow, deliveries: DeliveryRow[]) {
  return {
    id: r.id,
    event: r.event,
    ticketId: r.ticketId,
    actorId: r.actorId,
    state: stateOf(r),
    attempts: r.attempts,
    maxAttempts: r.maxAttempts,
    availableAt: r.availableAt,
    lastError: r.lastError,
    sentAt: r.sentAt,
    deadAt: r.deadAt,
    createdAt: r.createdAt,
    deliveries: deliveries.map(deliveryView)
  }
}
export type NotificationView = ReturnType<typeof notificationView>

const SORT = 'notifications:-id'

/**
 * Notifications for admins: the outbox rows with their delivery log (newest first, keyset pages),
 * dead letters, replay, and the backlog figures; plus the `append` every module's writes use and the
 * dispatcher the scheduler runs.
 */
export function createNotificationService(deps: Deps, ports: { ciLinks?: CiLinkPort } = {}) {
  const { db, config } = deps
  let channels: { mailer: Mailer | null } | null = null
  let dispatcher: Dispatcher | null = null

  /** Built on first use: an API process that never dispatches never opens an SMTP pool. */
  function theDispatcher(): Dispatcher {
    if (!dispatcher) {
      const mailer = createMailer(config)
      channels = { mailer }
      dispatcher = createDispatcher(deps, { mailer, sms: createSmsSender(config, mailer), ...ports })
    }
    return dispatcher
  }

  async function withDeliveries(q: Queryable, rows: OutboxRow[]) {
    const ids = rows.map(r => r.id)
    const found = ids.length
      ? await q
          .select()
          .from(notificationDeliveries)
          .where(inArray(notificationDeliveries.outboxId, ids))
          .orderBy(notificationDeliveries.createdAt, notificationDeliveries.id)
      : []
    return rows.map(r =>
      notificationView(
        r,
        found.filter(d => d.outboxId === r.id)
      )
    )
  }

  async function load(q: Queryable, id: string, lock = false) {
    const query = q.select().from(notificationOutbox).where(eq(notificationOutbox.id, id))
    const [row] = lock ? await query.for('update') : await query
    if (!row) throw notFound('notification')
    return row
  }

  return {
    /** Outbox rows in the caller's transaction (the port other modules' writes use). */
    append: (q: Queryable, entries: readonly OutboxEntry[]) => appendOutbox(q, entries, config.NOTIFY_MAX_ATTEMPTS),

    async list(ctx: Ctx, input: NotificationListInput) {
      authorize(ctx.actor, 'config.manage')
      const limit = input.limit ?? 50
      const where: (SQL | undefined)[] = []
      if (input.cursor) {
        const c = decodeCursor(input.cursor, SORT)
        if (!/^[0-9a-f-]{36}$/i.test(c.id)) {
          throw badRequest('invalid cursor: not a cursor from this API', [
            { field: 'cursor', message: 'not a cursor from this API' }
          ])
        }
        where.push(lt(notificationOutbox.id, c.id))
      }
      if (input.state === 'dead') where.push(isNotNull(notificationOutbox.deadAt))
      if (input.state === 'sent') where.push(isNotNull(notificationOutbox.sentAt))
      if (input.state === 'pending') where.push(isNull(notificationOutbox.sentAt), isNull(notificationOutbox.deadAt))
      if (input.ticketId) where.push(eq(notificationOutbox.ticketId, input.ticketId))
      if (input.event) where.push(eq(notificationOutbox.event, input.event))
      const rows = await db
        .select()
        .from(notificationOutbox)
        .where(and(...where))
        .orderBy(desc(notificationOutbox.id))
        .limit(limit + 1)
      const page = pageOf(rows, limit, last => ({ sort: SORT, value: null, id: last.id }))
      return { items: await withDeliveries(db, page.items), nextCursor: page.nextCursor }
    },

    cursorOf: (row: { id: string }) => encodeCursor({ sort: SORT, value: null, id: row.id }),

    async get(ctx: Ctx, id: string) {
      authorize(ctx.actor, 'config.manage')
      return (await withDeliveries(db, [await load(db, id)]))[0]!
    },

    /**
     * Sends a dead (or finished) row again: due now with its attempts reset. Recipients it already
     * reached at their current address are skipped, so a replay delivers once.
     */
    async replay(ctx: Ctx, id: string) {
      authorize(ctx.actor, 'config.manage')
      return withTx(ctx, async (tx, c) => {
        const row = await load(tx, id, true)
        if (stateOf(row) === 'pending') throw conflict('notification is still pending: nothing to replay')
        const [after] = await tx
          .update(notificationOutbox)
          .set({
            attempts: 0,
            deadAt: null,
            sentAt: null,
            lastError: null,
            availableAt: sql`now()`,
            leaseOwner: null,
            leaseToken: null,
            leaseExpiresAt: null
          })
          .where(eq(notificationOutbox.id, id))
          .returning()
        await recordAudit(tx, c, {
          entityType: 'notification',
          entityId: id,
          action: 'notification.replayed',
          changes: [{ field: 'state', old: stateOf(row), new: 'pending' }]
        })
        return (await withDeliveries(tx, [after!]))[0]!
      })
    },

    /** Backlog, age of the oldest pending row and dead letters (admins; metrics later). */
    async stats(ctx: Ctx) {
      authorize(ctx.actor, 'config.manage')
      const result = await db.execute(sql`
        SELECT
          (SELECT count(*) FROM notification_outbox WHERE sent_at IS NULL AND dead_at IS NULL)::int AS pending,
          (SELECT extract(epoch FROM now() - min(created_at)) FROM notification_outbox
            WHERE sent_at IS NULL AND dead_at IS NULL)::float8 AS oldest,
          (SELECT count(*) FROM notification_outbox WHERE dead_at IS NOT NULL)::int AS dead`)
      const row = (result as unknown as { rows: { pending: number; oldest: number | null; dead: number }[] }).rows[0]!
      return {
        pending: Number(row.pending),
        oldestPendingSeconds: row.oldest === null ? null : Math.max(0, Math.round(Number(row.oldest))),
        dead: Number(row.dead)
      }
    },

    /** One claim, sent and settled (tests; the worker loops on it). */
    dispatchOnce: (limit?: number) => theDispatcher().dispatchOnce(limit),

    /** The dispatcher loop (the scheduler's worker job). */
    startDispatcher() {
      const running = theDispatcher().start()
      return {
        async stop() {
          await running.stop()
          channels?.mailer?.close()
        }
      }
    },

    /** Closes the SMTP pool (tests, shutdown). */
    close() {
      channels?.mailer?.close()
      channels = null
      dispatcher = null
    }
  }
}

export type NotificationService = ReturnType<typeof createNotificationService>
