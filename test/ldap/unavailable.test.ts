import { createServer, type Server, type Socket } from 'node:net'
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { authEvents } from '../../src/db/schema/index.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { expectProblem } from '../helpers/problem.js'
import { ORG, SERVICE_ACCOUNT } from './directory.cases.js'

const TIMEOUT_MS = 800

const env = (url: string) => ({
  ...SERVICE_ACCOUNT,
  LDAP_URL: url,
  LDAP_BASE_DN: ORG,
  LDAP_TIMEOUT_MS: String(TIMEOUT_MS)
})

async function timedLogin(t: TestApp, username = 'jdoe') {
  const started = Date.now()
  const res = await t.app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { username, password: 'jdoe-pass' }
  })
  return { res, ms: Date.now() - started }
}

describe('a directory that is down or silent', () => {
  let closed: TestApp
  let silent: TestApp
  let blackhole: Server
  const sockets = new Set<Socket>()
  beforeAll(async () => {
    // Accepts connections and never answers: the directory that hangs
    blackhole = createServer(s => {
      sockets.add(s)
      s.on('error', () => {})
    })
    await new Promise<void>(r => blackhole.listen(0, '127.0.0.1', () => r()))
    const { port } = blackhole.address() as { port: number }
    closed = await buildTestApp(env('ldap://127.0.0.1:1'))
    silent = await buildTestApp(env(`ldap://127.0.0.1:${port}`))
  })
  afterAll(async () => {
    await closed?.close()
    await silent?.close()
    for (const s of sockets) s.destroy()
    await new Promise(r => blackhole?.close(r))
  })

  it('a closed port answers 503 DIRECTORY_UNAVAILABLE at once', async () => {
    const { res, ms } = await timedLogin(closed)
    const problem = expectProblem(res, 503, 'DIRECTORY_UNAVAILABLE')
    expect(problem.detail).toMatch(/directory is unreachable/)
    expect(ms).toBeLessThan(TIMEOUT_MS)
  })

  it('a server that never answers gives 503 within the timeout, not a hang', async () => {
    const { res, ms } = await timedLogin(silent)
    expectProblem(res, 503, 'DIRECTORY_UNAVAILABLE')
    expect(ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 50)
    expect(ms).toBeLessThan(TIMEOUT_MS * 2 + 500)
  })

  it('the failure is recorded as an auth event, and local users still sign in', async () => {
    await timedLogin(closed, 'someone')
    const events = await closed.db.select().from(authEvents).where(eq(authEvents.kind, 'directory.unavailable'))
    expect(events.map(e => e.username)).toContain('someone')
    expect((await closed.login('admin', 'admin-password-123')).length).toBeGreaterThan(20)
  })

  it('sync answers 503 and disables nobody', async () => {
    const res = await silent.api('POST', '/api/v1/directory/sync')
    expectProblem(res, 503, 'DIRECTORY_UNAVAILABLE')
    const gql = await closed.gql('mutation { syncDirectory { created } }')
    expect(gql.body.errors?.[0]?.extensions?.code).toBe('DIRECTORY_UNAVAILABLE')
  })

  it('without LDAP_URL, sync answers 409 FEATURE_NOT_CONFIGURED naming the setting (not a 503)', async () => {
    const plain = await buildTestApp()
    try {
      const problem = expectProblem(await plain.api('POST', '/api/v1/directory/sync'), 409, 'FEATURE_NOT_CONFIGURED')
      expect(problem.detail).toMatch(/LDAP_URL/)
    } finally {
      await plain.close()
    }
  })
})
