import { sql } from 'drizzle-orm'
import type { Ctx, Deps, Queryable } from './context.js'
import { inTransaction } from './context.js'

/** How fresh a report's data is: the moment it reflects, and how far a replica is behind (null: the primary). */
export interface Freshness {
  asOf: Date
  replicaLagSeconds: number | null
}

/**
 * Asks the database the report read from. On a streaming replica the data is as of the last replayed
 * transaction, unless everything received is replayed (then it is current: an idle primary sends
 * nothing, and `now() - pg_last_xact_replay_timestamp()` would grow without any lag). On the primary
 * (and PGlite) it is now and there is no lag.
 */
export async function freshnessOf(q: Queryable, now?: Date): Promise<Freshness> {
  const result = await q.execute(sql`select now() as now,
    case
      when not pg_is_in_recovery() then null
      when pg_last_wal_receive_lsn() is not distinct from pg_last_wal_replay_lsn() then 0::float8
      else greatest(0, extract(epoch from (now() - pg_last_xact_replay_timestamp())))::float8
    end as lag`)
  const row = (result as unknown as { rows: { now: Date | string; lag: number | string | null }[] }).rows[0]
  // A report that reckons ages and due times by an application clock (`now`) is as of that clock
  const at = now ?? new Date(row?.now ?? Date.now())
  const lag = row?.lag === null || row?.lag === undefined ? null : Number(row.lag)
  return {
    asOf: lag === null ? at : new Date(at.getTime() - Math.round(lag * 1000)),
    replicaLagSeconds: lag === null ? null : Math.round(lag * 1000) / 1000
  }
}

/**
 * The handle a report reads through: the caller's transaction when it is in one (it must see its own
 * writes), the read replica otherwise (or the primary when none is configured).
 */
export const readHandle = (deps: Pick<Deps, 'db' | 'readDb'>, ctx: Pick<Ctx, 'db'>): Queryable =>
  inTransaction(ctx.db) ? ctx.db : (deps.readDb ?? deps.db)

/**
 * Runs a report's queries on the read handle and says how fresh the answer is. `run` gets the
 * freshness too: a report that counts ages or past-due tickets counts them as of `asOf`, the moment
 * its data reflects. `now` is the application clock such a report reckons by (else the database's).
 */
export async function readReport<T extends object>(
  deps: Pick<Deps, 'db' | 'readDb'>,
  ctx: Pick<Ctx, 'db'>,
  run: (q: Queryable, freshness: Freshness) => Promise<T>,
  now?: () => Date
): Promise<T & Freshness> {
  const q = readHandle(deps, ctx)
  // Freshness first: the data read after it is at least that fresh
  const freshness = await freshnessOf(q, now?.())
  const report = await run(q, freshness)
  return { ...report, ...freshness }
}

// work_mem for the report's transaction only: a year's timings (half a million rows hashed and sorted
// for medians) spilled to disk in 8 batches at the default 4 MB; a few report queries at once stay well
// inside memory at 64 MB each
const REPORT_SETTINGS = sql`select set_config('jit', 'off', true), set_config('work_mem', '64MB', true)`

/**
 * One report query with PostgreSQL's JIT off and more work_mem, in a transaction of its own (the caller's when in one):
 * the planner's estimates for report aggregates pass jit_above_cost, and compiling them cost more
 * than running them (measured on 20,000 tickets: 96-286 ms of JIT in 200-850 ms queries). Each query
 * takes its own, so a report's queries still run side by side on the pool.
 */
export async function withoutJit<T>(q: Queryable, run: (q: Queryable) => Promise<T>): Promise<T> {
  if (inTransaction(q)) {
    await q.execute(REPORT_SETTINGS)
    return run(q)
  }
  return q.transaction(async tx => {
    await tx.execute(REPORT_SETTINGS)
    return run(tx)
  })
}
