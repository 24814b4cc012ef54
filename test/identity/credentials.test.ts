import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN, buildTestApp, PASSWORD, type TestApp } from '../helpers/app.js'
import { driver } from '../helpers/db.js'
import { makeApiToken, makeUser } from '../helpers/factories.js'
import { expectProblem } from '../helpers/problem.js'

const NEW_PASSWORD = 'another-good-password-2'

/** Waits until `check` holds (credentials end on other instances within AUTH_CACHE_TTL_MS). */
async function eventually(check: () => Promise<boolean>, withinMs: number) {
  const until = Date.now() + withinMs
  for (;;) {
    if (await check()) return
    if (Date.now() > until) throw new Error(`not within ${withinMs} ms`)
    await new Promise(r => setTimeout(r, 50))
  }
}

describe('credentials end with what should end them', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await buildTestApp({
      AUTH_CACHE_TTL_MS: '60000',
      SSO_USER_HEADER: 'X-Remote-User',
      SSO_TRUSTED_PROXIES: '10.0.0.9'
    })
  })
  afterAll(async () => t?.close())

  const me = (token: string) => t.api('GET', '/api/v1/auth/me', { token })

  it('changing your own password ends your other sessions, not this one (REST)', async () => {
    const user = await makeUser(t, ['technician'])
    const other = await t.login(user.username, PASSWORD)
    const { token: apiToken } = await makeApiToken(t, { scopes: ['tickets:read'] }, user.token)
    const wrong = await t.api('POST', '/api/v1/auth/password', {
      token: user.token,
      body: { currentPassword: 'not-my-password', newPassword: NEW_PASSWORD }
    })
    expect(expectProblem(wrong, 422).errors?.[0]?.field).toBe('currentPassword')
    expect((await me(other)).statusCode).toBe(200)
    const res = await t.api('POST', '/api/v1/auth/password', {
      token: user.token,
      body: { currentPassword: PASSWORD, newPassword: NEW_PASSWORD }
    })
    expect(res.statusCode, res.body).toBe(204)
    expect((await me(user.token)).statusCode).toBe(200)
    expectProblem(await me(other), 401)
    // an integration token is not a session: it keeps working
    expect((await me(apiToken)).statusCode).toBe(200)
    expectProblem(
      await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { username: user.username, password: PASSWORD }
      }),
      401
    )
    expect((await t.login(user.username, NEW_PASSWORD)).startsWith('sds_')).toBe(true)
    // a token cannot change its owner's password
    expectProblem(
      await t.api('POST', '/api/v1/auth/password', {
        token: apiToken,
        body: { currentPassword: NEW_PASSWORD, newPassword: 'yet-another-password-3' }
      }),
      400
    )
  })

  it('changing your own password by GraphQL does the same', async () => {
    const user = await makeUser(t, ['customer'])
    const other = await t.login(user.username, PASSWORD)
    const res = await t.gql(
      'mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }',
      { c: PASSWORD, n: NEW_PASSWORD },
      user.token
    )
    expect(res.body, JSON.stringify(res.body)).toMatchObject({ data: { changePassword: true } })
    expect((await me(user.token)).statusCode).toBe(200)
    expectProblem(await me(other), 401)
  })

  it("an admin setting a user's password ends every session of that user", async () => {
    const user = await makeUser(t, ['technician'])
    const second = await t.login(user.username, PASSWORD)
    const res = await t.edit(`/api/v1/users/${user.id}`, { body: { password: NEW_PASSWORD } })
    expect(res.statusCode, res.body).toBe(200)
    expectProblem(await me(user.token), 401)
    expectProblem(await me(second), 401)
    // the admin's own session is untouched
    expect((await t.api('GET', '/api/v1/auth/me')).statusCode).toBe(200)
  })

  it('disabling revokes sessions and tokens for good: re-enabling does not bring them back', async () => {
    const user = await makeUser(t, ['technician'])
    const { token } = await makeApiToken(t, { scopes: ['tickets:read'] }, user.token)
    expect((await t.edit(`/api/v1/users/${user.id}`, { body: { active: false } })).statusCode).toBe(200)
    expectProblem(await me(user.token), 401)
    expectProblem(await me(token), 401)
    const { version } = (await t.api('GET', `/api/v1/users/${user.id}`)).json()
    const again = await t.gql(
      'mutation($id: ID!, $v: Int!) { updateUser(id: $id, version: $v, input: { active: true }) { active } }',
      { id: user.id, v: version }
    )
    expect(again.body.data?.updateUser.active, JSON.stringify(again.body)).toBe(true)
    expectProblem(await me(user.token), 401)
    expectProblem(await me(token), 401)
    const tokens = await t.api('GET', `/api/v1/api-tokens?userId=${user.id}`)
    expect(tokens.json().items.every((r: { revokedAt: string | null }) => r.revokedAt !== null)).toBe(true)
    // a fresh login works again
    expect((await me(await t.login(user.username, PASSWORD))).statusCode).toBe(200)
  })

  it('header SSO does not sign in an account with a local password (the bootstrap admin)', async () => {
    const res = await t.app.inject({
      url: '/api/v1/auth/me',
      remoteAddress: '10.0.0.9',
      headers: { 'x-remote-user': ADMIN.username }
    })
    expectProblem(res, 401)
    const rejected = await t.api('GET', '/api/v1/auth/events?kind=sso.rejected&limit=500')
    expect(rejected.json().items.some((e: { detail: { reason: string } }) => e.detail.reason === 'local account')).toBe(
      true
    )
  })
})

