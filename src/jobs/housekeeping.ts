import { lt, sql } from 'drizzle-orm'
import { idempotencyKeys } from '../db/schema/index.js'
import type { PeriodicJob } from './job.js'

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
