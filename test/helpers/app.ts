import type { LightMyRequestResponse } from 'fastify'
import { buildApp } from '../../src/app.js'
import { type Config, loadConfig } from '../../src/config.js'
import { createTestDatabase, openPeerDatabase, type TestDatabase } from './db.js'

export const ADMIN = { username: 'admin', password: 'admin-password-123' }
export const PASSWORD = 'a-good-password-1'

export type TestApp = Awaited<ReturnType<typeof buildTestApp>>

/**
 * The real app on a fresh database, with the bootstrap admin signed in and a few helpers. Given
 * `on`, a second instance on that app's database instead (its own pool and caches on PostgreSQL),
 * as a scaled-out deployment runs: closing it leaves the database to its first owner.
 */
export async function buildTestApp(env: Record<string, string> = {}, on?: TestDatabase) {
  const testDb: TestDatabase = on ? await openPeerDatabase(on) : await createTestDatabase()
  const config: Config = loadConfig({
    LOG_LEVEL: 'silent',
    ADMIN_USERNAME: ADMIN.username,
    ADMIN_PASSWORD: ADMIN.password,
    AUTH_CACHE_TTL_MS: '0',
    LOGIN_RATE_LIMIT_PER_MINUTE: '1000',
    MAX_EVENT_LOOP_DELAY_MS: '0',
    ...env
  })
  const app = await buildApp({ config, database: testDb.database, logger: false })
  await app.services.sessions.ensureBootstrapAdmin()
  await app.ready()

  async function login(username: string, password: string): Promise<string> {
    const res = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password } })
    if (res.statusCode !== 200) throw new Error(`login ${username} failed: ${res.statusCode} ${res.body}`)
    return res.json().token as string
  }

  const adminToken = await login(ADMIN.username, ADMIN.password)

  type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE'
  /** An authenticated JSON request; `token: null` sends none. */
  async function api(
    method: Method,
    url: string,
    opts: { token?: string | null; body?: unknown; headers?: Record<string, string> } = {}
  ): Promise<LightMyRequestResponse> {
    const token = opts.token === undefined ? adminToken : opts.token
    return app.inject({
      method,
      url,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(opts.headers ?? {}) },
      ...(opts.body !== undefined ? { payload: opts.body as object } : {})
    })
  }

  /**
   * PATCH what was just read: reads the resource (as the admin) for its ETag and sends it as If-Match,
   * as every edit must (428 without it).
   */
  async function edit(
    url: string,
    opts: { token?: string | null; body?: unknown; headers?: Record<string, string> } = {}
  ): Promise<LightMyRequestResponse> {
    const read = await api('GET', url)
    const etag = read.headers.etag
    if (typeof etag !== 'string') throw new Error(`edit ${url}: no ETag on the read (${read.statusCode})`)
    return api('PATCH', url, { ...opts, headers: { 'if-match': etag, ...(opts.headers ?? {}) } })
  }

  /** A GraphQL operation; answers the parsed body and the HTTP status. */
  async function gql(
    query: string,
    variables: Record<string, unknown> = {},
    token: string | null = adminToken,
    headers: Record<string, string> = {}
  ) {
    const res = await app.inject({
      method: 'POST',
      url: '/graphql',
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
      payload: { query, variables }
    })
    return { status: res.statusCode, body: res.json() as { data?: Record<string, any> | null; errors?: any[] } }
  }

  return {
    app,
    testDb,
    db: testDb.database.db,
    adminToken,
    login,
    api,
    edit,
    gql,
    async close() {
      await app.close()
      await testDb.drop()
    }
  }
}
