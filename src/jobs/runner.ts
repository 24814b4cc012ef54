import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import {
  type BatchQueueJob,
  DEFAULT_TIMEOUT_MS,
  isBatchJob,
  isQueueJob,
  isWorkerJob,
  type Job,
  type JobDeps,
  type JobResult,
  type PeriodicJob,
  type QueueJob,
  queueOf
} from './job.js'
import { ensurePeriodic, periodicDone, periodicFailed, stampStarted } from './periodic.js'
import {
  backoffMs,
  claim,
  complete,
  completeMany,
  deadLetter,
  fail,
  nextDueInMs,
  renew,
  type WorkItem
} from './queue.js'

export interface RunnerOptions {
  /** Items run at once by this runner. Default `SCHEDULER_CONCURRENCY`. */
  concurrency?: number
  /** How long a claim holds without renewal; renewed every third of it while running. Default `SCHEDULER_LEASE_MS`. */
  leaseMs?: number
  /** Lease owner shown to operators. Default host:pid:random. */
  owner?: string
  /** Told of every run once it ends (metrics): the job, how it ended, and how long it ran. */
  observe?: RunObserver
}

/** ok: done; failed: threw or timed out (retried or dead-lettered); abandoned: its lease was lost. */
export type RunOutcome = 'ok' | 'failed' | 'abandoned'
export type RunObserver = (job: string, outcome: RunOutcome, seconds: number) => void

/** A run that outlived its job's timeout. */
export class JobTimeoutError extends Error {
  constructor(ms: number) {
    super(`timed out after ${ms} ms`)
    this.name = 'JobTimeoutError'
  }
}

/** The lease ran out or was taken over (the row was replaced or claimed by another runner). */
export class LeaseLostError extends Error {
  constructor() {
    super('lease lost')
    this.name = 'LeaseLostError'
  }
}

/**
 * Runs jobs from the work queue. Each poll leases as many due rows as there are free slots and runs
 * each on its own, so a slow job holds one slot and delays no other. Leases are renewed while items
 * run; a runner killed mid-item stops renewing and another takes the item over when the lease
 * expires. Any number of runners (processes) may share one database.
 */
