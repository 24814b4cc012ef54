import { and, eq, inArray, isNull, lte, or, sql } from 'drizzle-orm'
import { workItems } from '../db/schema/index.js'
import type { Queryable } from '../lib/context.js'
import { uuidv7 } from '../lib/ids.js'
import { sqlArray } from '../lib/sql-array.js'

/**
 * The work queue: due rows in `work_items`, leased with `FOR UPDATE SKIP LOCKED`. Delivery is at least
 * once: a lease that runs out (its worker was killed, or stopped renewing) makes the row claimable
 * again. Only the holder of the current lease (its token) may complete, fail or renew it, so a late
 * answer from a worker that lost its lease changes nothing. Every function takes a Queryable, so a
 * caller enqueues or completes inside its own transaction.
 */

export type WorkItemRow = typeof workItems.$inferSelect

/** A claimed row: the lease is held by this claim until completed, failed, released or expired. */
export interface WorkItem<P = unknown> {
  id: string
  queue: string
  key: string | null
  payload: P
  /** When it was due (a lease does not move it). */
  dueAt: Date
  /** This claim included. */
  attempts: number
  maxAttempts: number
  leaseOwner: string
  leaseToken: string
  leaseExpiresAt: Date
  lastError: string | null
  createdAt: Date
}

/** What proves a lease: the row and the claim's token. */
export type Lease = Pick<WorkItem, 'id' | 'leaseToken'>

export interface EnqueueInput<P> {
  queue: string
  payload?: P
  /** When it becomes due; default the database's now() plus `delayMs`. */
  dueAt?: Date
  delayMs?: number
  /** Deduplicates live rows of this queue (one timer per ticket, one run per periodic job). */
  key?: string
  maxAttempts?: number
  /**
   * With a key that already has a live row: false (default) keeps that row as it is; true gives it
   * this payload and due time, resets its attempts and releases a lease held on it (the holder's
   * outcome then no longer counts).
   */
  replace?: boolean
}

export interface Backoff {
  baseMs: number
  maxMs: number
}

export const DEFAULT_BACKOFF: Backoff = { baseMs: 5_000, maxMs: 60 * 60_000 }
export const DEFAULT_MAX_ATTEMPTS = 10

const after = (ms: number) => sql`now() + make_interval(secs => ${ms / 1000})`
const errorText = (err: unknown) => String(err instanceof Error ? err.message : err).slice(0, 2000)

/**
 * Exponential backoff with jitter: attempt n waits between half and all of base·2ⁿ⁻¹ (capped), so
 * items that failed together do not come back together.
 */
export function backoffMs(attempt: number, backoff: Backoff = DEFAULT_BACKOFF, random = Math.random): number {
  const ceiling = Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.max(0, attempt - 1))
  return Math.round(ceiling / 2 + (random() * ceiling) / 2)
}

/** Adds a row (or finds the live one under its key). Answers its id and whether it is new. */
export async function enqueue<P>(q: Queryable, input: EnqueueInput<P>): Promise<{ id: string; created: boolean }> {
  const values = {
    id: uuidv7(),
    queue: input.queue,
    key: input.key ?? null,
    payload: input.payload ?? {},
    dueAt: input.dueAt ?? after(input.delayMs ?? 0),
    maxAttempts: input.maxAttempts ?? DEFAULT_MAX_ATTEMPTS
  }
  if (input.key === undefined) {
    await q.insert(workItems).values(values)
    return { id: values.id, created: true }
  }
  const target = { target: [workItems.queue, workItems.key], where: sql`dead_at IS NULL` }
  if (input.replace) {
    const [row] = await q
      .insert(workItems)
      .values(values)
      .onConflictDoUpdate({
        target: target.target,
        targetWhere: target.where,
        set: {
          payload: sql`excluded.payload`,
          dueAt: sql`excluded.due_at`,
          maxAttempts: sql`excluded.max_attempts`,
          attempts: 0,
          lastError: null,
          leaseOwner: null,
          leaseToken: null,
          leaseExpiresAt: null,
          updatedAt: sql`now()`
        }
      })
      .returning({ id: workItems.id, created: sql<boolean>`xmax = 0` })
    return { id: row!.id, created: row!.created }
  }
  const [row] = await q
    .insert(workItems)
    .values(values)
    .onConflictDoNothing({ target: target.target, where: target.where })
    .returning({ id: workItems.id })
  if (row) return { id: row.id, created: true }
  const [live] = await q
    .select({ id: workItems.id })
    .from(workItems)
    .where(and(eq(workItems.queue, input.queue), eq(workItems.key, input.key), isNull(workItems.deadAt)))
  // Gone between the two statements (completed meanwhile): try once more
  return live ? { id: live.id, created: false } : enqueue(q, input)
}

