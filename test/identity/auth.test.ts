import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sessions } from '../../src/db/schema/index.js'
import { hashToken } from '../../src/lib/secrets.js'
import { ADMIN, buildTestApp, PASSWORD, type TestApp } from '../helpers/app.js'
import { makeUser } from '../helpers/factories.js'
import { expectProblem } from '../helpers/problem.js'

const login = (t: TestApp, username: string, password: string, remoteAddress?: string) =>
  t.app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { username, password },
    ...(remoteAddress ? { remoteAddress } : {})
  })

describe('login and sessions', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await buildTestApp()
  })
  afterAll(async () => t?.close())

  it('answers token, expiresAt and the user, and never a password hash', async () => {
    const before = Date.now()
    const res = await login(t, ADMIN.username, ADMIN.password)
    expect(res.statusCode).toBe(200)
    const body = res.json()
    expect(Object.keys(body).sort()).toEqual(['expiresAt', 'token', 'user'])
    expect(body.token).toMatch(/^sds_[A-Za-z0-9_-]{40,}$/)
    // Default SESSION_TTL_MINUTES is 480
    const expires = Date.parse(body.expiresAt)
    expect(expires).toBeGreaterThanOrEqual(before + 479 * 60_000)
    expect(expires).toBeLessThanOrEqual(Date.now() + 481 * 60_000)
    expect(body.user).toMatchObject({ username: ADMIN.username, roles: ['admin'], active: true })
    expect(res.body).not.toMatch(/passwordHash|password_hash|scrypt\$/)
  })

  it('matches the username case-insensitively', async () => {
    const res = await login(t, ADMIN.username.toUpperCase(), ADMIN.password)
    expect(res.statusCode).toBe(200)
    expect(res.json().user.username).toBe(ADMIN.username)
  })

  it('gives a wrong password and an unknown user the same 401 problem', async () => {
    const wrong = expectProblem(await login(t, ADMIN.username, 'not-the-password'), 401)
    const unknown = expectProblem(await login(t, 'nobody-here', 'not-the-password'), 401)
    expect(wrong.detail).toBe(unknown.detail)
    expect(wrong.code).toBe(unknown.code)
    expect(wrong.detail).not.toMatch(/nobody|exist|unknown user/i)
  })

  it('each login makes a new session; both work', async () => {
    const a = (await login(t, ADMIN.username, ADMIN.password)).json().token
    const b = (await login(t, ADMIN.username, ADMIN.password)).json().token
    expect(a).not.toBe(b)
    for (const token of [a, b]) expect((await t.api('GET', '/api/v1/auth/me', { token })).statusCode).toBe(200)
  })

  it('GET /auth/me answers the user behind the session', async () => {
    const user = await makeUser(t, ['technician', 'supervisor'])
    const res = await t.api('GET', '/api/v1/auth/me', { token: user.token })
    expect(res.statusCode).toBe(200)
    const body = res.json()
    expect(body.via).toBe('session')
    expect(body.scopes).toBeNull()
    expect(body.user.id).toBe(user.id)
    expect(body.user.roles.sort()).toEqual(['supervisor', 'technician'])
    expect(res.body).not.toMatch(/passwordHash|scrypt\$/)
  })

  it('a disabled user cannot log in and their open session stops working', async () => {
    const user = await makeUser(t, ['technician'])
    expect((await t.api('GET', '/api/v1/auth/me', { token: user.token })).statusCode).toBe(200)

    const off = await t.edit(`/api/v1/users/${user.id}`, { body: { active: false } })
    expect(off.statusCode).toBe(200)
    expect(off.json().active).toBe(false)

    expectProblem(await t.api('GET', '/api/v1/auth/me', { token: user.token }), 401)
    const refused = expectProblem(await login(t, user.username, PASSWORD), 401)
    const wrong = expectProblem(await login(t, user.username, 'wrong-password-x'), 401)
    // A disabled account must not be told apart from a wrong password
    expect(refused.detail).toBe(wrong.detail)

    // Enabled again, the person can sign in again
    expect((await t.edit(`/api/v1/users/${user.id}`, { body: { active: true } })).statusCode).toBe(200)
    expect((await login(t, user.username, PASSWORD)).statusCode).toBe(200)
  })

  it('logout answers 204 and ends that session only', async () => {
    const user = await makeUser(t, ['technician'])
    const other = await t.login(user.username, PASSWORD)
    const res = await t.api('POST', '/api/v1/auth/logout', { token: user.token })
    expect(res.statusCode).toBe(204)
    expect(res.body).toBe('')
    expectProblem(await t.api('GET', '/api/v1/auth/me', { token: user.token }), 401)
    expectProblem(await t.api('POST', '/api/v1/auth/logout', { token: user.token }), 401)
    expect((await t.api('GET', '/api/v1/auth/me', { token: other })).statusCode).toBe(200)
  })

  it('refuses requests without a usable Authorization header, asking for Bearer', async () => {
    const headers: (Record<string, string> | undefined)[] = [
      undefined,
      { authorization: '' },
      { authorization: 'Bearer' },
      { authorization: 'Bearer ' },
      { authorization: `Basic ${Buffer.from('admin:x').toString('base64')}` },
      { authorization: 'Bearer sds_not-a-real-token-at-all-0123456789' },
      { authorization: 'Bearer sdt_not-a-real-token-at-all-0123456789' },
      { authorization: 'Bearer two words' },
      { authorization: `Bearer ${'x'.repeat(300)}` }
    ]
    for (const h of headers) {
      const res = await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', ...(h ? { headers: h } : {}) })
      expectProblem(res, 401, 'UNAUTHENTICATED')
      expect(res.headers['www-authenticate']).toBe('Bearer')
    }
  })

  it('accepts the scheme name in any case', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: '/api/v1/auth/me',
      headers: { authorization: `bearer ${t.adminToken}` }
    })
    expect(res.statusCode).toBe(200)
  })

  it('refuses an expired session', async () => {
    const user = await makeUser(t, ['technician'])
    expect((await t.api('GET', '/api/v1/auth/me', { token: user.token })).statusCode).toBe(200)
    const updated = await t.db
      .update(sessions)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(sessions.tokenHash, hashToken(user.token)))
      .returning({ id: sessions.id })
    expect(updated).toHaveLength(1)
    const res = await t.api('GET', '/api/v1/auth/me', { token: user.token })
    expectProblem(res, 401)
    expect(res.headers['www-authenticate']).toBe('Bearer')
  })

  it('stores only a hash of the session token', async () => {
    const token = await t.login(ADMIN.username, ADMIN.password)
    const rows = await t.db
      .select()
      .from(sessions)
      .where(eq(sessions.tokenHash, hashToken(token)))
    expect(rows).toHaveLength(1)
    expect(JSON.stringify(rows[0])).not.toContain(token.slice(4))
  })

  it('answers health without authentication', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200)
  })
})

describe('login rate limit', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await buildTestApp({ LOGIN_RATE_LIMIT_PER_MINUTE: '3' })
  })
  afterAll(async () => t?.close())

  it('answers the 4th attempt within a minute from one address with 429 and Retry-After', async () => {
    const ip = '10.1.2.3'
    const statuses: number[] = []
    for (let i = 0; i < 3; i++) statuses.push((await login(t, ADMIN.username, 'wrong-password-x', ip)).statusCode)
    expect(statuses).toEqual([401, 401, 401])

    const limited = await login(t, ADMIN.username, ADMIN.password, ip)
    const body = expectProblem(limited, 429)
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0)
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60)
    expect(body.detail).toMatch(/too many/i)
    expect(limited.body).not.toContain('sds_')

    // Another address still has its own allowance
    expect((await login(t, ADMIN.username, ADMIN.password, '10.9.9.9')).statusCode).toBe(200)
  })

  it('does not limit authenticated requests by the login budget', async () => {
    for (let i = 0; i < 6; i++) expect((await t.api('GET', '/api/v1/auth/me')).statusCode).toBe(200)
  })
})
