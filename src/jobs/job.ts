import type { Deps } from '../lib/context.js'
import type { Services } from '../lib/ports.js'
import type { Backoff, WorkItem } from './queue.js'

/** What a job is built from: the same services the API uses, without Fastify. */
export type JobDeps = Deps & { services: Services }

/** What a run receives: `signal` aborts at the job's timeout (or when its lease is lost). */
export interface JobContext extends JobDeps {
  signal: AbortSignal
}

export type JobResult = Record<string, unknown> | undefined

interface JobBase {
  /** Unique among jobs; a periodic job's row lives in the queue of this name. */
  name: string
  /** A run still going after this long is aborted and counts as a failed attempt. Default 5 minutes. */
  timeoutMs?: number
}

/** Runs every `everyMs`: one row in the queue, moved to its next due time after each run. */
export interface PeriodicJob extends JobBase {
  everyMs: number
  run(ctx: JobContext): Promise<JobResult>
}

/** Handles the due rows of `queue`, one row per run: retried with backoff, dead after `maxAttempts`. */
export interface QueueJob<P = unknown> extends JobBase {
  queue: string
  backoff?: Backoff
  run(ctx: JobContext, item: WorkItem<P>): Promise<JobResult>
}

/** A scheduled job as data: `{ name, everyMs, run }` or `{ name, queue, run }`. */
export type Job = PeriodicJob | QueueJob

export const isQueueJob = (job: Job): job is QueueJob => 'queue' in job

export const DEFAULT_TIMEOUT_MS = 5 * 60_000

/** The queue a job takes its rows from. */
export const queueOf = (job: Job): string => (isQueueJob(job) ? job.queue : job.name)
