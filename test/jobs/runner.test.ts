import { eq, sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jobRuns, workItems } from '../../src/db/schema/index.js'
import type { PeriodicJob, QueueJob } from '../../src/jobs/job.js'
import { enqueue } from '../../src/jobs/queue.js'
import { createJobRunner } from '../../src/jobs/runner.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { rowsOf, waitFor } from '../helpers/wait.js'

/** A promise the test opens when it chooses. */
function gate() {
  let open: () => void = () => {}
  const closed = new Promise<void>(r => {
    open = r
  })
  return { closed, open }
}

describe('the job runner', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await buildTestApp()
  })
  afterAll(async () => t?.close())

  const deps = () => ({ db: t.db, config: t.app.config, log: t.app.log, services: t.app.services })
  const itemsOf = (queue: string) => t.db.select().from(workItems).where(eq(workItems.queue, queue))

  it('runs jobs independently: a slow job delays no other', async () => {
    const slowGate = gate()
    let slowStarted = false
    let slowDone = false
    let fastRuns = 0
    const slow: PeriodicJob = {
      name: 'test-slow',
      everyMs: 60_000,
      async run() {
        slowStarted = true
        await slowGate.closed
        slowDone = true
        return undefined
      }
    }
    const fast: PeriodicJob = {
      name: 'test-fast',
      everyMs: 100,
      async run() {
        fastRuns++
        return { runs: fastRuns }
      }
    }
    const runner = createJobRunner(deps(), [slow, fast], 50, { concurrency: 2 })
    runner.start()
    try {
      await waitFor('the slow job to start', () => slowStarted)
      const before = fastRuns
      await waitFor('the fast job to run three more times', () => fastRuns >= before + 3)
      expect(slowDone).toBe(false)
      expect(runner.busy).toBeGreaterThanOrEqual(1)
    } finally {
      slowGate.open()
      await runner.stop()
    }
    expect(slowDone).toBe(true)
    const [row] = await t.db.select().from(jobRuns).where(eq(jobRuns.name, 'test-slow'))
    expect(row?.lastFinishedAt).toBeInstanceOf(Date)
  })

  it('runs queued items side by side up to its concurrency, never more', async () => {
    const queue = 'test-side-by-side'
    let running = 0
    let most = 0
    const waiting: (() => void)[] = []
    const job: QueueJob = {
      name: queue,
      queue,
      async run() {
        running++
        most = Math.max(most, running)
        await new Promise<void>(r => waiting.push(r))
        running--
        return undefined
      }
    }
    for (let i = 0; i < 5; i++) await enqueue(t.db, { queue, payload: { i } })
    const runner = createJobRunner(deps(), [job], 60_000, { concurrency: 3 })
    runner.start()
    try {
      await waitFor('three items to run at once', () => running === 3)
      // Each one finishing frees a slot that the next due item takes without waiting for the poll
      for (let done = 0; done < 5; done++) {
        await waitFor('an item to be waiting', () => waiting.length > 0)
        waiting.shift()!()
      }
      await waitFor('the queue to empty', async () => (await itemsOf(queue)).length === 0)
    } finally {
      for (const w of waiting) w()
      await runner.stop()
    }
    expect(most).toBe(3)
  })

  it('keeps one row per periodic job, moved a period on after each run', async () => {
    const job: PeriodicJob = { name: 'test-period', everyMs: 60_000, run: async () => ({ ok: true }) }
    const runners = [1, 2].map(() => createJobRunner(deps(), [job], 1000))
    await Promise.all(runners.map(r => r.tick()))
    const [row, ...more] = await itemsOf('test-period')
    expect(more).toEqual([])
    expect(row).toMatchObject({ key: 'test-period', attempts: 0, leaseToken: null, lastError: null })
    const result = await t.db.execute(
      sql`select (extract(epoch from due_at - now()) * 1000)::float8 as ms from work_items where id = ${row!.id}`
    )
    const wait = Number(rowsOf<{ ms: number }>(result)[0]?.ms)
    expect(wait).toBeGreaterThan(50_000)
    expect(wait).toBeLessThanOrEqual(60_000)
  })

  it('retries a failing periodic job within its period and never gives it up', async () => {
    let runs = 0
    const job: PeriodicJob = {
      name: 'test-always-fails',
      everyMs: 60_000,
      async run() {
        runs++
        throw new Error(`failure ${runs}`)
      }
    }
    const runner = createJobRunner(deps(), [job], 1000)
    for (let i = 0; i < 12; i++) {
      await runner.tick()
      await t.db.update(workItems).set({ dueAt: sql`now()` }).where(eq(workItems.queue, job.name))
    }
    expect(runs).toBe(12)
    const [row] = await itemsOf(job.name)
    expect(row).toMatchObject({ attempts: 12, deadAt: null, lastError: 'failure 12' })
    const [run] = await t.db.select().from(jobRuns).where(eq(jobRuns.name, job.name))
    expect(run?.lastError).toBe('failure 12')
  })

  it('a periodic run past its timeout is a failed run, recorded as such', async () => {
    const job: PeriodicJob = {
      name: 'test-periodic-timeout',
      everyMs: 60_000,
      timeoutMs: 50,
      run: ({ signal }) =>
        new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason)))
    }
    await createJobRunner(deps(), [job], 1000).tick()
    const [run] = await t.db.select().from(jobRuns).where(eq(jobRuns.name, job.name))
    expect(run).toMatchObject({ lastError: 'timed out after 50 ms', lastFinishedAt: null })
    expect((await itemsOf(job.name))[0]).toMatchObject({ attempts: 1, lastError: 'timed out after 50 ms' })
  })

  it('refuses two jobs taking work from one queue', () => {
    const a: PeriodicJob = { name: 'same', everyMs: 1000, run: async () => undefined }
    const b: QueueJob = { name: 'other', queue: 'same', run: async () => undefined }
    expect(() => createJobRunner(deps(), [a, b], 1000)).toThrow('two jobs take work from the queue "same"')
  })
})
