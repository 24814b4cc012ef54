import { eq, sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { workItems } from '../../src/db/schema/index.js'
import type { QueueJob } from '../../src/jobs/job.js'
import {
  backoffMs,
  claim,
  complete,
  deadLetter,
  defineQueue,
  enqueue,
  renew,
  retry,
  type WorkItem
} from '../../src/jobs/queue.js'
import { createJobRunner, JobTimeoutError } from '../../src/jobs/runner.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { driver } from '../helpers/db.js'
import { rowsOf, waitFor } from '../helpers/wait.js'

describe('the work queue', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await buildTestApp()
  })
  afterAll(async () => t?.close())

  let n = 0
  const queueName = () => `test-${++n}`
  const deps = () => ({ db: t.db, config: t.app.config, log: t.app.log, services: t.app.services })
  const rowOf = async (id: string) => (await t.db.select().from(workItems).where(eq(workItems.id, id)))[0]
  /** How long from the database's now() until the row is due, in ms. */
  const waitOf = async (id: string) => {
    const result = await t.db.execute(
      sql`select (extract(epoch from due_at - now()) * 1000)::float8 as ms from work_items where id = ${id}`
    )
    return Number(rowsOf<{ ms: number }>(result)[0]?.ms)
  }
  const makeDue = (id: string) => t.db.update(workItems).set({ dueAt: sql`now()` }).where(eq(workItems.id, id))

  it('claims due rows in batches, earliest first, and never hands one row to two claimers', async () => {
    const queue = queueName()
    const ids = await t.db.transaction(async tx => {
      const out: string[] = []
      for (let i = 0; i < 120; i++) out.push((await enqueue(tx, { queue, payload: { i }, delayMs: -i })).id)
      return out
    })
    const later = await enqueue(t.db, { queue, delayMs: 60_000 })
    const claimed: WorkItem[][] = []
    const claimer = async (owner: string) => {
      for (;;) {
        const batch = await claim(t.db, { queues: [queue], limit: 7, leaseMs: 60_000, owner })
        if (batch.length === 0) return
        expect(batch.length).toBeLessThanOrEqual(7)
        claimed.push(batch)
      }
    }
    // Four claimers at once: on PostgreSQL each on its own connection of the pool
    await Promise.all(['a', 'b', 'c', 'd'].map(claimer))
    const seen = claimed.flat().map(i => i.id)
    expect(seen).toHaveLength(120)
    expect(new Set(seen)).toEqual(new Set(ids))
    expect(seen).not.toContain(later.id)
    for (const batch of claimed) {
      const due = batch.map(i => i.dueAt.getTime())
      expect(due).toEqual([...due].sort((a, b) => a - b))
    }
    const rows = await t.db.select().from(workItems).where(eq(workItems.queue, queue))
    expect(rows.filter(r => r.id !== later.id).every(r => r.attempts === 1 && r.leaseToken !== null)).toBe(true)
    // The first batch took the rows due earliest
    expect(claimed[0]!.every(i => i.payload !== null)).toBe(true)
  })

  it.skipIf(driver !== 'pg')('skips a row another transaction has locked instead of waiting for it', async () => {
    const queue = queueName()
    const a = await enqueue(t.db, { queue, delayMs: -1000 })
    const b = await enqueue(t.db, { queue })
    let release: () => void = () => {}
    const gate = new Promise<void>(r => {
      release = r
    })
    let locked: () => void = () => {}
    const isLocked = new Promise<void>(r => {
      locked = r
    })
    const holder = t.db.transaction(async tx => {
      await tx.execute(sql`select id from work_items where id = ${a.id} for update`)
      locked()
      await gate
    })
    await isLocked
    const got = await claim(t.db, { queues: [queue], limit: 10, leaseMs: 60_000, owner: 'x' })
    expect(got.map(i => i.id)).toEqual([b.id])
    release()
    await holder
  })

  it('retries a failing item with exponential backoff and jitter, then dead-letters it', async () => {
    const queue = queueName()
    let runs = 0
    const job: QueueJob = {
      name: queue,
      queue,
      backoff: { baseMs: 1000, maxMs: 10_000 },
      async run(_ctx, item) {
        runs++
        throw new Error(`attempt ${item.attempts} failed`)
      }
    }
    const runner = createJobRunner(deps(), [job], 60_000)
    const { id } = await enqueue(t.db, { queue, payload: { to: 'someone' }, maxAttempts: 3 })

    await runner.tick()
    let row = await rowOf(id)
    expect(row).toMatchObject({ attempts: 1, lastError: 'attempt 1 failed', deadAt: null, leaseToken: null })
    let wait = await waitOf(id)
    expect(wait).toBeGreaterThan(400)
    expect(wait).toBeLessThanOrEqual(1000)

    await runner.tick() // not due yet: nothing runs
    expect(runs).toBe(1)
    await makeDue(id)
    await runner.tick()
    row = await rowOf(id)
    expect(row).toMatchObject({ attempts: 2, lastError: 'attempt 2 failed', deadAt: null })
    wait = await waitOf(id)
    expect(wait).toBeGreaterThan(900)
    expect(wait).toBeLessThanOrEqual(2000)

    await makeDue(id)
    await runner.tick()
    row = await rowOf(id)
    expect(row).toMatchObject({ attempts: 3, lastError: 'attempt 3 failed', leaseToken: null })
    expect(row?.deadAt).toBeInstanceOf(Date)

    // A dead letter is out of every claim
    await makeDue(id)
    await runner.tick()
    expect(runs).toBe(3)
  })

  it('backs off exponentially within the jitter band, capped', () => {
    const b = { baseMs: 1000, maxMs: 8000 }
    expect([1, 2, 3, 4, 5, 9].map(a => backoffMs(a, b, () => 1))).toEqual([1000, 2000, 4000, 8000, 8000, 8000])
    expect([1, 2, 3, 4].map(a => backoffMs(a, b, () => 0))).toEqual([500, 1000, 2000, 4000])
  })

  it('aborts a run past its timeout and counts it as a failed attempt', async () => {
    const queue = queueName()
    let seen: AbortSignal | undefined
    let finish: () => void = () => {}
    const job: QueueJob = {
      name: queue,
      queue,
      timeoutMs: 100,
      run(ctx) {
        seen = ctx.signal
        // Ignores the signal on purpose: the timeout must not depend on the handler's cooperation
        return new Promise(resolve => {
          finish = () => resolve(undefined)
        })
      }
    }
    const runner = createJobRunner(deps(), [job], 60_000)
    const { id } = await enqueue(t.db, { queue })
    await runner.tick()
    const row = await rowOf(id)
    expect(row).toMatchObject({ attempts: 1, lastError: 'timed out after 100 ms', deadAt: null, leaseToken: null })
    expect(await waitOf(id)).toBeGreaterThan(0)
    expect(seen?.aborted).toBe(true)
    expect(seen?.reason).toBeInstanceOf(JobTimeoutError)
    finish()
  })

  it("takes over a killed worker's item once its lease expires; the old lease then counts for nothing", async () => {
    const queue = queueName()
    const { id } = await enqueue(t.db, { queue, payload: { n: 1 } })
    const [first] = await claim(t.db, { queues: [queue], limit: 5, leaseMs: 300, owner: 'worker-a' })
    expect(first).toMatchObject({ id, attempts: 1, leaseOwner: 'worker-a' })
    // worker-a dies here: it never completes and never renews
    expect(await claim(t.db, { queues: [queue], limit: 5, leaseMs: 60_000, owner: 'worker-b' })).toEqual([])
    const [second] = await waitFor('the lease to expire', async () => {
      const got = await claim(t.db, { queues: [queue], limit: 5, leaseMs: 60_000, owner: 'worker-b' })
      return got.length > 0 && got
    })
    expect(second).toMatchObject({ id, attempts: 2, leaseOwner: 'worker-b', payload: { n: 1 } })
    expect(second!.leaseToken).not.toBe(first!.leaseToken)
    expect(await complete(t.db, first!)).toBe(false)
    expect(await retry(t.db, first!, 'late', 0)).toBe(false)
    expect(await deadLetter(t.db, first!, 'late')).toBe(false)
    expect(await renew(t.db, [first!.leaseToken], 60_000)).toEqual(new Set())
    expect((await rowOf(id))?.leaseOwner).toBe('worker-b')
    expect(await complete(t.db, second!)).toBe(true)
    expect(await rowOf(id)).toBeUndefined()
  })

  it('keeps the lease of an item it is still running, past the first lease period', async () => {
    const queue = queueName()
    let started = false
    let finish: () => void = () => {}
    const job: QueueJob = {
      name: queue,
      queue,
      run() {
        started = true
        return new Promise(resolve => {
          finish = () => resolve(undefined)
        })
      }
    }
    const runner = createJobRunner(deps(), [job], 60_000, { leaseMs: 1500 })
    const { id } = await enqueue(t.db, { queue })
    const done = runner.tick()
    await waitFor('the run to start', () => started)
    const firstExpiry = (await rowOf(id))!.leaseExpiresAt!
    await waitFor('the first lease period to pass', async () => {
      const result = await t.db.execute(sql`select now() > ${firstExpiry.toISOString()}::timestamptz as past`)
      return rowsOf<{ past: boolean }>(result)[0]?.past
    })
    expect((await rowOf(id))!.leaseExpiresAt!.getTime()).toBeGreaterThan(firstExpiry.getTime())
    expect(await claim(t.db, { queues: [queue], limit: 5, leaseMs: 60_000, owner: 'other' })).toEqual([])
    finish()
    await done
    expect(await rowOf(id)).toBeUndefined()
  })

  it('keeps one live row per key: kept by default, replaced on demand, not blocked by a dead letter', async () => {
    const queue = queueName()
    const first = await enqueue(t.db, { queue, key: 'INC-1', payload: { v: 1 }, delayMs: 60_000 })
    expect(first.created).toBe(true)
    const again = await enqueue(t.db, { queue, key: 'INC-1', payload: { v: 2 } })
    expect(again).toEqual({ id: first.id, created: false })
    expect((await rowOf(first.id))?.payload).toEqual({ v: 1 })

    const replaced = await enqueue(t.db, { queue, key: 'INC-1', payload: { v: 3 }, replace: true })
    expect(replaced).toEqual({ id: first.id, created: false })
    expect((await rowOf(first.id))?.payload).toEqual({ v: 3 })
    expect(await waitOf(first.id)).toBeLessThanOrEqual(0)

    // Replacing a leased row releases the lease: the holder's outcome no longer counts
    const [held] = await claim(t.db, { queues: [queue], limit: 1, leaseMs: 60_000, owner: 'a' })
    await enqueue(t.db, { queue, key: 'INC-1', payload: { v: 4 }, replace: true })
    expect(await complete(t.db, held!)).toBe(false)
    const [retaken] = await claim(t.db, { queues: [queue], limit: 1, leaseMs: 60_000, owner: 'b' })
    expect(retaken).toMatchObject({ id: first.id, attempts: 1, payload: { v: 4 } })

    expect(await deadLetter(t.db, retaken!, 'gave up')).toBe(true)
    const fresh = await enqueue(t.db, { queue, key: 'INC-1', payload: { v: 5 } })
    expect(fresh.created).toBe(true)
    expect(fresh.id).not.toBe(first.id)
    const rows = await t.db.select().from(workItems).where(eq(workItems.queue, queue))
    expect(rows.map(r => [r.payload, r.deadAt === null])).toEqual(
      expect.arrayContaining([
        [{ v: 4 }, false],
        [{ v: 5 }, true]
      ])
    )
  })

  it('enqueues inside the caller’s transaction: rolled back with it', async () => {
    const queue = queueName()
    await expect(
      t.db.transaction(async tx => {
        await enqueue(tx, { queue, payload: { x: 1 } })
        throw new Error('roll back')
      })
    ).rejects.toThrow('roll back')
    expect(await t.db.select().from(workItems).where(eq(workItems.queue, queue))).toEqual([])
  })

  it('a defined queue gives producers and its job one payload type and its defaults', async () => {
    const mail = defineQueue<{ to: string }>(queueName(), { maxAttempts: 2 })
    const sent: string[] = []
    const job: QueueJob<{ to: string }> = {
      name: mail.name,
      queue: mail.name,
      async run(_ctx, item) {
        sent.push(item.payload.to)
        return undefined
      }
    }
    const { id } = await mail.enqueue(t.db, { payload: { to: 'a@example.com' }, delayMs: 60_000 })
    expect((await rowOf(id))?.maxAttempts).toBe(2)
    await makeDue(id)
    await createJobRunner(deps(), [job], 60_000).tick()
    expect(sent).toEqual(['a@example.com'])
    expect(await rowOf(id)).toBeUndefined()
  })
})
