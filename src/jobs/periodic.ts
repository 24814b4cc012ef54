import { sql } from 'drizzle-orm'
import type { Queryable } from '../lib/context.js'
import type { PeriodicJob } from './job.js'
import type { Lease } from './queue.js'

/**
 * Periodic jobs on the queue: one live row per job (queue and key are the job's name), never a dead
 * letter. `job_runs` keeps the last start, finish and error of each for operators.
 */

const secs = (ms: number) => ms / 1000
const rowsOf = (result: unknown) => (result as { rows: unknown[] }).rows

/**
 * Gives every periodic job its row if it has none: due when its last run (from `job_runs`) says the
 * next one is, else now. Safe to repeat and to race: the dedup key keeps one row per job.
 */
export async function ensurePeriodic(q: Queryable, jobs: readonly PeriodicJob[]): Promise<void> {
  if (jobs.length === 0) return
  await q.execute(sql`
    INSERT INTO work_items (queue, key, due_at)
    SELECT j.name, j.name, coalesce(r.last_started_at + make_interval(secs => j.every_s), now())
    FROM unnest(${sql.param(jobs.map(j => j.name))}::text[], ${sql.param(jobs.map(j => secs(j.everyMs)))}::float8[])
      AS j(name, every_s)
    LEFT JOIN job_runs r ON r.name = j.name
    ON CONFLICT (queue, key) WHERE dead_at IS NULL DO NOTHING`)
}

export async function stampStarted(q: Queryable, job: PeriodicJob, owner: string): Promise<void> {
  await q.execute(sql`
    INSERT INTO job_runs (name, last_started_at, claimed_by) VALUES (${job.name}, now(), ${owner})
    ON CONFLICT (name) DO UPDATE SET last_started_at = now(), claimed_by = excluded.claimed_by`)
}

/**
 * A run went well: the next is due one period after this one was (or a period from now when the run
 * overran it, so a backlog does not replay missed periods). False: the lease had been lost.
 */
export async function periodicDone(q: Queryable, job: PeriodicJob, lease: Lease): Promise<boolean> {
  const every = sql`make_interval(secs => ${secs(job.everyMs)})`
  const result = await q.execute(sql`
    WITH done AS (
      UPDATE work_items SET
        due_at = CASE WHEN due_at + ${every} > now() THEN due_at + ${every} ELSE now() + ${every} END,
        attempts = 0, last_error = NULL,
        lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL, updated_at = now()
      WHERE id = ${lease.id} AND lease_token = ${lease.leaseToken}
      RETURNING queue)
    UPDATE job_runs SET last_finished_at = now(), last_error = NULL
    WHERE name IN (SELECT queue FROM done) RETURNING name`)
  return rowsOf(result).length > 0
}

/** A run failed: tried again after the backoff, never later than a period from now. */
export async function periodicFailed(
  q: Queryable,
  job: PeriodicJob,
  lease: Lease,
  error: string,
  retryInMs: number
): Promise<boolean> {
  const result = await q.execute(sql`
    WITH failed AS (
      UPDATE work_items SET
        due_at = now() + make_interval(secs => ${secs(Math.min(retryInMs, job.everyMs))}),
        last_error = ${error},
        lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL, updated_at = now()
      WHERE id = ${lease.id} AND lease_token = ${lease.leaseToken}
      RETURNING queue)
    UPDATE job_runs SET last_error = ${error}
    WHERE name IN (SELECT queue FROM failed) RETURNING name`)
  return rowsOf(result).length > 0
}
