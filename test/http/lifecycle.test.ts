import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'drizzle-orm'
import type { LightMyRequestResponse } from 'fastify'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { problemFromError } from '../../src/plugins/errors.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { createTestDatabase, driver, type TestDatabase } from '../helpers/db.js'
import { httpGet, randomPort, type Spawned, spawnEntry } from '../helpers/spawn.js'

function expectUnavailable(res: LightMyRequestResponse) {
  expect(res.statusCode, res.body).toBe(503)
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/)
  expect(res.headers['retry-after']).toBeDefined()
  expect(res.json().code).toBe('UNAVAILABLE')
}

describe('a database that goes away mid-run is a 503, not a 500', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await buildTestApp()
  })

  it('answers 503 with Retry-After once the database is gone', async () => {
    try {
      expect((await t.api('GET', '/api/v1/incidents')).statusCode).toBe(200)
      if (driver === 'pglite') {
        await t.app.database.close()
      } else {
        // the database itself vanishes: sessions are terminated (57P01), new connections get 3D000
        const name = new URL(process.env.TEST_DATABASE_URL!).pathname
        const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL })
        await admin.connect()
        const own = (await t.app.database.db.execute(sql`SELECT current_database() AS db`)) as {
          rows: { db: string }[]
        }
        expect(own.rows[0]!.db).not.toBe(name.slice(1))
        await admin.query(`DROP DATABASE ${own.rows[0]!.db} WITH (FORCE)`)
        await admin.end()
      }
      expectUnavailable(await t.api('GET', '/api/v1/incidents'))
      expectUnavailable(await t.api('GET', '/api/v1/incidents'))
      expect((await t.app.inject('/health')).statusCode).toBe(200)
      expect((await t.app.inject('/ready')).statusCode).toBe(503)
    } finally {
      await t.app.close()
      await t.close().catch(() => {})
    }
  })

  it('maps every connection-level SQLSTATE to 503', () => {
    for (const code of ['3D000', '08006', '08001', '57P01', '57P02', '57P03', '53300', '53100']) {
      const err = Object.assign(new Error('driver'), { code })
      const wrapped = Object.assign(new Error('Failed query'), { cause: err })
      expect(problemFromError(wrapped), code).toMatchObject({ status: 503, code: 'UNAVAILABLE' })
    }
  })
})

describe.skipIf(driver !== 'pg')('a saturated pool sheds instead of queueing', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await buildTestApp({ DB_QUEUE_MAX: '1' })
  })
  afterAll(async () => t?.close())

  it('answers 503 + Retry-After at once while requests queue past DB_QUEUE_MAX, /health still 200', async () => {
    {
      // the test pool has 5 connections: hold them all and queue one more behind them
      let release!: () => void
      const gate = new Promise<void>(r => {
        release = r
      })
      const holders = Array.from({ length: 6 }, () =>
        t.db.transaction(async tx => {
          await tx.execute(sql`SELECT 1`)
          await gate
        })
      )
      const deadline = Date.now() + 20_000
      while (t.app.database.waiting() < 1) {
        if (Date.now() > deadline) throw new Error('the pool never filled')
        await new Promise(r => setImmediate(r))
      }
      const started = Date.now()
      expectUnavailable(await t.api('GET', '/api/v1/incidents'))
      expect(Date.now() - started).toBeLessThan(1000)
      expect((await t.app.inject('/health')).statusCode).toBe(200)
      release()
      await Promise.all(holders)
      expect((await t.api('GET', '/api/v1/incidents')).statusCode).toBe(200)
    }
  })
})

describe('the load guard never sheds /health', () => {
  let testDb: TestDatabase
  let app: Awaited<ReturnType<typeof buildApp>>
  beforeAll(async () => {
    testDb = await createTestDatabase()
    const config = loadConfig({
      LOG_LEVEL: 'silent',
      MAX_EVENT_LOOP_DELAY_MS: '20',
      ADMIN_PASSWORD: 'admin-password-123'
    })
    app = await buildApp({ config, database: testDb.database, logger: false })
    await app.ready()
  })
  afterAll(async () => {
    await app?.close()
    await testDb?.drop()
  })

  it('answers /health while it sheds everything else', async () => {
    {
      const deadline = Date.now() + 20_000
      while (!app.isUnderPressure()) {
        if (Date.now() > deadline) throw new Error('never under pressure')
        const until = Date.now() + 150
        while (Date.now() < until) {
          // block the event loop so the sampler sees the delay
        }
        await new Promise(r => setTimeout(r, 5))
      }
      expect((await app.inject('/health')).statusCode).toBe(200)
      expectUnavailable(await app.inject('/api/v1/incidents'))
    }
  })
})

describe('starting while the database is unreachable', () => {
  let server: Spawned | undefined
  let dir: string | undefined
  afterAll(() => {
    server?.child.kill('SIGKILL')
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('prints one line naming DATABASE_URL, is live but not ready, and exits 0 on SIGTERM', async () => {
    dir = mkdtempSync(join(tmpdir(), 'sd-nodb-'))
    const port = randomPort()
    server = spawnEntry('src/server.ts', {
      PORT: String(port),
      DATA_DIR: dir,
      ADMIN_PASSWORD: 'admin-password-123',
      LOG_LEVEL: 'info',
      // nothing listens on port 1: every connection attempt is refused
      DATABASE_URL: 'postgres://sd:secret-password@127.0.0.1:1/servicedesk'
    })
    await server.until('DATABASE_URL')
    expect((await httpGet(port, '/health')).status).toBe(200)
    const ready = await httpGet(port, '/ready')
    expect(ready.status).toBe(503)
    const api = await httpGet(port, '/api/v1/incidents')
    expect(api.status).toBe(503)
    expect(JSON.parse(api.body).code).toBe('UNAVAILABLE')

    const output = server.output()
    const lines = output.trim().split('\n')
    const about = lines.filter(l => l.includes('DATABASE_URL'))
    expect(about).toHaveLength(1)
    expect(about[0]).toContain('127.0.0.1:1/servicedesk')
    expect(output).not.toContain('secret-password')
    expect(output).not.toMatch(/\n\s+at /) // no stack trace
    for (const l of lines) expect(() => JSON.parse(l)).not.toThrow()

    const signalled = Date.now()
    server.child.kill('SIGTERM')
    expect(await server.exited).toBe(0)
    expect(Date.now() - signalled).toBeLessThan(8000)
  }, 240_000)
})
