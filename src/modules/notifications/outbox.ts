import { type SQL, sql } from 'drizzle-orm'
import type { Ctx, Queryable } from '../../lib/context.js'
import { uuidv7 } from '../../lib/ids.js'
import { sqlArray } from '../../lib/sql-array.js'
import type { NewTicket } from '../tickets/tickets.repository.js'
import type { TicketChange, TicketSubscriber } from '../tickets/tickets.writer.js'

/**
 * What can be told. Ticket events come from the ticket writer (created in the create statement, the
 * rest from its change records); the others are appended by the modules that own them (approvals,
 * changes, releases, service levels) through the `outbox` port, in their own transactions.
 */
export const NOTIFICATION_EVENTS = [
  'ticket.created',
  'ticket.assigned',
  'ticket.public_reply',
  'ticket.internal_note',
  'ticket.status_changed',
  'ticket.resolved',
  'ticket.closed',
  'approval.requested',
  'approval.decided',
  'change.scheduled',
  'change.conflict',
  'release.ready',
  'sla.warning',
  'sla.breach',
  'sla.escalation',
  'webhook.disabled'
] as const
export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number]

/** Events only staff may hear of, whatever a rule says. */
export const STAFF_ONLY: ReadonlySet<string> = new Set(['ticket.internal_note'])

export interface OutboxEntry {
  event: NotificationEvent
  ticketId?: string | null
  actorId?: string | null
  /** What the dispatcher needs beyond the ticket: a note id, the old and new status, approver ids. */
  payload?: Record<string, unknown>
  /** Not before this long from now. */
  delayMs?: number
}

/** Ids in the order given (uuidv7 is ordered by its millisecond only), so rows dispatch in that order. */
function orderedIds(n: number): string[] {
  const now = Date.now()
  return Array.from({ length: n }, (_, i) => uuidv7(now + i))
}

/**
 * Appends outbox rows in the caller's transaction: one INSERT over `unnest(…)` whatever their number
 * (an escalation batch or a bulk change of 1,000 tickets), in the order given. Answers their ids.
 */
export async function appendOutbox(q: Queryable, entries: readonly OutboxEntry[], maxAttempts?: number) {
  if (entries.length === 0) return []
  const ids = orderedIds(entries.length)
  const column = <T>(f: (e: OutboxEntry) => T, type: string) => sqlArray(entries.map(f), type)
  await q.execute(sql`
    INSERT INTO notification_outbox (id, event, ticket_id, actor_id, payload, available_at${maxAttempts ? sql`, max_attempts` : sql``})
    SELECT o.id, o.event, o.ticket_id, o.actor_id, o.payload, now() + make_interval(secs => o.delay)${maxAttempts ? sql`, ${maxAttempts}::int` : sql``}
    FROM unnest(${sqlArray(ids, 'uuid')}, ${column(e => e.event, 'text')}, ${column(e => e.ticketId ?? null, 'uuid')},
                ${column(e => e.actorId ?? null, 'uuid')}, ${column(e => JSON.stringify(e.payload ?? {}), 'jsonb')},
                ${column(e => (e.delayMs ?? 0) / 1000, 'float8')}) AS o(id, event, ticket_id, actor_id, payload, delay)`)
  return ids
}

/** What a create tells: always that it was created, and an assignment when it came with one. */
function createdEntries(v: NewTicket): { event: NotificationEvent; payload: Record<string, unknown> }[] {
  const out: { event: NotificationEvent; payload: Record<string, unknown> }[] = [
    { event: 'ticket.created', payload: {} }
  ]
  if (v.teamId || v.assigneeId) {
    out.push({ event: 'ticket.assigned', payload: { teamId: v.teamId, layer: v.layer, assigneeId: v.assigneeId } })
  }
  return out
}

/**
 * The outbox rows of a create, as a part of the create statement (see the writer's `createPart`):
 * `INSERT … SELECT … FROM t`, so they exist exactly when the ticket does, without a transaction.
 */
export function createOutboxPart(ctx: Ctx, v: NewTicket, maxAttempts: number): SQL {
  const entries = createdEntries(v)
  const ids = orderedIds(entries.length)
  const values = sql.join(
    entries.map((e, i) => sql`(${ids[i]}::uuid, ${e.event}, ${JSON.stringify(e.payload)}::jsonb)`),
    sql`, `
  )
  return sql`INSERT INTO notification_outbox (id, event, ticket_id, actor_id, payload, max_attempts)
    SELECT e.id, e.event, t.id, ${ctx.actor.id}::uuid, e.payload, ${maxAttempts} FROM t, (VALUES ${values}) AS e(id, event, payload)`
}

const ASSIGNMENT = ['teamId', 'layer', 'assigneeId']

/** The events of one change record (other than a create). */
export function entriesOf(change: TicketChange): OutboxEntry[] {
  const { before, after } = change
  const base = { ticketId: change.ticketId, actorId: change.actor.id }
  const out: OutboxEntry[] = []
  if (change.note) {
    out.push({
      ...base,
      event: change.note.internal ? 'ticket.internal_note' : 'ticket.public_reply',
      payload: { noteId: change.note.id }
    })
  }
  if (change.changed.some(f => ASSIGNMENT.includes(f)) && (after.assigneeId || after.teamId)) {
    out.push({
      ...base,
      event: 'ticket.assigned',
      payload: { teamId: after.teamId, layer: after.layer, assigneeId: after.assigneeId }
    })
  }
  if (before && before.status !== after.status) {
    const event: NotificationEvent =
      after.closedAt && !before.closedAt
        ? 'ticket.closed'
        : after.resolvedAt && !before.resolvedAt
          ? 'ticket.resolved'
          : 'ticket.status_changed'
    out.push({ ...base, event, payload: { from: before.status, to: after.status } })
  }
  return out
}

/**
 * The outbox as a subscriber of the ticket writer: creates through the create statement, every other
 * change in its transaction.
 */
export function outboxSubscriber(maxAttempts: number): TicketSubscriber {
  return {
    name: 'notifications.outbox',
    types: ['updated', 'assigned', 'transitioned', 'noted', 'reclassified'],
    createPart: (ctx, ticket) => createOutboxPart(ctx, ticket, maxAttempts),
    async onChange(ctx, change) {
      await appendOutbox(ctx.db, entriesOf(change), maxAttempts)
    },
    // A bulk change of 1,000 tickets: their rows in one INSERT, not one per ticket
    async onChanges(ctx, changes) {
      await appendOutbox(ctx.db, changes.flatMap(entriesOf), maxAttempts)
    }
  }
}