export interface ClaimOptions {
  queues: readonly string[]
  /** Most rows to take in this one statement. */
  limit: number
  leaseMs: number
  /** Who holds the lease (shown to operators): host, pid, runner. */
  owner: string
}

/**
 * Leases up to `limit` due rows of these queues in one statement, earliest due first. Rows another
 * claimer has locked are skipped, not waited for, so concurrent claimers never take the same row.
 */
export async function claim(q: Queryable, opts: ClaimOptions): Promise<WorkItem[]> {
  if (opts.limit < 1 || opts.queues.length === 0) return []
  const due = q
    .select({ id: workItems.id })
    .from(workItems)
    .where(
      and(
        isNull(workItems.deadAt),
        lte(workItems.dueAt, sql`now()`),
        or(isNull(workItems.leaseExpiresAt), lte(workItems.leaseExpiresAt, sql`now()`)),
        inArray(workItems.queue, [...opts.queues])
      )
    )
    .orderBy(workItems.dueAt)
    .limit(opts.limit)
    .for('update', { skipLocked: true })
  const rows = await q
    .update(workItems)
    .set({
      attempts: sql`${workItems.attempts} + 1`,
      leaseOwner: opts.owner,
      leaseToken: sql`gen_random_uuid()`,
      leaseExpiresAt: after(opts.leaseMs),
      updatedAt: sql`now()`
    })
    .where(inArray(workItems.id, due))
    .returning()
  return rows.map(toWorkItem).sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime())
}

function toWorkItem(row: WorkItemRow): WorkItem {
  if (!row.leaseToken || !row.leaseOwner || !row.leaseExpiresAt) throw new Error(`work item ${row.id} has no lease`)
  return {
    id: row.id,
    queue: row.queue,
    key: row.key,
    payload: row.payload,
    dueAt: row.dueAt,
    attempts: row.attempts,
    maxAttempts: row.maxAttempts,
    leaseOwner: row.leaseOwner,
    leaseToken: row.leaseToken,
    leaseExpiresAt: row.leaseExpiresAt,
    lastError: row.lastError,
    createdAt: row.createdAt
  }
}

const held = (lease: Lease) => and(eq(workItems.id, lease.id), eq(workItems.leaseToken, lease.leaseToken))
const released = { leaseOwner: null, leaseToken: null, leaseExpiresAt: null, updatedAt: sql`now()` } as const

/**
 * Done: the row goes. Call it inside the transaction that does the work for an effect that happens
 * exactly once; false means the lease was lost (roll back).
 */
export async function complete(q: Queryable, lease: Lease): Promise<boolean> {
  const gone = await q.delete(workItems).where(held(lease)).returning({ id: workItems.id })
  return gone.length > 0
}

/** Not now: the row comes back at `dueAt` (or after `delayMs`), lease released. */
export async function reschedule(
  q: Queryable,
  lease: Lease,
  when: { dueAt?: Date; delayMs?: number; resetAttempts?: boolean; payload?: unknown }
): Promise<boolean> {
  const rows = await q
    .update(workItems)
    .set({
      ...released,
      dueAt: when.dueAt ?? after(when.delayMs ?? 0),
      ...(when.resetAttempts ? { attempts: 0, lastError: null } : {}),
      ...(when.payload !== undefined ? { payload: when.payload } : {})
    })
    .where(held(lease))
    .returning({ id: workItems.id })
  return rows.length > 0
}

