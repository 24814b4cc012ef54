import { Writable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { createTestDatabase, type TestDatabase } from '../helpers/db.js'

describe('request logging', () => {
  const lines: Record<string, unknown>[] = []
  let db: TestDatabase
  let app: Awaited<ReturnType<typeof buildApp>>
  beforeAll(async () => {
    db = await createTestDatabase()
    const stream = new Writable({
      write(chunk, _enc, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line))
        done()
      }
    })
    const config = loadConfig({ LOG_LEVEL: 'info', ADMIN_USERNAME: 'admin', ADMIN_PASSWORD: 'admin-password-123' })
    app = await buildApp({ config, database: db.database, logger: { level: 'info', stream } })
    await app.services.sessions.ensureBootstrapAdmin()
    await app.ready()
  })
  afterAll(async () => {
    await app?.close()
    await db?.drop()
  })

  it('writes one line per request, on its answer, with method, url, status, time and the request id', async () => {
    lines.length = 0
    const res = await app.inject({ method: 'GET', url: '/health', headers: { 'x-request-id': 'log-test-1' } })
    expect(res.statusCode).toBe(200)
    const mine = lines.filter(l => l.reqId === 'log-test-1')
    expect(mine).toHaveLength(1)
    const [line] = mine as [Record<string, any>]
    expect(line.msg).toBe('request completed')
    expect(line.req).toMatchObject({ method: 'GET', url: '/health' })
    expect(line.res).toMatchObject({ statusCode: 200 })
    expect(typeof line.responseTime).toBe('number')
  })

  it('never logs the credentials a request carries', async () => {
    lines.length = 0
    await app.inject({
      method: 'GET',
      url: '/api/v1/me',
      headers: { 'x-request-id': 'log-test-2', authorization: 'Bearer secret-token-value', cookie: 'sid=secret' }
    })
    const text = JSON.stringify(lines.filter(l => l.reqId === 'log-test-2'))
    expect(text).toContain('request completed')
    expect(text).not.toContain('secret')
  })

  it("names the signed-in user on the request's line (request loggers are made lazily, bindings kept)", async () => {
    const login = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'admin', password: 'admin-password-123' }
    })
    expect(login.statusCode).toBe(200)
    lines.length = 0
    const res = await app.inject({
      method: 'GET',
      url: '/api/v1/auth/me',
      headers: { 'x-request-id': 'log-test-3', authorization: `Bearer ${login.json().token}` }
    })
    expect(res.statusCode).toBe(200)
    const mine = lines.filter(l => l.reqId === 'log-test-3')
    expect(mine).toHaveLength(1)
    expect(mine[0]).toMatchObject({ user: 'admin', via: 'session', msg: 'request completed' })
  })
})
