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

/**
 * Handles the due rows of `queue` a batch at a time: up to `batchSize` rows claimed in one statement
 * and handed over together, so the job applies them in one transaction (its audit and outbox rows
 * with it) and settles them there (`holdMany`, then `completeMany`/`rescheduleMany` in that
 * transaction for exactly once). Rows it left unsettled are completed after it returns; a throw
 * fails each row with the queue's backoff. A batch holds one of the runner's slots.
 */
export interface BatchQueueJob<P = unknown> extends JobBase {
  queue: string
  batchSize: number
  backoff?: Backoff
  runBatch(ctx: JobContext, items: WorkItem<P>[]): Promise<JobResult>
}

/**
 * Runs on its own for as long as the runner does: started with it, stopped (and waited for) with it.
 * For work with its own claims in batches (the notification dispatcher), where one queue row per run
 * would cost more than the work; it must lease what it takes as the queue does.
 */
export interface WorkerJob {
  name: string
  worker: true
  start(deps: JobDeps): { stop(): Promise<void> }
}

/** A scheduled job as data: `{ name, everyMs, run }`, `{ name, queue, run }` or `{ name, worker, start }`. */
export type Job = PeriodicJob | QueueJob | BatchQueueJob | WorkerJob

export const isBatchJob = (job: Job): job is BatchQueueJob => 'runBatch' in job
export const isQueueJob = (job: Job): job is QueueJob => 'queue' in job && !isBatchJob(job)
export const isWorkerJob = (job: Job): job is WorkerJob => 'worker' in job

export const DEFAULT_TIMEOUT_MS = 5 * 60_000

/** The queue a job takes its rows from. */
export const queueOf = (job: PeriodicJob | QueueJob | BatchQueueJob): string => ('queue' in job ? job.queue : job.name)
