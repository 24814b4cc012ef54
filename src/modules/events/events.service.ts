import { and, desc, eq, lt, or, type SQL, sql } from 'drizzle-orm'
import { authorize } from '../../auth/policy.js'
import { eventAlerts, monitoringEvents } from '../../db/schema/index.js'
import type { Ctx } from '../../lib/context.js'
import { decodeCursor, encodeCursor, pageOf } from '../../lib/cursor.js'
import { badRequest, notFound, validationFailed } from '../../lib/errors.js'
import { assertIdempotencyKey, runIdempotent } from '../../lib/idempotency.js'
import { onVisibleTicket, onVisibleTickets } from '../tickets/ticket-refs.js'
import { type Config, createEventEngine, type EngineDeps } from './events.engine.js'
import { createEventMaintenance } from './events.maintenance.js'
import type { Mapped } from './events.model.js'
import type { AlertListInput, EventListInput, EventOutcomeView } from './events.schemas.js'
import { mapGenericBatch, normaliseGeneric } from './receivers/generic.js'
import type { Receiver } from './receivers/receiver.js'

export const MAX_BATCH = 1000
const EVENT_SORT = 'events'
const ALERT_SORT = 'alerts'

type EventRow = typeof monitoringEvents.$inferSelect
type AlertRow = typeof eventAlerts.$inferSelect

export const eventView = ({ search: _s, dedupKey, ...r }: EventRow) => ({ ...r, fingerprint: dedupKey })
export const alertView = ({ dedupKey, stateChanges: _c, lastChangeAt: _l, ...r }: AlertRow) => ({
  ...r,
  fingerprint: dedupKey
})

/** How many events of one source had one outcome (an engine action, or `rejected`) in an ingest. */
export interface IngestCount {
  source: string
  outcome: string
  n: number
}
export type IngestListener = (counts: IngestCount[]) => void

/** The source a refused item named, when it named one (it may be anything: the body did not validate). */
const claimedSource = (raw: unknown, fallback: string): string => {
  const source = (raw as { source?: unknown } | null)?.source
  return typeof source === 'string' && source.trim() !== '' ? source.trim().slice(0, 200) : fallback
}

export interface BatchResult {
  accepted: number
  rejected: number
  items: EventOutcomeView[]
}

/**
 * Monitoring events over REST and GraphQL: the generic API (one event or a batch), the native receivers,
 * and the stored events and alerts with why each event joined its incident.
 */