/** A failed attempt: retried after `retryInMs`, the error kept. */
export async function retry(q: Queryable, lease: Lease, error: unknown, retryInMs: number): Promise<boolean> {
  const rows = await q
    .update(workItems)
    .set({ ...released, dueAt: after(retryInMs), lastError: errorText(error) })
    .where(held(lease))
    .returning({ id: workItems.id })
  return rows.length > 0
}

/** Given up: the row stays as a dead letter for an operator, out of every claim. */
export async function deadLetter(q: Queryable, lease: Lease, error: unknown): Promise<boolean> {
  const rows = await q
    .update(workItems)
    .set({ ...released, deadAt: sql`now()`, lastError: errorText(error) })
    .where(held(lease))
    .returning({ id: workItems.id })
  return rows.length > 0
}

/**
 * A failed attempt with the queue's policy: retried with backoff while attempts remain, a dead letter
 * after the last. Answers what became of it (`lost`: the lease had gone, nothing changed).
 */
export async function fail(
  q: Queryable,
  item: Pick<WorkItem, 'id' | 'leaseToken' | 'attempts' | 'maxAttempts'>,
  error: unknown,
  backoff: Backoff = DEFAULT_BACKOFF
): Promise<'retry' | 'dead' | 'lost'> {
  if (item.attempts >= item.maxAttempts) return (await deadLetter(q, item, error)) ? 'dead' : 'lost'
  return (await retry(q, item, error, backoffMs(item.attempts, backoff))) ? 'retry' : 'lost'
}

/** Extends the leases still held among these tokens; answers those (a missing one was lost). */
export async function renew(q: Queryable, tokens: readonly string[], leaseMs: number): Promise<Set<string>> {
  if (tokens.length === 0) return new Set()
  const rows = await q
    .update(workItems)
    .set({ leaseExpiresAt: after(leaseMs), updatedAt: sql`now()` })
    .where(and(inArray(workItems.leaseToken, [...tokens]), isNull(workItems.deadAt)))
    .returning({ token: workItems.leaseToken })
  return new Set(rows.flatMap(r => (r.token ? [r.token] : [])))
}

/**
 * A queue with a payload type, so producers and the job that consumes it agree:
 * `const mail = defineQueue<{ to: string }>('mail')`, `mail.enqueue(tx, { payload: { to } })`, and a
 * `QueueJob<{ to: string }>` with `queue: mail.name`.
 */
export function defineQueue<P>(name: string, defaults: { maxAttempts?: number } = {}) {
  return {
    name,
    enqueue: (q: Queryable, input: Omit<EnqueueInput<P>, 'queue' | 'payload'> & { payload: P }) =>
      enqueue<P>(q, { ...defaults, ...input, queue: name })
  }
}

const rowsOf = <T>(result: unknown) => (result as { rows: T[] }).rows
const tokenPairs = (leases: readonly Lease[]) =>
  sql`(id, lease_token) IN (SELECT * FROM unnest(${sqlArray(
    leases.map(l => l.id),
    'uuid'
  )}, ${sqlArray(
    leases.map(l => l.leaseToken),
    'uuid'
  )}))`

/**
 * The leases among these still held, their rows locked until the caller's transaction ends (call it
 * first in the transaction that applies a batch): a row whose lease ran out and was taken over is
 * left out, and no one can claim or replace a held one until the batch commits or rolls back.
 */
export async function holdMany(q: Queryable, leases: readonly Lease[]): Promise<Set<string>> {
  if (leases.length === 0) return new Set()
  const result = await q.execute(
    sql`SELECT id FROM work_items WHERE ${tokenPairs(leases)} AND dead_at IS NULL ORDER BY id FOR UPDATE`
  )
  return new Set(rowsOf<{ id: string }>(result).map(r => r.id))
}

/** `complete` for many: the rows still held go, in one statement. Answers the ids that went. */
export async function completeMany(q: Queryable, leases: readonly Lease[]): Promise<Set<string>> {
  if (leases.length === 0) return new Set()
  const result = await q.execute(sql`DELETE FROM work_items WHERE ${tokenPairs(leases)} RETURNING id`)
  return new Set(rowsOf<{ id: string }>(result).map(r => r.id))
}

