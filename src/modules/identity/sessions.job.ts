import { lt, or, sql } from 'drizzle-orm'
import { sessions } from '../../db/schema/index.js'
import type { PeriodicJob } from '../../jobs/job.js'

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