export function createEventService(deps: EngineDeps) {
  const { db } = deps
  const engine = createEventEngine(deps)
  const listeners: IngestListener[] = []

  /** Tells the listeners (metrics) what an ingest did, counted by source and outcome; replays are not news. */
  function tell(items: { source: string; outcome: string }[]) {
    if (listeners.length === 0 || items.length === 0) return
    const counts = new Map<string, IngestCount>()
    for (const { source, outcome } of items) {
      const key = `${source}\u0000${outcome}`
      const c = counts.get(key)
      if (c) c.n += 1
      else counts.set(key, { source, outcome, n: 1 })
    }
    for (const listener of listeners) {
      try {
        listener([...counts.values()])
      } catch (err) {
        deps.log.warn({ err }, 'an event ingest listener failed')
      }
    }
  }

  /** The per-item answers of an ingested batch with each item's source (what its event, or its body, named). */
  function tellBatch(mapped: Mapped, result: { body: BatchResult; replayed: boolean }, raw: (i: number) => string) {
    if (result.replayed) return
    const sources = new Map(mapped.events.map(m => [m.index, m.event.source]))
    tell(
      result.body.items
        .filter(item => !item.replayed)
        .map(item => ({ source: sources.get(item.index) ?? raw(item.index), outcome: item.action }))
    )
  }

  /** Counts a body refused as a whole (no valid event) as rejected items, then rethrows. */
  function refused(items: { source: string }[], err: unknown): never {
    tell(items.map(i => ({ source: i.source, outcome: 'rejected' })))
    throw err
  }

  /** Ingests what a mapper accepted and merges the per-item answers in input order. */
  async function ingestMapped(ctx: Ctx, mapped: Mapped, config: Config): Promise<BatchResult> {
    const done = await engine.ingest(
      ctx,
      mapped.events.map(m => m.event),
      config
    )
    const items: EventOutcomeView[] = [
      ...mapped.events.map((m, i) => ({ ...done[i]!, index: m.index })),
      ...mapped.rejected.map(r => ({
        index: r.index,
        status: 'rejected' as const,
        eventId: null,
        action: 'rejected',
        reason: r.errors.map(e => `${e.field}: ${e.message}`).join('; '),
        alertId: null,
        incidentId: null,
        incidentNumber: null,
        replayed: false,
        errors: r.errors
      }))
    ].sort((a, b) => a.index - b.index)
    return { accepted: mapped.events.length, rejected: mapped.rejected.length, items }
  }

  /** Runs an ingest under an Idempotency-Key when one is given (the whole answer is replayed). */
  async function idempotent<T>(
    ctx: Ctx,
    key: string | undefined,
    op: string,
    body: unknown,
    run: (ctx: Ctx) => Promise<T>
  ) {
    if (key !== undefined) assertIdempotencyKey(key)
    return runIdempotent(ctx, key, op, body, 202, run)
  }

  return {
    engine,
    maintenance: createEventMaintenance(deps, engine),

    /** Calls `listener` after each ingest with its counts by source and outcome (metrics). */
    onIngested(listener: IngestListener) {
      listeners.push(listener)
    },

    /** POST /events: one event (answers its outcome) or an array of up to 1,000 (answers per item). */
    async post(ctx: Ctx, body: unknown, idempotencyKey?: string) {
      authorize(ctx.actor, 'event.ingest')
      if (Array.isArray(body)) {
        if (body.length === 0)
          throw badRequest('a batch needs at least one event', [{ field: 'body', message: 'empty' }])
        if (body.length > MAX_BATCH) {
          throw badRequest(`at most ${MAX_BATCH} events per batch`, [
            { field: 'body', message: `more than ${MAX_BATCH}` }
          ])
        }
        const mapped = mapGenericBatch(body)
        const rawSource = (i: number) => claimedSource(body[i], 'unknown')
        if (mapped.events.length === 0) {
          refused(
            body.map((_, i) => ({ source: rawSource(i) })),
            validationFailed(
              mapped.rejected.flatMap(r => r.errors),
              'no event in the batch is valid'
            )
          )
        }
        const config = await engine.config()
        const result = await idempotent(ctx, idempotencyKey, 'events.batch', body, c => ingestMapped(c, mapped, config))
        tellBatch(mapped, result, rawSource)
        return result
      }
      if (typeof body !== 'object' || body === null) {
        throw badRequest('send one event object or an array of events', [
          { field: 'body', message: 'must be an object or an array' }
        ])
      }
      const { event, errors } = normaliseGeneric(body, '')
      if (!event) {
        refused(
          [{ source: claimedSource(body, 'unknown') }],
          badRequest(errors.map(e => `${e.field}: ${e.message}`).join('; '), errors)
        )
      }
      const config = await engine.config()
      const result = await idempotent(ctx, idempotencyKey, 'events.one', body, async c => {
        const [outcome] = await engine.ingest(c, [event], config)
        return outcome!
      })
      if (!result.replayed && !result.body.replayed) tell([{ source: event.source, outcome: result.body.action }])
      return result
    },

    /** POST /events/{tool}[/{source}]: a native webhook body, unchanged. */
    async receive(ctx: Ctx, receiver: Receiver, source: string | undefined, body: unknown, idempotencyKey?: string) {
      authorize(ctx.actor, 'event.ingest')
      const config = await engine.config()
      const mapped = receiver.map(body, source ?? receiver.tool, config.settings.defaultSeverity)
      const result = await idempotent(ctx, idempotencyKey, `events.${receiver.tool}`, body, c =>
        ingestMapped(c, mapped, config)
      )
      tellBatch(mapped, result, () => source ?? receiver.tool)
      const extra = receiver.reply?.(result.body.items, mapped) ?? {}
      return { ...result, body: { ...result.body, ...extra } }
    },

    async list(ctx: Ctx, input: EventListInput) {
      authorize(ctx.actor, 'event.read')
      const limit = input.limit ?? 50
      const where: SQL[] = []
      const e = monitoringEvents
      if (input.source) where.push(eq(e.source, input.source))
      if (input.fingerprint) where.push(eq(e.dedupKey, input.fingerprint))
      if (input.incidentId) where.push(eq(e.incidentId, input.incidentId))
      if (input.alertId) where.push(eq(e.alertId, input.alertId))
      if (input.ciId) where.push(eq(e.ciId, input.ciId))
      if (input.action) where.push(eq(e.action, input.action))
      if (input.severity) where.push(eq(e.severity, input.severity))
      if (input.status) where.push(eq(e.status, input.status))
      if (input.since) where.push(sql`${e.receivedAt} >= ${new Date(input.since).toISOString()}::timestamptz`)
      if (input.until) where.push(sql`${e.receivedAt} < ${new Date(input.until).toISOString()}::timestamptz`)
      if (input.q) where.push(sql`${e.search} @@ plainto_tsquery('simple', ${input.q})`)
      // An organisation pin sees the events of its organisation's incidents only
      const scoped = onVisibleTickets(db, ctx.actor, e.incidentId)
      if (scoped) where.push(scoped)
      if (input.cursor) {
        const c = decodeCursor(input.cursor, EVENT_SORT)
        const at = new Date(String(c.value))
        if (Number.isNaN(at.getTime()))
          throw badRequest('invalid cursor', [{ field: 'cursor', message: 'not a cursor from this API' }])
        where.push(or(lt(e.receivedAt, at), and(eq(e.receivedAt, at), lt(e.id, c.id))) as SQL)
      }
      const rows = await db
        .select()
        .from(e)
        .where(and(...where))
        .orderBy(desc(e.receivedAt), desc(e.id))
        .limit(limit + 1)
      return pageOf(rows, limit, last => eventCursor(last), eventView)
    },

    eventCursor: (r: { id: string; receivedAt: Date }) => encodeCursor(eventCursor(r)),

    async get(ctx: Ctx, id: string) {
      authorize(ctx.actor, 'event.read')
      const [row] = await db.select().from(monitoringEvents).where(eq(monitoringEvents.id, id))
      if (!row || !(await onVisibleTicket(db, ctx.actor, row.incidentId))) throw notFound('event')
      return eventView(row)
    },

    async alerts(ctx: Ctx, input: AlertListInput) {
      authorize(ctx.actor, 'event.read')
      const limit = input.limit ?? 50
      const a = eventAlerts
      const where: SQL[] = []
      if (input.source) where.push(eq(a.source, input.source))
      if (input.fingerprint) where.push(eq(a.dedupKey, input.fingerprint))
      if (input.incidentId) where.push(eq(a.incidentId, input.incidentId))
      if (input.ciId) where.push(eq(a.ciId, input.ciId))
      if (input.state) where.push(eq(a.state, input.state))
      if (input.flapping !== undefined) where.push(eq(a.flapping, input.flapping))
      const scoped = onVisibleTickets(db, ctx.actor, a.incidentId)
      if (scoped) where.push(scoped)
      if (input.cursor) where.push(lt(a.id, decodeCursor(input.cursor, ALERT_SORT).id))
      const rows = await db
        .select()
        .from(a)
        .where(and(...where))
        .orderBy(desc(a.id))
        .limit(limit + 1)
      return pageOf(rows, limit, last => ({ sort: ALERT_SORT, value: null, id: last.id }), alertView)
    },

    alertCursor: (r: { id: string }) => encodeCursor({ sort: ALERT_SORT, value: null, id: r.id }),

    async alert(ctx: Ctx, id: string) {
      authorize(ctx.actor, 'event.read')
      const [row] = await db.select().from(eventAlerts).where(eq(eventAlerts.id, id))
      if (!row || !(await onVisibleTicket(db, ctx.actor, row.incidentId))) throw notFound('alert')
      return alertView(row)
    }
  }
}

const eventCursor = (r: { id: string; receivedAt: Date }) => ({
  sort: EVENT_SORT,
  value: r.receivedAt.toISOString(),
  id: r.id
})

export type EventService = ReturnType<typeof createEventService>