export function createJobRunner(deps: JobDeps, jobs: readonly Job[], pollMs: number, opts: RunnerOptions = {}) {
  const concurrency = opts.concurrency ?? deps.config.SCHEDULER_CONCURRENCY
  const leaseMs = opts.leaseMs ?? deps.config.SCHEDULER_LEASE_MS
  const owner = opts.owner ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`
  const log = deps.log
  const observe = (job: string, outcome: RunOutcome, startedAt: number) => {
    if (!opts.observe) return
    try {
      opts.observe(job, outcome, (performance.now() - startedAt) / 1000)
    } catch (err) {
      log.warn({ err, job }, 'a run observer failed')
    }
  }

  const byQueue = new Map<string, PeriodicJob | QueueJob>()
  const batchJobs = new Map<string, BatchQueueJob>()
  const workerJobs = jobs.filter(isWorkerJob)
  let workers: { stop(): Promise<void> }[] = []
  for (const job of jobs) {
    if (isWorkerJob(job)) continue
    const queue = queueOf(job)
    if (byQueue.has(queue) || batchJobs.has(queue)) throw new Error(`two jobs take work from the queue "${queue}"`)
    if (isBatchJob(job)) batchJobs.set(queue, job)
    else byQueue.set(queue, job)
  }
  const queues = [...byQueue.keys()]
  const allQueues = [...queues, ...batchJobs.keys()]
  const periodic = jobs.filter((j): j is PeriodicJob => !isQueueJob(j) && !isWorkerJob(j) && !isBatchJob(j))

  /** What runs now, by its first lease token: one item, or a batch holding all of its tokens. */
  const inFlight = new Map<string, { controller: AbortController; done: Promise<void>; tokens: string[] }>()
  let stopped = true
  let wakeTimer: NodeJS.Timeout | null = null
  let heartbeat: NodeJS.Timeout | null = null
  let cycle: Promise<void> | null = null
  let again = false
  let saturated = false
  let lastEnsured = 0
  /** When the pending wake fires (ms since the epoch), so a nudge only ever brings it forward. */
  let wakeAt = Number.POSITIVE_INFINITY

  async function ensure(force = false) {
    if (!force && Date.now() - lastEnsured < pollMs) return
    await ensurePeriodic(deps.db, periodic)
    lastEnsured = Date.now()
  }

  /**
   * Leases what fits in the free slots and starts it: a batch per free slot for each batch queue (one
   * claim statement each), then single items for the rest. Answers their completions.
   */
  async function claimAndStart(): Promise<Promise<void>[]> {
    const started: Promise<void>[] = []
    saturated = false
    for (const job of batchJobs.values()) {
      while (concurrency - inFlight.size > 0) {
        const items = await claim(deps.db, { queues: [job.queue], limit: job.batchSize, leaseMs, owner })
        if (items.length === 0) break
        started.push(startBatch(job, items))
        if (items.length < job.batchSize) break
        saturated = true
      }
    }
    const free = concurrency - inFlight.size
    if (free <= 0) {
      saturated = true
      return started
    }
    if (queues.length === 0) return started
    const items = await claim(deps.db, { queues, limit: free, leaseMs, owner })
    if (items.length === free) saturated = true
    return [...started, ...items.map(start)]
  }

  function track(tokens: string[], run: (controller: AbortController) => Promise<void>): Promise<void> {
    const controller = new AbortController()
    const done = run(controller).finally(() => {
      inFlight.delete(tokens[0]!)
      if (inFlight.size === 0 && heartbeat) {
        clearInterval(heartbeat)
        heartbeat = null
      }
      if (saturated && !stopped) wake(0)
    })
    inFlight.set(tokens[0]!, { controller, done, tokens })
    heartbeat ??= setInterval(() => void renewLeases(), Math.max(50, Math.floor(leaseMs / 3)))
    return done
  }

  const start = (item: WorkItem) => track([item.leaseToken], controller => execute(item, controller))
  const startBatch = (job: BatchQueueJob, items: WorkItem[]) =>
    track(
      items.map(i => i.leaseToken),
      controller => executeBatch(job, items, controller)
    )

  async function renewLeases() {
    try {
      const runs = [...inFlight.values()]
      const kept = await renew(
        deps.db,
        runs.flatMap(r => r.tokens),
        leaseMs
      )
      // A batch goes on while it holds any of its rows (it settles only those it still holds)
      for (const run of runs) if (!run.tokens.some(t => kept.has(t))) run.controller.abort(new LeaseLostError())
    } catch (err) {
      log.warn({ err }, 'could not renew work item leases')
    }
  }

  async function executeBatch(job: BatchQueueJob, items: WorkItem[], controller: AbortController): Promise<void> {
    const timeoutMs = job.timeoutMs ?? DEFAULT_TIMEOUT_MS
    // Claimed more often than allowed without an outcome: its batches keep dying with their runner
    const worn = items.filter(i => i.attempts > i.maxAttempts)
    for (const item of worn) {
      await deadLetter(deps.db, item, `lease expired ${item.attempts - 1} times without an outcome`).catch(() => {})
      log.error({ job: job.name, item: item.id }, 'work item dead-lettered')
    }
    const live = items.filter(i => i.attempts <= i.maxAttempts)
    if (live.length === 0) return
    const startedAt = performance.now()
    try {
      const result = await within(timeoutMs, controller, signal => job.runBatch({ ...deps, signal }, live))
      observe(job.name, 'ok', startedAt)
      // Rows the job did not settle in its own transaction are done now
      await completeMany(deps.db, live)
      log.debug({ job: job.name, items: live.length, ...result }, 'batch done')
    } catch (err) {
      if (err instanceof LeaseLostError) {
        observe(job.name, 'abandoned', startedAt)
        log.warn({ job: job.name, items: live.length }, 'batch abandoned: leases lost')
        return
      }
      observe(job.name, 'failed', startedAt)
      log.warn({ err, job: job.name, items: live.length }, 'batch failed')
      for (const item of live) {
        await fail(deps.db, item, err, job.backoff).catch(e => log.error({ err: e, job: job.name }, 'could not fail'))
      }
    }
  }

  async function execute(item: WorkItem, controller: AbortController): Promise<void> {
    const job = byQueue.get(item.queue)
    if (!job) return
    const timeoutMs = job.timeoutMs ?? DEFAULT_TIMEOUT_MS
    let startedAt: number | null = null
    try {
      if (isQueueJob(job) && item.attempts > item.maxAttempts) {
        // Claimed more often than allowed without an outcome: its runs keep dying with their runner
        await deadLetter(deps.db, item, `lease expired ${item.attempts - 1} times without an outcome`)
        log.error({ job: job.name, item: item.id }, 'work item dead-lettered')
        return
      }
      if (!isQueueJob(job)) await stampStarted(deps.db, job, owner)
      startedAt = performance.now()
      const result = await within(timeoutMs, controller, signal => {
        const ctx = { ...deps, signal }
        return isQueueJob(job) ? job.run(ctx, item) : job.run(ctx)
      })
      observe(job.name, 'ok', startedAt)
      startedAt = null
      await succeeded(job, item, result)
    } catch (err) {
      // A run that ended (not one that never began, nor the bookkeeping after a good one)
      if (startedAt !== null) observe(job.name, err instanceof LeaseLostError ? 'abandoned' : 'failed', startedAt)
      await failed(job, item, err).catch(e => log.error({ err: e, job: job.name }, 'could not record a failed run'))
    }
  }

  async function succeeded(job: PeriodicJob | QueueJob, item: WorkItem, result: JobResult) {
    if (isQueueJob(job)) {
      // false when the handler completed it in its own transaction, or the lease was lost
      await complete(deps.db, item)
      log.debug({ job: job.name, item: item.id, ...result }, 'work item done')
      return
    }
    if (await periodicDone(deps.db, job, item)) log.info({ job: job.name, ...result }, 'job finished')
    else log.warn({ job: job.name }, 'job finished after losing its lease')
  }

  async function failed(job: PeriodicJob | QueueJob, item: WorkItem, err: unknown) {
    if (err instanceof LeaseLostError) {
      log.warn({ job: job.name, item: item.id }, 'work item abandoned: lease lost')
      return
    }
    if (isQueueJob(job)) {
      const outcome = await fail(deps.db, item, err, job.backoff)
      const entry = { err, job: job.name, item: item.id, attempts: item.attempts, outcome }
      if (outcome === 'dead') log.error(entry, 'work item dead-lettered')
      else log.warn(entry, 'work item failed')
      return
    }
    log.error({ err, job: job.name }, 'job failed')
    const message = String(err instanceof Error ? err.message : err).slice(0, 2000)
    await periodicFailed(deps.db, job, item, message, backoffMs(item.attempts))
  }

  function wake(delayMs: number) {
    if (stopped) return
    if (wakeTimer) clearTimeout(wakeTimer)
    wakeAt = Date.now() + delayMs
    wakeTimer = setTimeout(runCycle, delayMs)
  }

  /** Sleeps until the next row is due, never longer than the poll (which also finds expired leases). */
  async function sleepUntilDue() {
    if (stopped || wakeTimer || again) return
    const ms = await nextDueInMs(deps.db, allQueues).catch(err => {
      log.warn({ err }, 'could not read the next due time')
      return null
    })
    if (stopped || wakeTimer || again) return
    wake(Math.min(pollMs, Math.ceil(ms ?? pollMs)))
  }

  function runCycle() {
    wakeTimer = null
    wakeAt = Number.POSITIVE_INFINITY
    if (cycle) {
      again = true
      return
    }
    cycle = (async () => {
      await ensure()
      await claimAndStart()
      if (!saturated) await sleepUntilDue()
    })()
      .catch(err => log.error({ err }, 'scheduler poll failed'))
      .finally(() => {
        cycle = null
        if (again) {
          again = false
          wake(0)
        } else if (!wakeTimer) wake(pollMs)
      })
  }

  return {
    owner,
    start() {
      stopped = false
      workers = workerJobs.map(w => w.start(deps))
      wake(0)
    },
    /** Stop claiming; wait for the items in hand (their leases kept renewed meanwhile). */
    async stop() {
      stopped = true
      if (wakeTimer) clearTimeout(wakeTimer)
      wakeTimer = null
      await cycle
      await Promise.all([...inFlight.values()].map(f => f.done))
      await Promise.all(workers.map(w => w.stop()))
      workers = []
    },
    /**
     * Something falls due at `dueAtMs` (a LISTEN/NOTIFY wake-up): wake then if that is sooner than
     * planned. Polling stays the source of truth; a lost nudge only delays work to the next poll.
     */
    nudge(dueAtMs: number = Date.now()) {
      if (stopped || dueAtMs >= wakeAt) return
      if (cycle) {
        again = true
        return
      }
      wake(Math.max(0, dueAtMs - Date.now()))
    },
    /** One poll, run to the end: what is due now is claimed and finished before it resolves. */
    async tick() {
      await ensure(true)
      await Promise.all(await claimAndStart())
    },
    /** Items running now. */
    get busy() {
      return inFlight.size
    }
  }
}

/** Runs `work` with a signal that aborts after `ms`; the run counts as failed at that moment. */
function within<T>(ms: number, controller: AbortController, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const { signal } = controller
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => controller.abort(new JobTimeoutError(ms)), ms)
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    Promise.resolve()
      .then(() => work(signal))
      .then(resolve, reject)
      .finally(() => {
        clearTimeout(timer)
        signal.removeEventListener('abort', onAbort)
      })
  })
}
