import { and, eq, lt, sql } from 'drizzle-orm'
import { idempotencyKeys } from '../db/schema/index.js'
import { type Ctx, withTx } from './context.js'
import { AppError, badRequest, conflict } from './errors.js'
import { hashJson } from './secrets.js'

const LEASE_MS = 30_000
/** 1 to 255 visible ASCII characters; also declared in the OpenAPI document. */
export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,255}$/

export interface IdempotentResult<T> {
  status: number
  body: T
  replayed: boolean
}

const principalOf = (ctx: Ctx) =>
  ctx.actor.via === 'token' ? `token:${ctx.actor.credentialId}` : `user:${ctx.actor.id ?? ctx.actor.username}`

export function assertIdempotencyKey(key: string, field = 'Idempotency-Key'): void {
  if (!IDEMPOTENCY_KEY_PATTERN.test(key)) {
    throw badRequest(`${field} must be 1 to 255 visible ASCII characters`, [
      { field, message: 'must be 1 to 255 visible ASCII characters' }
    ])
  }
}

/**
 * Stripe-style idempotency. The key is claimed in its own statement (a concurrent duplicate sees it
 * in flight: 409); the business write and the stored answer commit in one transaction; a failure
 * releases the key so a corrected retry can run. Same key with another body: 422. Keys are scoped to
 * the caller (a token, or a user) and kept at least 24 hours.
 */
export async function runIdempotent<T>(
  ctx: Ctx,
  key: string | undefined,
  operation: string,
  request: unknown,
  status: number,
  run: (ctx: Ctx) => Promise<T>
): Promise<IdempotentResult<T>> {
  // Without a key `run` gets the caller's handle: it must be atomic on its own (one statement, or withTx)
  if (key === undefined) return { status, body: await run(ctx), replayed: false }
  const { db } = ctx
  assertIdempotencyKey(key)
  const principal = principalOf(ctx)
  const requestHash = hashJson({ operation, request })
  const where = and(eq(idempotencyKeys.principal, principal), eq(idempotencyKeys.key, key))

  const claimed = await db
    .insert(idempotencyKeys)
    .values({ principal, key, operation, requestHash, lockedUntil: new Date(Date.now() + LEASE_MS) })
    .onConflictDoNothing()
    .returning({ key: idempotencyKeys.key })

  if (claimed.length === 0) {
    const [existing] = await db.select().from(idempotencyKeys).where(where)
    if (existing) {
      if (existing.requestHash !== requestHash) {
        throw new AppError(
          'IDEMPOTENCY_KEY_REUSED',
          422,
          'Unprocessable Content',
          'this Idempotency-Key was used with a different request',
          [{ field: 'Idempotency-Key', message: 'already used with a different request body' }]
        )
      }
      if (existing.responseStatus !== null) {
        return { status: existing.responseStatus, body: existing.responseBody as T, replayed: true }
      }
    }
    // In flight elsewhere, unless its lease ran out (the first attempt died): then take it over
    const taken = await db
      .update(idempotencyKeys)
      .set({ lockedUntil: new Date(Date.now() + LEASE_MS) })
      .where(and(where, sql`${idempotencyKeys.responseStatus} IS NULL`, lt(idempotencyKeys.lockedUntil, new Date())))
      .returning({ key: idempotencyKeys.key })
    if (taken.length === 0) {
      throw conflict('a request with this Idempotency-Key is still in progress; retry later')
    }
  }

  try {
    const body = await withTx(ctx, async (tx, txCtx) => {
      const result = await run(txCtx)
      await tx
        .update(idempotencyKeys)
        .set({ responseStatus: status, responseBody: JSON.parse(JSON.stringify(result)) })
        .where(where)
      return result
    })
    return { status, body, replayed: false }
  } catch (err) {
    await db
      .delete(idempotencyKeys)
      .where(and(where, sql`${idempotencyKeys.responseStatus} IS NULL`))
      .catch(() => {})
    throw err
  }
}
