import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeApiToken, makeUser } from '../helpers/factories.js'
import { expectProblem } from '../helpers/problem.js'

/**
 * With a long credential cache, changes made through this instance must still bite on the very
 * next request: logout, revocation, disabling and role changes drop the cached entries.
 */
describe('credential cache', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await buildTestApp({ AUTH_CACHE_TTL_MS: '60000' })
  })
  afterAll(async () => t?.close())

  const me = (token: string) => t.api('GET', '/api/v1/auth/me', { token })

  it('logout ends a cached session at once', async () => {
    const user = await makeUser(t, ['technician'])
    expect((await me(user.token)).statusCode).toBe(200)
    expect((await t.api('POST', '/api/v1/auth/logout', { token: user.token })).statusCode).toBe(204)
    expectProblem(await me(user.token), 401)
  })

  it('revoking a cached token refuses it at once', async () => {
    const created = await makeApiToken(t, { scopes: ['tickets:read'] })
    expect((await me(created.token)).statusCode).toBe(200)
    expect((await t.api('DELETE', `/api/v1/api-tokens/${created.id}`)).statusCode).toBe(204)
    expectProblem(await me(created.token), 401)
  })

  it('disabling a user ends their cached session and tokens at once', async () => {
    const user = await makeUser(t, ['technician'])
    const { token } = await makeApiToken(t, { scopes: ['tickets:read'] }, user.token)
    expect((await me(user.token)).statusCode).toBe(200)
    expect((await me(token)).statusCode).toBe(200)
    expect((await t.edit(`/api/v1/users/${user.id}`, { body: { active: false } })).statusCode).toBe(200)
    expectProblem(await me(user.token), 401)
    expectProblem(await me(token), 401)
  })

  it('a role change applies to a cached session on the next request', async () => {
    const user = await makeUser(t, ['technician'])
    expect((await t.api('GET', '/api/v1/incidents', { token: user.token })).statusCode).toBe(200)
    expect((await t.edit(`/api/v1/users/${user.id}`, { body: { roles: ['finance'] } })).statusCode).toBe(200)
    expectProblem(await t.api('GET', '/api/v1/incidents', { token: user.token }), 403)
    expect((await me(user.token)).json().user.roles).toEqual(['finance'])
  })
})