describe('header SSO with SSO_ALLOW_LOCAL_ACCOUNTS', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await buildTestApp({
      SSO_USER_HEADER: 'X-Remote-User',
      SSO_TRUSTED_PROXIES: '10.0.0.9',
      SSO_ALLOW_LOCAL_ACCOUNTS: 'true'
    })
  })
  afterAll(async () => t?.close())

  it('signs in a local account when allowed', async () => {
    const res = await t.app.inject({
      url: '/api/v1/auth/me',
      remoteAddress: '10.0.0.9',
      headers: { 'x-remote-user': ADMIN.username }
    })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json().user.username).toBe(ADMIN.username)
  })
})

describe.skipIf(driver === 'pglite')(
  'credentials end on another instance within AUTH_CACHE_TTL_MS (PostgreSQL)',
  () => {
    const TTL = 500
    let a: TestApp
    let b: TestApp
    beforeAll(async () => {
      a = await buildTestApp({ AUTH_CACHE_TTL_MS: String(TTL) })
      b = await buildTestApp({ AUTH_CACHE_TTL_MS: String(TTL) }, a.testDb)
    })
    afterAll(async () => {
      await b?.close()
      await a?.close()
    })

    const gone = (app: TestApp, token: string) => async () =>
      (await app.api('GET', '/api/v1/auth/me', { token })).statusCode === 401

    it('a password change on one instance ends the sessions cached on the other', async () => {
      const user = await makeUser(a, ['technician'])
      const other = await b.login(user.username, PASSWORD)
      expect((await b.api('GET', '/api/v1/auth/me', { token: other })).statusCode).toBe(200)
      const res = await a.api('POST', '/api/v1/auth/password', {
        token: user.token,
        body: { currentPassword: PASSWORD, newPassword: NEW_PASSWORD }
      })
      expect(res.statusCode, res.body).toBe(204)
      await eventually(gone(b, other), TTL + 2000)
      expect((await b.api('GET', '/api/v1/auth/me', { token: user.token })).statusCode).toBe(200)
    })

    it('disabling on one instance ends sessions and tokens cached on the other, also after re-enabling', async () => {
      const user = await makeUser(a, ['technician'])
      const { token } = await makeApiToken(a, { scopes: ['tickets:read'] }, user.token)
      expect((await b.api('GET', '/api/v1/auth/me', { token: user.token })).statusCode).toBe(200)
      expect((await b.api('GET', '/api/v1/auth/me', { token })).statusCode).toBe(200)
      expect((await a.edit(`/api/v1/users/${user.id}`, { body: { active: false } })).statusCode).toBe(200)
      expect((await a.edit(`/api/v1/users/${user.id}`, { body: { active: true } })).statusCode).toBe(200)
      await eventually(gone(b, user.token), TTL + 2000)
      await eventually(gone(b, token), TTL + 2000)
    })
  }
)
