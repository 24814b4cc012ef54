import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { apiTokens } from '../../src/db/schema/index.js'
import { hashToken } from '../../src/lib/secrets.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeApiToken, makeIncident, makeOrganisation, makeUser } from '../helpers/factories.js'
import { expectProblem, fieldsOf } from '../helpers/problem.js'
import { waitFor } from '../helpers/wait.js'

type User = Awaited<ReturnType<typeof makeUser>>

/** Token use is recorded in the background: wait until the list shows it. */
async function lastUsedOf(t: TestApp, id: string): Promise<string> {
  return waitFor(`lastUsedAt of token ${id}`, async () => {
    const list = await t.api('GET', '/api/v1/api-tokens?limit=500')
    const row = list.json().items.find((x: { id: string }) => x.id === id)
    // The use is recorded after the answer, so null means "not yet": keep waiting
    return (row?.lastUsedAt as string | null | undefined) ?? undefined
  })
}

describe('API tokens', () => {
  let t: TestApp
  let tech: User
  let otherTech: User
  let orgA: { id: string }
  let orgB: { id: string }
  let incA: { id: string }
  let incB: { id: string }

  beforeAll(async () => {
    t = await buildTestApp()
    tech = await makeUser(t, ['technician'])
    otherTech = await makeUser(t, ['technician'])
    orgA = await makeOrganisation(t)
    orgB = await makeOrganisation(t)
    const custA = await makeUser(t, ['customer'], { organisationId: orgA.id })
    const custB = await makeUser(t, ['customer'], { organisationId: orgB.id })
    incA = await makeIncident(t, { requesterId: custA.id })
    incB = await makeIncident(t, { requesterId: custB.id })
  })
  afterAll(async () => t?.close())

  it('answers the secret once at creation; the list never shows it or its hash', async () => {
    const res = await t.api('POST', '/api/v1/api-tokens', {
      body: { name: 'GLPI sync', scopes: ['cmdb:import', 'cmdb:read'] }
    })
    expect(res.statusCode).toBe(201)
    const created = res.json()
    expect(created.token).toMatch(/^sdt_[A-Za-z0-9_-]{40,}$/)
    expect(created.prefix).toBe(created.token.slice(0, created.prefix.length))
    expect(created.token.length).toBeGreaterThan(created.prefix.length + 20)
    expect(created).not.toHaveProperty('tokenHash')
    expect(created).toMatchObject({ name: 'GLPI sync', revokedAt: null, lastUsedAt: null, expiresAt: null })

    const list = await t.api('GET', '/api/v1/api-tokens')
    expect(list.statusCode).toBe(200)
    const item = list.json().items.find((x: { id: string }) => x.id === created.id)
    expect(item).toMatchObject({ name: 'GLPI sync', prefix: created.prefix })
    expect(item).not.toHaveProperty('token')
    expect(item).not.toHaveProperty('tokenHash')
    expect(list.body).not.toContain(created.token)
    expect(list.body).not.toContain(hashToken(created.token))
  })

  it('stores only a hash: the secret appears nowhere in the row', async () => {
    const created = await makeApiToken(t, { scopes: ['tickets:read'] })
    const [row] = await t.db.select().from(apiTokens).where(eq(apiTokens.id, created.id))
    expect(row).toBeDefined()
    expect(row!.tokenHash).not.toBe(created.token)
    expect(row!.tokenHash).toBe(hashToken(created.token))
    const stored = JSON.stringify(row)
    expect(stored).not.toContain(created.token)
    expect(stored).not.toContain(created.token.slice(created.prefix.length))
  })

  it('works as a Bearer token, acting as its owner with its scopes', async () => {
    const created = await makeApiToken(t, { scopes: ['tickets:read'] }, tech.token)
    const me = await t.api('GET', '/api/v1/auth/me', { token: created.token })
    expect(me.statusCode).toBe(200)
    expect(me.json()).toMatchObject({ via: 'token', scopes: ['tickets:read'], user: { id: tech.id } })
  })

  it('a tickets:read token can list incidents but not create one (403 naming tickets:write)', async () => {
    const { token } = await makeApiToken(t, { scopes: ['tickets:read'] }, tech.token)
    const list = await t.api('GET', '/api/v1/incidents', { token })
    expect(list.statusCode).toBe(200)
    expect(list.json().items.map((i: { id: string }) => i.id)).toEqual(expect.arrayContaining([incA.id, incB.id]))

    const before = (await t.api('GET', '/api/v1/incidents?limit=500')).json().items.length
    const res = await t.api('POST', '/api/v1/incidents', { token, body: { title: 'via read-only token' } })
    const body = expectProblem(res, 403, 'FORBIDDEN')
    expect(body.missingScope).toBe('tickets:write')
    expect(body.detail).toContain('tickets:write')
    expect((await t.api('GET', '/api/v1/incidents?limit=500')).json().items.length).toBe(before)
  })

  it('a tickets:write token without tickets:read cannot read', async () => {
    const { token } = await makeApiToken(t, { scopes: ['tickets:write'] }, tech.token)
    const body = expectProblem(await t.api('GET', '/api/v1/incidents', { token }), 403)
    expect(body.missingScope).toBe('tickets:read')
    expect((await t.api('POST', '/api/v1/incidents', { token, body: { title: 'written by token' } })).statusCode).toBe(
      201
    )
  })

  it('never exceeds its owner: a customer token with the admin scope cannot create users', async () => {
    const customer = await makeUser(t, ['customer'], { organisationId: orgA.id })
    const { token } = await makeApiToken(t, { userId: customer.id, scopes: ['admin', 'tickets:read'] })
    const username = 'made-by-customer-token'
    const res = await t.api('POST', '/api/v1/users', {
      token,
      body: { username, displayName: 'x', roles: ['admin'], password: 'long-enough-password' }
    })
    const body = expectProblem(res, 403, 'FORBIDDEN')
    expect(body).not.toHaveProperty('missingScope')
    const users = await t.api('GET', `/api/v1/users?q=${username}`)
    expect(users.json().items).toEqual([])
    // Nor does the token reach beyond the customer's organisation
    const list = await t.api('GET', '/api/v1/incidents', { token })
    expect(list.json().items.map((i: { id: string }) => i.id)).not.toContain(incB.id)
  })

  it('a token pinned to an organisation sees only its incidents', async () => {
    const { token } = await makeApiToken(t, { scopes: ['tickets:read'], organisationId: orgA.id }, tech.token)
    const list = await t.api('GET', '/api/v1/incidents?limit=500', { token })
    expect(list.statusCode).toBe(200)
    const items = list.json().items as { id: string; organisationId: string }[]
    expect(items.map(i => i.id)).toContain(incA.id)
    expect(items.every(i => i.organisationId === orgA.id)).toBe(true)
    expectProblem(await t.api('GET', `/api/v1/incidents/${incB.id}`, { token }), 404)
    expect((await t.api('GET', `/api/v1/incidents/${incA.id}`, { token })).statusCode).toBe(200)
  })

  it('a pin never widens what the owner sees', async () => {
    const customer = await makeUser(t, ['customer'], { organisationId: orgA.id })
    const own = await makeIncident(t, { requesterId: customer.id })
    // Pinning a customer's token to another organisation is refused outright, naming the field
    const elsewhere = await t.api('POST', '/api/v1/api-tokens', {
      body: { name: 'x', userId: customer.id, scopes: ['tickets:read'], organisationId: orgB.id }
    })

    expect(fieldsOf(expectProblem(elsewhere, 422))).toContain('organisationId')
    const loner = await makeUser(t, ['customer'])
    const lonerPin = await t.api('POST', '/api/v1/api-tokens', {
      body: { name: 'x', userId: loner.id, scopes: ['tickets:read'], organisationId: orgA.id }
    })
    expectProblem(lonerPin, 422)

    // Pinned to their own organisation, a customer token sees just what the customer sees
    const same = await makeApiToken(t, { userId: customer.id, scopes: ['tickets:read'], organisationId: orgA.id })
    const sameIds = (await t.api('GET', '/api/v1/incidents?limit=500', { token: same.token })).json().items
    expect(sameIds.map((i: { id: string }) => i.id)).toEqual(expect.arrayContaining([incA.id, own.id]))
    expect(sameIds.map((i: { id: string }) => i.id)).not.toContain(incB.id)

    // The customer moves to organisation B: the token stays pinned to A and now sees nothing of either
    const moved = await t.edit(`/api/v1/users/${customer.id}`, { body: { organisationId: orgB.id } })
    expect(moved.statusCode).toBe(200)
    const after = (await t.api('GET', '/api/v1/incidents?limit=500', { token: same.token })).json().items
    const afterIds = after.map((i: { id: string }) => i.id)
    expect(afterIds).not.toContain(incA.id)
    expect(afterIds).not.toContain(incB.id)
    expectProblem(await t.api('GET', `/api/v1/incidents/${incB.id}`, { token: same.token }), 404)
  })

  it('revoking answers 204 and the token is refused at once', async () => {
    const created = await makeApiToken(t, { scopes: ['tickets:read'] }, tech.token)
    expect((await t.api('GET', '/api/v1/auth/me', { token: created.token })).statusCode).toBe(200)
    const res = await t.api('DELETE', `/api/v1/api-tokens/${created.id}`, { token: tech.token })
    expect(res.statusCode).toBe(204)
    const after = await t.api('GET', '/api/v1/auth/me', { token: created.token })
    expectProblem(after, 401)
    expect(after.headers['www-authenticate']).toBe('Bearer')
    const list = await t.api('GET', '/api/v1/api-tokens', { token: tech.token })
    expect(list.json().items.find((x: { id: string }) => x.id === created.id).revokedAt).not.toBeNull()
  })

  it('answers 404 when revoking a token that is not yours, and leaves it working', async () => {
    const created = await makeApiToken(t, { scopes: ['tickets:read'] }, otherTech.token)
    expectProblem(await t.api('DELETE', `/api/v1/api-tokens/${created.id}`, { token: tech.token }), 404)
    expect((await t.api('GET', '/api/v1/auth/me', { token: created.token })).statusCode).toBe(200)
  })

  it('records when a token was last used', async () => {
    const created = await makeApiToken(t, { scopes: ['tickets:read'] })
    expect((await t.api('GET', '/api/v1/auth/me', { token: created.token })).statusCode).toBe(200)
    const used = await lastUsedOf(t, created.id)
    expect(used).not.toBeNull()
    expect(Math.abs(Date.parse(used!) - Date.now())).toBeLessThan(60_000)
  })

  it('refuses an expired token', async () => {
    const created = await makeApiToken(t, {
      scopes: ['tickets:read'],
      expiresAt: new Date(Date.now() + 3600_000).toISOString()
    })
    expect((await t.api('GET', '/api/v1/auth/me', { token: created.token })).statusCode).toBe(200)
    await t.db
      .update(apiTokens)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(apiTokens.id, created.id))
    expectProblem(await t.api('GET', '/api/v1/auth/me', { token: created.token }), 401)
  })

  it('a token stops working when its owner is disabled', async () => {
    const owner = await makeUser(t, ['technician'])
    const { token } = await makeApiToken(t, { scopes: ['tickets:read'] }, owner.token)
    expect((await t.api('GET', '/api/v1/incidents', { token })).statusCode).toBe(200)
    expect((await t.edit(`/api/v1/users/${owner.id}`, { body: { active: false } })).statusCode).toBe(200)
    expectProblem(await t.api('GET', '/api/v1/incidents', { token }), 401)
  })

  it('a technician may create a token for themselves but not for someone else', async () => {
    const own = await t.api('POST', '/api/v1/api-tokens', {
      token: tech.token,
      body: { name: 'mine', scopes: ['tickets:read'] }
    })
    expect(own.statusCode).toBe(201)
    expect(own.json().userId).toBe(tech.id)

    const before = await t.db.select().from(apiTokens).where(eq(apiTokens.userId, otherTech.id))
    const res = await t.api('POST', '/api/v1/api-tokens', {
      token: tech.token,
      body: { name: 'theirs', userId: otherTech.id, scopes: ['tickets:read'] }
    })
    expectProblem(res, 403, 'FORBIDDEN')
    const after = await t.db.select().from(apiTokens).where(eq(apiTokens.userId, otherTech.id))
    expect(after).toHaveLength(before.length)
  })

  it('a technician lists only their own tokens; an admin may list anyone’s', async () => {
    await makeApiToken(t, { scopes: ['tickets:read'] }, otherTech.token)
    const mine = await t.api('GET', '/api/v1/api-tokens?limit=500', { token: tech.token })
    expect(mine.statusCode).toBe(200)
    const owners = new Set(mine.json().items.map((x: { userId: string }) => x.userId))
    expect([...owners]).toEqual([tech.id])
    const theirs = await t.api('GET', `/api/v1/api-tokens?userId=${otherTech.id}`)
    expect(theirs.json().items.length).toBeGreaterThan(0)
    expect(theirs.json().items.every((x: { userId: string }) => x.userId === otherTech.id)).toBe(true)
  })

  it('rejects expiresAt in the past with 422 naming expiresAt', async () => {
    const res = await t.api('POST', '/api/v1/api-tokens', {
      body: { name: 'stale', scopes: ['tickets:read'], expiresAt: new Date(Date.now() - 60_000).toISOString() }
    })
    const body = expectProblem(res, 422)
    expect(fieldsOf(body)).toContain('expiresAt')
  })

  it('rejects unknown scopes, no scopes, and an unknown organisation', async () => {
    expect(
      fieldsOf(
        expectProblem(
          await t.api('POST', '/api/v1/api-tokens', {
            body: { name: 'x', scopes: ['root'] }
          }),
          400
        )
      )
    ).toContain('scopes.0')
    expect(
      fieldsOf(
        expectProblem(
          await t.api('POST', '/api/v1/api-tokens', {
            body: { name: 'x', scopes: [] }
          }),
          400
        )
      )
    ).toContain('scopes')
    const res = await t.api('POST', '/api/v1/api-tokens', {
      body: { name: 'x', scopes: ['tickets:read'], organisationId: '00000000-0000-7000-8000-000000000000' }
    })
    expect(fieldsOf(expectProblem(res, 422))).toContain('organisationId')
  })

  it('a customer may not make tokens at all', async () => {
    const customer = await makeUser(t, ['customer'], { organisationId: orgA.id })
    const res = await t.api('POST', '/api/v1/api-tokens', {
      token: customer.token,
      body: { name: 'mine', scopes: ['tickets:read'] }
    })
    expectProblem(res, 403)
  })
})
