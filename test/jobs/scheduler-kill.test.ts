import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { enqueue } from '../../src/jobs/queue.js'
import { createTestDatabase, driver, type TestDatabase } from '../helpers/db.js'
import { type Spawned, spawnEntry } from '../helpers/spawn.js'
import { rowsOf, waitFor } from '../helpers/wait.js'

const probeModule = pathToFileURL(resolve('test/jobs/fixtures/probe-job.ts')).href

function startScheduler(url: string): Spawned {
  return spawnEntry(
    'src/scheduler.ts',
    {
      DATABASE_URL: url,
      MIGRATE_ON_START: 'false',
      LOG_LEVEL: 'info',
      SCHEDULER_POLL_MS: '100',
      SCHEDULER_LEASE_MS: '1500',
      SCHEDULER_CONCURRENCY: '2'
    },
    [probeModule]
  )
}

// PGlite is one process by nature; several scheduler processes need PostgreSQL
describe.skipIf(driver !== 'pg')('the work queue across scheduler processes', () => {
  let testDb: TestDatabase
  const schedulers: Spawned[] = []
  beforeAll(async () => {
    testDb = await createTestDatabase()
    await testDb.database.db.execute(
      sql`create table probe_runs (item_id uuid not null, pid int not null, phase text not null, at timestamptz not null default clock_timestamp())`
    )
  })
  afterAll(async () => {
    for (const s of schedulers) {
      if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL')
      await s.exited
    }
    await testDb?.drop()
  })

  it('loses nothing when one of two schedulers is killed with SIGKILL mid-item: the other finishes every item once', async () => {
    const db = testDb.database.db
    const url = testDb.url!
    const a = startScheduler(url)
    const b = startScheduler(url)
    schedulers.push(a, b)
    await waitFor('both schedulers to start', () => [a, b].every(s => s.output().includes('scheduler started')), {
      timeoutMs: 150_000,
      everyMs: 200
    })

    const count = 12
    const ids = await db.transaction(async tx => {
      const out: string[] = []
      for (let i = 0; i < count; i++) out.push((await enqueue(tx, { queue: 'test-probe', payload: { ms: 1500 } })).id)
      return out
    })

    type Run = { item_id: string; pid: number; phase: string }
    const runs = async () => rowsOf<Run>(await db.execute(sql`select item_id, pid, phase from probe_runs`))
    const pidA = a.child.pid!
    const pidB = b.child.pid!
    // Kill A while it is in the middle of an item, once B is working too
    const inHand = await waitFor(
      'A to be mid-item while B works',
      async () => {
        const all = await runs()
        const finished = new Set(all.filter(r => r.phase === 'finished').map(r => r.item_id))
        const mid = all.filter(r => r.pid === pidA && r.phase === 'started' && !finished.has(r.item_id))
        return mid.length > 0 && all.some(r => r.pid === pidB) && mid.map(r => r.item_id)
      },
      { timeoutMs: 60_000 }
    )
    a.child.kill('SIGKILL')
    await a.exited

    await waitFor(
      'every item to be finished and gone from the queue',
      async () => {
        const left = await db.execute(sql`select count(*)::int as n from work_items where queue = 'test-probe'`)
        const finished = (await runs()).filter(r => r.phase === 'finished')
        return rowsOf<{ n: number }>(left)[0]?.n === 0 && finished.length >= count
      },
      { timeoutMs: 90_000, everyMs: 100 }
    )

    const all = await runs()
    const finished = all.filter(r => r.phase === 'finished')
    // Nothing lost, nothing finished twice
    expect(finished.map(r => r.item_id).sort()).toEqual([...ids].sort())
    // What A held when it died was taken over and finished by B
    for (const id of inHand) {
      expect(finished.find(r => r.item_id === id)?.pid).toBe(pidB)
      expect(all.filter(r => r.item_id === id && r.phase === 'started').map(r => r.pid)).toEqual(
        expect.arrayContaining([pidA, pidB])
      )
    }
    expect(finished.filter(r => r.pid === pidA).every(r => !inHand.includes(r.item_id))).toBe(true)
    expect(b.child.exitCode).toBeNull()
  }, 300_000)
})