/**
 * `reschedule` for many: each row still held comes back at its own due time (and payload, when
 * given), lease released and attempts reset, in one statement. Answers the ids rescheduled.
 */
export async function rescheduleMany(
  q: Queryable,
  items: readonly { lease: Lease; dueAt: Date; payload?: unknown }[]
): Promise<Set<string>> {
  if (items.length === 0) return new Set()
  const result = await q.execute(sql`
    UPDATE work_items AS w SET due_at = v.due_at, payload = coalesce(v.payload, w.payload), attempts = 0,
      last_error = NULL, lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL, updated_at = now()
    FROM unnest(${sqlArray(
      items.map(i => i.lease.id),
      'uuid'
    )}, ${sqlArray(
      items.map(i => i.lease.leaseToken),
      'uuid'
    )}, ${sqlArray(
      items.map(i => i.dueAt.toISOString()),
      'timestamptz'
    )}, ${sqlArray(
      items.map(i => (i.payload === undefined ? null : JSON.stringify(i.payload))),
      'jsonb'
    )}) AS v(id, token, due_at, payload)
    WHERE w.id = v.id AND w.lease_token = v.token
    RETURNING w.id`)
  return new Set(rowsOf<{ id: string }>(result).map(r => r.id))
}

/**
 * How long until the earliest unleased live row of these queues is due, by the database's clock (0
 * when one is due already), or null when there is none. Rows under a lease are left out: one that
 * expires is found by the next poll.
 */
export async function nextDueInMs(q: Queryable, queues: readonly string[]): Promise<number | null> {
  if (queues.length === 0) return null
  const result = await q.execute(sql`
    SELECT greatest(0, extract(epoch FROM (due_at - now())) * 1000)::float8 AS ms FROM work_items
    WHERE dead_at IS NULL AND lease_token IS NULL AND queue = any(${sqlArray([...queues], 'text')})
    ORDER BY due_at LIMIT 1`)
  const [row] = rowsOf<{ ms: number | string }>(result)
  return row ? Number(row.ms) : null
}

/**
 * `enqueue` with `replace: true` for many keys of one queue, in one statement: each key's live row
 * takes this payload and due time (attempts reset, a lease on it released), or a row is added. Keys
 * must be distinct.
 */
export async function armMany<P>(
  q: Queryable,
  queue: string,
  items: readonly { key: string; payload: P; dueAt: Date }[],
  maxAttempts = DEFAULT_MAX_ATTEMPTS
): Promise<void> {
  if (items.length === 0) return
  // Over unnest(…): a batch of escalations re-arms hundreds of clocks in one statement of seven parameters
  await q.execute(sql`
    INSERT INTO work_items (id, queue, key, payload, due_at, max_attempts)
    SELECT v.id, ${queue}, v.key, v.payload, v.due_at, ${maxAttempts}::int
    FROM unnest(${sqlArray(
      items.map(() => uuidv7()),
      'uuid'
    )}, ${sqlArray(
      items.map(i => i.key),
      'text'
    )}, ${sqlArray(
      items.map(i => JSON.stringify(i.payload)),
      'jsonb'
    )}, ${sqlArray(
      items.map(i => i.dueAt.toISOString()),
      'timestamptz'
    )}) AS v(id, key, payload, due_at)
    ON CONFLICT (queue, key) WHERE dead_at IS NULL DO UPDATE SET
      payload = excluded.payload, due_at = excluded.due_at, max_attempts = excluded.max_attempts, attempts = 0,
      last_error = NULL, lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL, updated_at = now()`)
}

/** Removes the live rows of these keys of one queue, in one statement (a holder then fails to complete). */
export async function disarmMany(q: Queryable, queue: string, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return
  await q
    .delete(workItems)
    .where(
      and(
        eq(workItems.queue, queue),
        sql`${workItems.key} = any(${sqlArray([...keys], 'text')})`,
        isNull(workItems.deadAt)
      )
    )
}
