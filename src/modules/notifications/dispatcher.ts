import { randomBytes, randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import { and, eq, inArray, sql } from 'drizzle-orm'
import {
  notificationDeliveries,
  notificationTemplates,
  smsBlockedNumbers,
  webhookSubscriptions
} from '../../db/schema/index.js'
import { backoffMs } from '../../jobs/queue.js'
import type { Deps, Queryable } from '../../lib/context.js'
import { uuidv7 } from '../../lib/ids.js'
import type { CiLinkPort } from '../tickets/tickets.ports.js'
import { type Mailer, PermanentFailure } from './mail.js'
import { appendOutbox, type NotificationEvent } from './outbox.js'
import { quietUntil } from './quiet-hours.js'
import { type BatchContext, loadBatchContext, type OutboxRow, type Recipient, resolveRecipients } from './recipients.js'
import { type SmsSender, toE164 } from './sms.js'
import { type Channel, render, shippedTemplate, type Template } from './templates.js'
import { matchingTickets } from './webhook-subscriptions.service.js'
import { sendWebhook } from './webhooks.js'

export interface DispatchSummary {
  claimed: number
  sent: number
  failed: number
  retried: number
  dead: number
}

interface Attempt {
  row: OutboxRow
  channel: Channel | 'webhook'
  userId: string | null
  /** Mail address, E.164 number, or the webhook subscription's id. */
  address: string
  messageId: string
  send: () => Promise<{ providerMessageId: string | null }>
}

/** A recipient whose quiet hours hold this channel: told by a row of its own once they end. */
interface Held {
  row: OutboxRow
  channel: Channel
  userId: string
  address: string
  messageId: string
  until: Date
}

interface Outcome {
  status: 'sent' | 'failed' | 'retry'
  providerMessageId: string | null
  error: string | null
}

/** The conflicts of a change.conflict row as one line: other changes by number, freezes by name. */
function conflictsText(v: unknown): string {
  if (!Array.isArray(v)) return ''
  const names = v.map(c => {
    const x = (c ?? {}) as Record<string, unknown>
    return typeof x.number === 'string' ? x.number : typeof x.freezeName === 'string' ? `freeze "${x.freezeName}"` : ''
  })
  return [...new Set(names.filter(Boolean))].join(', ')
}

const rowsOf = <T>(result: unknown) => (result as { rows: T[] }).rows
const errorText = (err: unknown) => String(err instanceof Error ? err.message : err).slice(0, 1000)

export interface DispatcherChannels {
  mailer: Mailer | null
  sms: SmsSender | null
  /** The CMDB's ticket–CI links (the CI owner team audience); absent: nobody hears as a CI owner. */
  ciLinks?: CiLinkPort
}

/**
 * The outbox dispatcher: claims pending rows in batches (`FOR UPDATE SKIP LOCKED`, a lease per batch),
 * resolves who hears each, sends (pooled, all of a batch at once), records every attempt as a delivery
 * and settles each row: sent when every recipient has an outcome, retried with backoff and jitter when
 * one failed for now, dead after its last attempt. Any number may run against one database; a
 * dispatcher killed mid-batch leaves its rows to the next claim after the lease, and a message sent
 * twice that way carries the same Message-ID.
 */
export function createDispatcher(deps: Deps, channels: DispatcherChannels) {
  const { db, config, log } = deps
  const owner = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`
  const domain = channels.mailer?.domain ?? 'servicedesk.invalid'
  const backoff = { baseMs: config.NOTIFY_BACKOFF_BASE_MS, maxMs: config.NOTIFY_BACKOFF_MAX_MS }

  async function claim(limit: number, token: string): Promise<OutboxRow[]> {
    const result = await db.execute(sql`
      UPDATE notification_outbox SET attempts = attempts + 1, lease_owner = ${owner}, lease_token = ${token}::uuid,
        lease_expires_at = now() + make_interval(secs => ${config.NOTIFY_LEASE_MS / 1000})
      WHERE id IN (
        SELECT id FROM notification_outbox
        WHERE sent_at IS NULL AND dead_at IS NULL AND available_at <= now()
          AND (lease_expires_at IS NULL OR lease_expires_at <= now())
        ORDER BY available_at, id LIMIT ${limit}
        FOR UPDATE SKIP LOCKED)
      RETURNING id, event, ticket_id, actor_id, payload, attempts, max_attempts`)
    return rowsOf<Record<string, unknown>>(result)
      .map(r => ({
        id: r.id as string,
        event: r.event as string,
        ticketId: (r.ticket_id as string | null) ?? null,
        actorId: (r.actor_id as string | null) ?? null,
        payload: (typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload) as Record<string, unknown>,
        attempts: Number(r.attempts),
        maxAttempts: Number(r.max_attempts)
      }))
      .sort((a, b) => (a.id < b.id ? -1 : 1))
  }

  /** Outcomes that stand (sent, or failed for good) per row, channel and recipient address. */
  async function settled(q: Queryable, ids: string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set()
    const found = await q
      .select({
        o: notificationDeliveries.outboxId,
        c: notificationDeliveries.channel,
        r: notificationDeliveries.recipient
      })
      .from(notificationDeliveries)
      .where(
        and(inArray(notificationDeliveries.outboxId, ids), inArray(notificationDeliveries.status, ['sent', 'failed']))
      )
    return new Set(found.map(d => `${d.o}|${d.c}|${d.r}`))
  }

  async function overrides(q: Queryable, events: string[]) {
    if (events.length === 0) return new Map<string, Template>()
    const found = await q.select().from(notificationTemplates).where(inArray(notificationTemplates.event, events))
    return new Map(found.map(t => [`${t.event}|${t.locale}|${t.channel}`, t]))
  }

  function valuesFor(ctx: BatchContext, row: OutboxRow, recipient: Recipient) {
    const t = ctx.ticket(row.ticketId)
    const note = ctx.note(row.payload.noteId)
    const team = ctx.team((row.payload.teamId as string | undefined) ?? t?.teamId)
    const assignee = ctx.person((row.payload.assigneeId as string | undefined) ?? t?.assigneeId)
    return {
      number: t?.number ?? '',
      title: t?.title ?? '',
      status: t?.status ?? '',
      recipient: recipient.person.displayName,
      actor: ctx.person(row.actorId)?.displayName ?? 'The service desk',
      // Internal notes reach staff only (recipients.ts); a customer's mail never carries one
      note: note && (!note.internal || recipient.person.staff) ? note.body : '',
      assignment: assignee?.displayName ?? team?.name ?? '',
      resolution: t?.resolution ?? '',
      name: typeof row.payload.name === 'string' ? row.payload.name : '',
      plannedStart: typeof row.payload.plannedStart === 'string' ? row.payload.plannedStart : '',
      plannedEnd: typeof row.payload.plannedEnd === 'string' ? row.payload.plannedEnd : '',
      conflicts: conflictsText(row.payload.conflicts),
      version: typeof row.payload.releaseVersion === 'string' ? row.payload.releaseVersion : ''
    }
  }

  /** The attempts of one row: its recipients minus those with a standing outcome at this address. */
  function attemptsOf(
    ctx: BatchContext,
    row: OutboxRow,
    done: Set<string>,
    templates: Map<string, Template>,
    blocked: { userId: string; phone: string; reason: string }[],
    held: Held[]
  ): Attempt[] {
    const t = ctx.ticket(row.ticketId)
    const out: Attempt[] = []
    const now = new Date()
    const quietEnd = (person: Recipient['person'], channel: Channel) =>
      person.quiet && person.quietChannels.includes(channel) ? quietUntil(person.quiet, now) : null
    for (const recipient of resolveRecipients(ctx, row)) {
      const { person, channel } = recipient
      const template =
        templates.get(`${row.event}|${person.locale}|${channel}`) ??
        templates.get(`${row.event}|en|${channel}`) ??
        shippedTemplate(row.event, channel)
      const rendered = render(template, valuesFor(ctx, row, recipient))
      const messageId = `<${row.id}.${person.id}.${channel}@${domain}>`
      if (channel === 'mail') {
        const mailer = channels.mailer
        if (!mailer || !person.email) continue
        const address = person.email.trim()
        if (done.has(`${row.id}|mail|${address}`)) continue
        const until = quietEnd(person, channel)
        if (until) {
          held.push({ row, channel, userId: person.id, address, messageId, until })
          continue
        }
        out.push({
          row,
          channel,
          userId: person.id,
          address,
          messageId,
          send: () =>
            mailer.send({
              to: { name: person.displayName, address },
              subject: t ? `[${t.number}] ${rendered.subject}` : rendered.subject,
              text: rendered.text,
              html: rendered.html,
              messageId,
              ...(t ? { threadId: `<ticket.${t.id}@${domain}>` } : {})
            })
        })
      } else if (channel === 'sms') {
        const sms = channels.sms
        const phone = toE164(person.phone, config.SMS_DEFAULT_REGION)
        if (!sms || !phone || person.blockedPhones.has(phone)) continue
        if (done.has(`${row.id}|sms|${phone}`)) continue
        const until = quietEnd(person, channel)
        if (until) {
          held.push({ row, channel, userId: person.id, address: phone, messageId, until })
          continue
        }
        out.push({
          row,
          channel,
          userId: person.id,
          address: phone,
          messageId,
          send: async () => {
            try {
              return await sms.send({ to: phone, ticketNumber: t?.number ?? '', text: rendered.text, messageId })
            } catch (err) {
              // This number will not take messages: not tried again until the user edits it
              if (err instanceof PermanentFailure) blocked.push({ userId: person.id, phone, reason: errorText(err) })
              throw err
            }
          }
        })
      }
    }
    return out
  }

  type Subscription = typeof webhookSubscriptions.$inferSelect

  /** The webhook deliveries of a batch: each enabled subscription of the event whose filter matches. */
  async function webhookAttempts(ctx: BatchContext, rows: OutboxRow[], done: Set<string>): Promise<Attempt[]> {
    const subs: Subscription[] = await db
      .select()
      .from(webhookSubscriptions)
      .where(eq(webhookSubscriptions.enabled, true))
    if (subs.length === 0) return []
    const out: Attempt[] = []
    for (const sub of subs) {
      const mine = rows.filter(r => sub.events.includes(r.event) && !done.has(`${r.id}|webhook|${sub.id}`))
      if (mine.length === 0) continue
      let allowed: Set<string> | null = null
      if (sub.filter) {
        const ids = [...new Set(mine.flatMap(r => (r.ticketId ? [r.ticketId] : [])))]
        allowed = await matchingTickets(db, sub.filter, ids).catch(() => new Set<string>())
      }
      for (const row of mine) {
        if (allowed && (!row.ticketId || !allowed.has(row.ticketId))) continue
        const t = ctx.ticket(row.ticketId)
        const id = `${row.id}.${sub.id}`
        const body = JSON.stringify({
          type: row.event,
          timestamp: new Date().toISOString(),
          data: {
            notificationId: row.id,
            ticket: t
              ? { id: t.id, kind: t.kind, number: t.number, title: t.title, status: t.status, priority: t.priority }
              : null,
            actorId: row.actorId,
            ...row.payload
          }
        })
        out.push({
          row,
          channel: 'webhook',
          userId: null,
          address: sub.id,
          messageId: id,
          send: () =>
            sendWebhook(
              { url: sub.url, secret: sub.secret, id, body },
              { allowLoopback: config.WEBHOOK_ALLOW_LOOPBACK, timeoutMs: config.WEBHOOK_TIMEOUT_MS }
            )
        })
      }
    }
    return out
  }

  /**
   * The failure clock of each subscription this batch tried: a success stops it, a failure starts it;
   * a subscription failing for a day is disabled and its owner told (an outbox row of its own).
   */
  async function settleSubscriptions(q: Queryable, attempts: Attempt[], outcomes: Outcome[]) {
    const ok = new Set<string>()
    const failing = new Set<string>()
    attempts.forEach((a, i) => {
      if (a.channel !== 'webhook') return
      if (outcomes[i]!.status === 'sent') ok.add(a.address)
      else failing.add(a.address)
    })
    for (const id of ok) failing.delete(id)
    if (ok.size > 0) {
      await q.execute(sql`UPDATE webhook_subscriptions SET failing_since = NULL
        WHERE id = ANY(${sql.param([...ok])}::uuid[]) AND failing_since IS NOT NULL`)
    }
    if (failing.size === 0) return
    const disabled = await q.execute(sql`
      WITH before AS (
        SELECT id, enabled AND coalesce(failing_since < now() - interval '1 day', false) AS disabling
        FROM webhook_subscriptions WHERE id = ANY(${sql.param([...failing])}::uuid[]) FOR UPDATE)
      UPDATE webhook_subscriptions w SET
        failing_since = coalesce(w.failing_since, now()),
        enabled = w.enabled AND NOT before.disabling,
        disabled_at = CASE WHEN before.disabling THEN now() ELSE w.disabled_at END
      FROM before WHERE w.id = before.id
      RETURNING w.id, w.name, w.owner_id, before.disabling AS just_disabled`)
    const gone = rowsOf<{ id: string; name: string; owner_id: string | null; just_disabled: boolean }>(disabled).filter(
      r => r.just_disabled
    )
    if (gone.length === 0) return
    log.warn({ subscriptions: gone.map(g => g.id) }, 'webhook subscriptions disabled after failing for a day')
    await appendOutbox(
      q,
      gone.map(g => ({
        event: 'webhook.disabled' as const,
        payload: { subscriptionId: g.id, name: g.name, userIds: g.owner_id ? [g.owner_id] : [] }
      })),
      config.NOTIFY_MAX_ATTEMPTS
    )
  }

  /**
   * Recipients in their quiet hours: a `deferred` delivery on this row, and a row of the same event
   * for just them (payload.deferredTo), due when their quiet hours end. Nothing is dropped.
   */
  async function holdBack(q: Queryable, held: Held[]) {
    await q.insert(notificationDeliveries).values(
      held.map(h => ({
        id: uuidv7(),
        outboxId: h.row.id,
        channel: h.channel,
        recipient: h.address,
        userId: h.userId,
        status: 'deferred',
        attempt: h.row.attempts,
        messageId: h.messageId,
        providerMessageId: null,
        error: `quiet hours until ${h.until.toISOString()}`
      }))
    )
    const groups = new Map<string, Held[]>()
    for (const h of held) {
      const key = `${h.row.id}|${h.until.getTime()}`
      groups.set(key, [...(groups.get(key) ?? []), h])
    }
    await appendOutbox(
      q,
      [...groups.values()].map(hs => {
        const { row, until } = hs[0]!
        return {
          event: row.event as NotificationEvent,
          ticketId: row.ticketId,
          actorId: row.actorId,
          payload: {
            ...row.payload,
            deferredFrom: row.id,
            deferredTo: hs.map(h => ({ userId: h.userId, channel: h.channel }))
          },
          delayMs: Math.max(1, until.getTime() - Date.now())
        }
      }),
      config.NOTIFY_MAX_ATTEMPTS
    )
  }

  async function run(a: Attempt): Promise<Outcome> {
    try {
      const { providerMessageId } = await a.send()
      return { status: 'sent', providerMessageId, error: null }
    } catch (err) {
      return {
        status: err instanceof PermanentFailure ? 'failed' : 'retry',
        providerMessageId: null,
        error: errorText(err)
      }
    }
  }

  /** One claim of up to `limit` rows, sent and settled. */
  async function dispatchOnce(limit = config.NOTIFY_BATCH): Promise<DispatchSummary> {
    const token = randomUUID()
    const rows = await claim(limit, token)
    const summary: DispatchSummary = { claimed: rows.length, sent: 0, failed: 0, retried: 0, dead: 0 }
    if (rows.length === 0) return summary
    // Claimed more often than allowed without an outcome: their dispatchers keep dying with them
    const live = rows.filter(r => r.attempts <= r.maxAttempts)
    const [ctx, done, templates] = await Promise.all([
      loadBatchContext(db, live, channels.ciLinks),
      settled(
        db,
        live.map(r => r.id)
      ),
      overrides(db, [...new Set(live.map(r => r.event))])
    ])
    const blocked: { userId: string; phone: string; reason: string }[] = []
    const held: Held[] = []
    const attempts = [
      ...live.flatMap(r => attemptsOf(ctx, r, done, templates, blocked, held)),
      ...(await webhookAttempts(ctx, live, done))
    ]
    const outcomes = await Promise.all(attempts.map(run))

    const byRow = new Map<string, Outcome[]>()
    attempts.forEach((a, i) => {
      byRow.set(a.row.id, [...(byRow.get(a.row.id) ?? []), outcomes[i]!])
    })
    const settle = rows.map(r => {
      if (r.attempts > r.maxAttempts)
        return { id: r.id, outcome: 'dead', delay: 0, error: 'lease expired without an outcome' }
      const mine = byRow.get(r.id) ?? []
      const transient = mine.find(o => o.status === 'retry')
      if (!transient) return { id: r.id, outcome: 'sent', delay: 0, error: mine.find(o => o.error)?.error ?? null }
      if (r.attempts >= r.maxAttempts) return { id: r.id, outcome: 'dead', delay: 0, error: transient.error }
      return { id: r.id, outcome: 'retry', delay: backoffMs(r.attempts, backoff) / 1000, error: transient.error }
    })
    for (const o of outcomes) {
      if (o.status === 'sent') summary.sent++
      else if (o.status === 'failed') summary.failed++
    }
    summary.retried = settle.filter(s => s.outcome === 'retry').length
    summary.dead = settle.filter(s => s.outcome === 'dead').length

    await db.transaction(async tx => {
      if (attempts.length > 0) {
        await tx.insert(notificationDeliveries).values(
          attempts.map((a, i) => ({
            id: uuidv7(),
            outboxId: a.row.id,
            channel: a.channel,
            recipient: a.address,
            userId: a.userId,
            status: outcomes[i]!.status,
            attempt: a.row.attempts,
            messageId: a.messageId,
            providerMessageId: outcomes[i]!.providerMessageId,
            error: outcomes[i]!.error
          }))
        )
      }
      if (blocked.length > 0) await tx.insert(smsBlockedNumbers).values(blocked).onConflictDoNothing()
      if (held.length > 0) await holdBack(tx, held)
      await settleSubscriptions(tx, attempts, outcomes)
      await tx.execute(sql`
        UPDATE notification_outbox o SET
          sent_at = CASE WHEN v.outcome = 'sent' THEN now() END,
          dead_at = CASE WHEN v.outcome = 'dead' THEN now() END,
          available_at = CASE WHEN v.outcome = 'retry' THEN now() + make_interval(secs => v.delay) ELSE o.available_at END,
          last_error = v.error, lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL
        FROM unnest(${sql.param(settle.map(s => s.id))}::uuid[], ${sql.param(settle.map(s => s.outcome))}::text[],
                    ${sql.param(settle.map(s => s.delay))}::float8[], ${sql.param(settle.map(s => s.error))}::text[])
          AS v(id, outcome, delay, error)
        WHERE o.id = v.id AND o.lease_token = ${token}::uuid`)
    })
    if (summary.dead > 0) log.error({ dead: summary.dead }, 'notifications dead-lettered')
    return summary
  }

  /** Runs until stopped: a full batch is followed at once by the next, an idle poll waits NOTIFY_POLL_MS. */
  function start(): { stop(): Promise<void> } {
    let stopped = false
    const sleeping: { wake: (() => void) | null } = { wake: null }
    const loop = (async () => {
      while (!stopped) {
        let full = false
        try {
          const s = await dispatchOnce()
          full = s.claimed >= config.NOTIFY_BATCH
          if (s.claimed > 0) log.debug({ ...s }, 'notifications dispatched')
        } catch (err) {
          log.error({ err }, 'notification dispatch failed')
        }
        if (stopped || full) continue
        await new Promise<void>(resolve => {
          const timer = setTimeout(resolve, config.NOTIFY_POLL_MS)
          sleeping.wake = () => {
            clearTimeout(timer)
            resolve()
          }
        })
        sleeping.wake = null
      }
    })()
    return {
      async stop() {
        stopped = true
        sleeping.wake?.()
        await loop
      }
    }
  }

  return { owner, dispatchOnce, start }
}

export type Dispatcher = ReturnType<typeof createDispatcher>
