import { eq, lt, sql } from 'drizzle-orm'
import type { FastifyBaseLogger } from 'fastify'
import type { Db } from '../db/client.js'
import { rateCounters } from '../db/schema/index.js'

export interface Hit {
  /** Hits in the current window, this one included. */
  hits: number
  /** Milliseconds until the window ends. */
  resetMs: number
}

const SWEEP_EVERY = 5000

/**
 * Fixed-window counters in the database, so every API instance counts against the same limit. A hit
 * is one upsert of one row: concurrent hits on a key queue on its row lock, so the count each one
 * gets back is exact (no read-then-write race), on PostgreSQL and PGlite alike.
 */
export function createRateCounter(db: Db, log: FastifyBaseLogger) {
  const expired = sql`${rateCounters.windowStart} <= now() - make_interval(secs => ${sql.placeholder('secs')}::double precision)`
  const hitQuery = db
    .insert(rateCounters)
    .values({ key: sql.placeholder('key'), hits: sql.placeholder('n') })
    .onConflictDoUpdate({
      target: rateCounters.key,
      set: {
        hits: sql`CASE WHEN ${expired} THEN excluded.hits ELSE ${rateCounters.hits} + excluded.hits END`,
        windowStart: sql`CASE WHEN ${expired} THEN now() ELSE ${rateCounters.windowStart} END`
      }
    })
    .returning({
      hits: rateCounters.hits,
      resetMs: sql<number>`greatest(0, ceil(extract(epoch FROM (${rateCounters.windowStart} + make_interval(secs => ${sql.placeholder('secs')}::double precision) - now())) * 1000))::int`
    })
    .prepare('rate_counter_hit')

  let sinceSweep = 0
  /** Rows of windows long gone are deleted now and then, off the request's path. */
  function sweep() {
    if (++sinceSweep < SWEEP_EVERY) return
    sinceSweep = 0
    db.delete(rateCounters)
      .where(lt(rateCounters.windowStart, sql`now() - interval '1 day'`))
      .catch(err => log.warn({ err }, 'could not sweep rate counters'))
  }

  return {
    /** Counts `n` hits on `key` and answers the window's total. */
    async hit(key: string, windowMs: number, n = 1): Promise<Hit> {
      sweep()
      const [row] = await hitQuery.execute({ key, n, secs: windowMs / 1000 })
      return { hits: Number(row?.hits ?? n), resetMs: Number(row?.resetMs ?? windowMs) }
    },
    /** Takes one hit back (a successful login is not a failure against its address). */
    async giveBack(key: string): Promise<void> {
      await db
        .update(rateCounters)
        .set({ hits: sql`greatest(0, ${rateCounters.hits} - 1)` })
        .where(eq(rateCounters.key, key))
    },
    /** Starts the key afresh (a successful login clears its user's failures). */
    async reset(key: string): Promise<void> {
      await db.delete(rateCounters).where(eq(rateCounters.key, key))
    }
  }
}

export type RateCounter = ReturnType<typeof createRateCounter>
