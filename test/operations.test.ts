import { mkdtempSync, rmSync } from 'node:fs'
import { Agent, request as httpRequest } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jobRuns } from '../src/db/schema/index.js'
import type { Job } from '../src/jobs/job.js'
import { createJobRunner } from '../src/jobs/runner.js'
import { buildTestApp, type TestApp } from './helpers/app.js'
import { httpGet, randomPort, type Spawned, spawnEntry } from './helpers/spawn.js'
import { waitFor } from './helpers/wait.js'

describe('operations', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await buildTestApp()
  })
  afterAll(async () => t?.close())

  it('answers /health and /ready without auth', async () => {
    expect((await t.app.inject('/health')).json()).toEqual({ status: 'ok' })
    const ready = await t.app.inject('/ready')
    expect(ready.statusCode).toBe(200)
    expect(ready.json()).toEqual({ status: 'ready' })
  })

  it('echoes a sane X-Request-Id and makes one otherwise', async () => {
    const given = await t.app.inject({ url: '/health', headers: { 'x-request-id': 'abc-123' } })
    expect(given.headers['x-request-id']).toBe('abc-123')
    const hostile = await t.app.inject({ url: '/health', headers: { 'x-request-id': 'a\u0000b c'.repeat(30) } })
    expect(hostile.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/)
    expect(given.headers['x-content-type-options']).toBe('nosniff')
  })

  it('answers an unknown route with a problem, not HTML', async () => {
    const res = await t.api('GET', '/api/v1/nothing-here')
    expect(res.statusCode).toBe(404)
    expect(res.headers['content-type']).toContain('application/problem+json')
  })

  it('runs a scheduled job once per period however many runners share the database', async () => {
    let runs = 0
    const job: Job = {
      name: 'test-once',
      everyMs: 60_000,
      async run() {
        runs++
        await new Promise(r => setTimeout(r, 20))
        return { ok: true }
      }
    }
    const deps = { db: t.db, config: t.app.config, log: t.app.log, services: t.app.services }
    const runners = [1, 2, 3].map(() => createJobRunner(deps, [job], 1000))
    await Promise.all(runners.map(r => r.tick()))
    await Promise.all(runners.map(r => r.tick()))
    expect(runs).toBe(1)
    const [row] = await t.db.select().from(jobRuns).where(eq(jobRuns.name, 'test-once'))
    expect(row?.lastFinishedAt).toBeInstanceOf(Date)
    expect(row?.lastError).toBeNull()
  })

  it('records a failing job and keeps going', async () => {
    const job: Job = {
      name: 'test-fails',
      everyMs: 60_000,
      async run() {
        throw new Error('boom')
      }
    }
    const runner = createJobRunner(
      { db: t.db, config: t.app.config, log: t.app.log, services: t.app.services },
      [job],
      1000
    )
    await runner.tick()
    const [row] = await t.db.select().from(jobRuns).where(eq(jobRuns.name, 'test-fails'))
    expect(row?.lastError).toBe('boom')
  })
})

describe('the server process', () => {
  let server: Spawned | undefined
  let dir: string
  afterAll(() => {
    server?.child.kill('SIGKILL')
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('starts on the embedded database and shuts down gracefully on SIGTERM', async () => {
    dir = mkdtempSync(join(tmpdir(), 'sd-ops-'))
    const port = randomPort()
    server = spawnEntry('src/server.ts', {
      PORT: String(port),
      DATA_DIR: dir,
      ADMIN_PASSWORD: 'admin-password-123',
      LOG_LEVEL: 'info',
      DATABASE_URL: ''
    })
    const { child } = server
    await server.until('servicedesk api ready')
    // Ready once started; on a busy machine the first event-loop samples after start may still shed it
    await waitFor('/ready to answer 200', async () => (await httpGet(port, '/ready')).status === 200, {
      timeoutMs: 30_000,
      everyMs: 250
    })
    expect(server.output()).toContain('created the first admin')

    // A login whose body is still arriving when SIGTERM lands must still be answered
    const body = JSON.stringify({ username: 'admin', password: 'admin-password-123' })
    const slow = new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          path: '/api/v1/auth/login',
          method: 'POST',
          agent: false,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }
        },
        res => {
          res.resume()
          res.on('end', () => resolve(res.statusCode ?? 0))
        }
      )
      req.on('error', reject)
      req.write(body.slice(0, 10))
      setTimeout(() => req.end(body.slice(10)), 800)
    })
    // The same over a keep-alive agent (what load balancers and SDKs use), beside an idle keep-alive
    // socket: neither may hold the process past its answer
    const agent = new Agent({ keepAlive: true, maxSockets: 2 })
    const idle = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/health', agent }, res => {
        res.resume()
        res.on('end', () => resolve(res.statusCode ?? 0))
      })
      req.on('error', reject)
      req.end()
    })
    expect(idle).toBe(200)
    const kept = new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          path: '/api/v1/auth/login',
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }
        },
        res => {
          res.resume()
          res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }))
        }
      )
      req.on('error', reject)
      req.write(body.slice(0, 10))
      setTimeout(() => req.end(body.slice(10)), 800)
    })
    await new Promise(r => setTimeout(r, 300))
    const signalled = Date.now()
    child.kill('SIGTERM')
    expect(await slow).toBe(200)
    expect(await kept).toEqual({ status: 200, connection: 'close' })
    expect(await server.exited).toBe(0)
    // well inside the 10 s grace period: nothing waited for a keep-alive timeout (72 s)
    expect(Date.now() - signalled).toBeLessThan(8000)
    agent.destroy()
    // and nothing listens any more
    await expect(httpGet(port, '/health')).rejects.toThrow()
    const output = server.output()
    expect(output).toContain('shutting down')
    // every log line is JSON with a level
    const lines = output
      .trim()
      .split('\n')
      .filter(l => l.startsWith('{'))
    expect(lines.length).toBeGreaterThan(2)
    for (const l of lines) expect(typeof JSON.parse(l).level).toBe('number')
  }, 240_000)
})
