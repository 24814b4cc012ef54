import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, PASSWORD, type TestApp } from '../helpers/app.js'
import { makeApiToken, makeUser } from '../helpers/factories.js'
import { expectProblem } from '../helpers/problem.js'
import { waitFor } from '../helpers/wait.js'

describe('auth audit, lockout, token addresses and rotation', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await buildTestApp({ LOCKOUT_USER_FAILURES: '3', LOCKOUT_IP_FAILURES: '8' })
  })
  afterAll(async () => t?.close())

  const login = (username: string, password: string, ip = '127.0.0.1') =>
    t.app.inject({ method: 'POST', url: '/api/v1/auth/login', remoteAddress: ip, payload: { username, password } })
  const events = async (qs: string) => {
    const res = await t.api('GET', `/api/v1/auth/events${qs}`)
    expect(res.statusCode, res.body).toBe(200)
    return res.json().items as {
      kind: string
      username: string | null
      ip: string | null
      detail: Record<string, unknown>
    }[]
  }

  it('records logins and failures, and only admins may read them', async () => {
    const user = await makeUser(t, ['technician'])
    expect((await login(user.username, 'wrong-password-1', '10.1.1.1')).statusCode).toBe(401)
    const failures = await events(`?kind=login.failure&username=${user.username}`)
    expect(failures[0]).toMatchObject({ username: user.username, ip: '10.1.1.1' })
    const successes = await events(`?kind=login.success&username=${user.username}`)
    expect(successes.length).toBe(1)
    expectProblem(await t.api('GET', '/api/v1/auth/events', { token: user.token }), 403)
    expectProblem(await t.api('GET', '/api/v1/auth/events?kind=party'), 400)
  })

  it('locks a user out after repeated failures, even with the right password, then a success clears it', async () => {
    const user = await makeUser(t, ['technician'])
    for (let i = 0; i < 3; i++)
      expect((await login(user.username, 'nope-nope-nope', `10.2.0.${i}`)).statusCode).toBe(401)
    const locked = await login(user.username, PASSWORD, '10.2.0.99')
    const body = expectProblem(locked, 429, 'ACCOUNT_LOCKED')
    expect(body.detail).toContain('too many failed logins')
    expect((await events(`?kind=login.locked&username=${user.username}`)).length).toBeGreaterThan(0)
    // other users are unaffected
    const other = await makeUser(t, ['technician'])
    expect((await login(other.username, PASSWORD, '10.2.0.99')).statusCode).toBe(200)
  })

  it('locks out an address that fails across many users', async () => {
    for (let i = 0; i < 8; i++) await login(`nobody-${i}`, 'whatever-123', '10.3.3.3')
    expectProblem(await login('admin', 'admin-password-123', '10.3.3.3'), 429, 'ACCOUNT_LOCKED')
    expect((await login('admin', 'admin-password-123', '10.3.3.4')).statusCode).toBe(200)
  })

  it('refuses an empty or blank password before anything else', async () => {
    expectProblem(await login('admin', ''), 400)
    expectProblem(await login('admin', '   '), 401)
  })

  it('records the first use of a token from each new address, once', async () => {
    const { token, id } = await makeApiToken(t, { scopes: ['tickets:read'] })
    for (const ip of ['192.0.2.1', '192.0.2.1', '192.0.2.2']) {
      const res = await t.app.inject({
        url: '/api/v1/auth/me',
        remoteAddress: ip,
        headers: { authorization: `Bearer ${token}` }
      })
      expect(res.statusCode).toBe(200)
    }
    // recorded in the background: wait until both addresses are there
    const seen = await waitFor('token.new_address events', async () => {
      const rows = (await events('?kind=token.new_address&limit=500')).filter(e => e.detail.tokenId === id)
      return rows.length >= 2 ? rows : undefined
    })
    expect(seen.map(e => e.ip).sort()).toEqual(['192.0.2.1', '192.0.2.2'])
  })

  it('rotates a token: both work during the grace period, the secret is new', async () => {
    const old = await makeApiToken(t, { scopes: ['tickets:read', 'tickets:write'] })
    const res = await t.api('POST', `/api/v1/api-tokens/${old.id}/rotate`, { body: { graceMinutes: 5 } })
    expect(res.statusCode, res.body).toBe(201)
    const successor = res.json()
    expect(successor.token).not.toBe(old.token)
    expect(successor.scopes).toEqual(['tickets:read', 'tickets:write'])
    for (const token of [old.token, successor.token]) {
      expect((await t.api('GET', '/api/v1/incidents', { token })).statusCode).toBe(200)
    }
    const listed = (await t.api('GET', '/api/v1/api-tokens?limit=500')).json().items
    const oldRow = listed.find((x: { id: string }) => x.id === old.id)
    const minutes = (Date.parse(oldRow.expiresAt) - Date.now()) / 60_000
    expect(minutes).toBeGreaterThan(4)
    expect(minutes).toBeLessThanOrEqual(5)

    // grace 0: the old token stops at once
    const now = await t.api('POST', `/api/v1/api-tokens/${successor.id}/rotate`, { body: { graceMinutes: 0 } })
    expect(now.statusCode).toBe(201)
    expectProblem(await t.api('GET', '/api/v1/incidents', { token: successor.token }), 401)
    expect((await t.api('GET', '/api/v1/incidents', { token: now.json().token })).statusCode).toBe(200)
    // rotating an expired one is a conflict; an unknown one 404
    expectProblem(await t.api('POST', `/api/v1/api-tokens/${successor.id}/rotate`, { body: {} }), 409)
    expectProblem(
      await t.api('POST', '/api/v1/api-tokens/00000000-0000-4000-8000-000000000000/rotate', { body: {} }),
      404
    )
  })
})
