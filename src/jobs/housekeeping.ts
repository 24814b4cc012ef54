import { lt, or, sql } from 'drizzle-orm'
import { idempotencyKeys, sessions } from '../db/schema/index.js'
import type { PeriodicJob } from './job.js'

/** Sessions a day past expiry or revocation are of no further use. */
export const purgeSessions: PeriodicJob = {
  name: 'purge-sessions',
  everyMs: 60 * 60_000,
  async run({ db }) {
    const gone = await db
      .delete(sessions)
      .where(
        or(lt(sessions.expiresAt, sql`now() - interval '1 day'`), lt(sessions.revokedAt, sql`now() - interval '1 day'`))
      )
      .returning({ id: sessions.id })
    return { purged: gone.length }
  }
}

/** Idempotency keys are promised for 24 hours; keep them 48. */
export const purgeIdempotencyKeys: PeriodicJob = {
  name: 'purge-idempotency-keys',
  everyMs: 60 * 60_000,
  async run({ db }) {
    const gone = await db
      .delete(idempotencyKeys)
      .where(lt(idempotencyKeys.createdAt, sql`now() - interval '48 hours'`))
      .returning({ key: idempotencyKeys.key })
    return { purged: gone.length }
  }
}
