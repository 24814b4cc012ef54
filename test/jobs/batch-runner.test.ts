import { eq, sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { workItems } from '../../src/db/schema/index.js'
import type { BatchQueueJob } from '../../src/jobs/job.js'
import { claim, enqueue, holdMany, nextDueInMs, rescheduleMany } from '../../src/jobs/queue.js'
import { createJobRunner } from '../../src/jobs/runner.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { rowsOf, waitFor } from '../helpers/wait.js'

describe('batch queue jobs and the next due time', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await buildTestApp()
  })
  afterAll(async () => t?.close())

  const deps = () => ({ db: t.db, config: t.app.config, log: t.app.log, services: t.app.services })
  const itemsOf = (queue: string) => t.db.select().from(workItems).where(eq(workItems.queue, queue))

  it('hands due rows over in batches, each applied and settled in one transaction with its own rows', async () => {
    const queue = 'test-batch'
    await t.db.execute(sql`create table if not exists batch_effects (item_id uuid primary key, batch int not null)`)
    for (let i = 0; i < 25; i++) await enqueue(t.db, { queue, key: `k${i}`, payload: { i } })
    const batches: number[] = []
    const job: BatchQueueJob<{ i: number }> = {
      name: queue,
      queue,
      batchSize: 10,
      async runBatch(ctx, items) {
        batches.push(items.length)
        const n = batches.length
        await ctx.db.transaction(async tx => {
          const held = await holdMany(tx, items)
          for (const item of items.filter(x => held.has(x.id))) {
            await tx.execute(sql`insert into batch_effects values (${item.id}, ${n})`)
          }
          // The even ones come back in an hour; the odd ones are left for the runner to complete
          const again = items.filter(x => x.payload.i % 2 === 0)
          const moved = await rescheduleMany(
            tx,
            again.map(x => ({ lease: x, dueAt: new Date(Date.now() + 3_600_000), payload: { i: x.payload.i + 1 } }))
          )
          expect(moved.size).toBe(again.length)
        })
        return { n: items.length }
      }
    }
    const runner = createJobRunner(deps(), [job], 60_000, { concurrency: 1 })
    await runner.tick()
    await runner.tick()
    await runner.tick()
    expect(batches).toEqual([10, 10, 5])
    const effects = rowsOf<{ n: number }>(await t.db.execute(sql`select count(*)::int as n from batch_effects`))
    expect(effects[0]!.n).toBe(25)
    const left = await itemsOf(queue)
    // 13 even ones rescheduled (lease released, attempts reset, payload moved on), the rest completed
    expect(left).toHaveLength(13)
    expect(left.every(r => r.leaseToken === null && r.attempts === 0 && (r.payload as { i: number }).i % 2 === 1)).toBe(
      true
    )
    const ms = await nextDueInMs(t.db, [queue])
    expect(ms).toBeGreaterThan(3_500_000)
    expect(ms).toBeLessThanOrEqual(3_600_000)
    expect(await nextDueInMs(t.db, ['test-nothing-here'])).toBeNull()
  })

  it('skips rows whose lease was taken over, and fails the batch with backoff when the job throws', async () => {
    const queue = 'test-batch-fail'
    for (let i = 0; i < 3; i++) await enqueue(t.db, { queue, payload: { i } })
    const [stale, ...rest] = await claim(t.db, { queues: [queue], limit: 3, leaseMs: 1, owner: 'old' })
    await new Promise(r => setTimeout(r, 20))
    // Another claimer takes the expired leases over: the old holder no longer holds any
    const taken = await claim(t.db, { queues: [queue], limit: 3, leaseMs: 60_000, owner: 'new' })
    expect(taken).toHaveLength(3)
    const heldByOld = await t.db.transaction(tx => holdMany(tx, [stale!, ...rest]))
    expect(heldByOld.size).toBe(0)
    expect((await t.db.transaction(tx => holdMany(tx, taken))).size).toBe(3)

    // A throwing batch: every row back with an error and a later due time
    await t.db.update(workItems).set({ leaseToken: null, leaseExpiresAt: null }).where(eq(workItems.queue, queue))
    const job: BatchQueueJob = {
      name: queue,
      queue,
      batchSize: 10,
      async runBatch() {
        throw new Error('the batch broke')
      }
    }
    const runner = createJobRunner(deps(), [job], 60_000, { concurrency: 1 })
    await runner.tick()
    const rows = await itemsOf(queue)
    expect(rows).toHaveLength(3)
    expect(rows.every(r => r.lastError === 'the batch broke' && r.leaseToken === null)).toBe(true)
    expect(rows.every(r => r.dueAt.getTime() > Date.now())).toBe(true)
  })

  it('sleeps until the next due time rather than the whole poll, and a nudge wakes it early', async () => {
    const queue = 'test-batch-sleep'
    const seen: number[] = []
    const job: BatchQueueJob = {
      name: queue,
      queue,
      batchSize: 10,
      async runBatch(_ctx, items) {
        seen.push(Date.now())
        return { n: items.length }
      }
    }
    // A poll of a minute: only the due time (or a nudge) can make it run within the test
    const runner = createJobRunner(deps(), [job], 60_000, { concurrency: 1 })
    // Before the insert: the row is due 700 ms after the database's now() at the insert
    const started = Date.now()
    await enqueue(t.db, { queue, delayMs: 700 })
    runner.start()
    try {
      // The first poll finds nothing due yet and sleeps until the row is, not for the minute
      await waitFor('the row due in 700 ms to run', () => seen.length === 1, { timeoutMs: 10_000 })
      // Not before it was due (50 ms for the two clocks to disagree)
      expect(seen[0]! - started).toBeGreaterThanOrEqual(650)
      await new Promise(r => setTimeout(r, 200))
      await enqueue(t.db, { queue, delayMs: 300 })
      // Enqueued after the runner went to sleep for the poll: a nudge makes it look again
      runner.nudge()
      await waitFor('the row due in 300 ms to run', () => seen.length === 2, { timeoutMs: 10_000 })
      // The runner settles the batch after runBatch returns: both rows end completed (gone), none rescheduled
      const left = await waitFor(
        'the ran rows to be completed',
        async () => {
          const rows = await itemsOf(queue)
          return rows.length === 0 && rows
        },
        { timeoutMs: 5_000 }
      )
      expect(left).toEqual([])
      await enqueue(t.db, { queue, delayMs: 400 })
      runner.nudge(Date.now() + 400)
      await waitFor('the third row to run', () => seen.length === 3, { timeoutMs: 10_000 })
    } finally {
      await runner.stop()
    }
  })
})
