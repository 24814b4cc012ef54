import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { users } from '../../src/db/schema/index.js'
import { buildTestApp, PASSWORD, type TestApp } from '../helpers/app.js'
import { expectProblem, fieldsOf } from '../helpers/problem.js'

describe('malformed input', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await buildTestApp({ BODY_LIMIT_BYTES: '2048' })
  })
  afterAll(async () => t?.close())

  const raw = (url: string, payload: string, contentType = 'application/json', method: 'POST' | 'PATCH' = 'POST') =>
    t.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': contentType },
      payload
    })
  const noUser = async (username: string) =>
    expect(await t.db.select().from(users).where(eq(users.username, username))).toHaveLength(0)

  it('answers invalid JSON with 400 MALFORMED_JSON', async () => {
    for (const payload of ['{"username": "x",', '{username: "x"}', "{'a': 1}", 'not json']) {
      const res = await raw('/api/v1/users', payload)
      const body = expectProblem(res, 400, 'MALFORMED_JSON')
      // The parser's internals stay out of the answer
      expect(body.detail).not.toMatch(/at JSON\.parse|node_modules/)
    }
  })

  it('answers invalid JSON on the public login route the same way', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { 'content-type': 'application/json' },
      payload: '{"username":'
    })
    expectProblem(res, 400, 'MALFORMED_JSON')
  })

  it('answers an empty JSON body with 400', async () => {
    expectProblem(await raw('/api/v1/users', ''), 400)
  })

  it('answers a content type other than JSON with 415', async () => {
    const xml = '<user><username>x</username></user>'
    expectProblem(await raw('/api/v1/users', xml, 'text/xml'), 415)
    expectProblem(await raw('/api/v1/users', 'username=x', 'application/x-www-form-urlencoded'), 415)
    // Fastify parses text/plain to a string; it must still never pass for a JSON object
    const plain = await raw('/api/v1/organisations', '{"name":"Plain Org"}', 'text/plain')
    expect([400, 415]).toContain(plain.statusCode)
    expectProblem(plain, plain.statusCode)
    expect((await t.api('GET', '/api/v1/organisations?q=Plain')).json().items).toEqual([])
  })

  it('accepts JSON with a charset parameter', async () => {
    const res = await raw(
      '/api/v1/organisations',
      JSON.stringify({ name: 'Charset Org' }),
      'application/json; charset=utf-8'
    )
    expect(res.statusCode).toBe(201)
  })

  it('answers a body over BODY_LIMIT_BYTES with 413 and creates nothing', async () => {
    const username = 'big-body'
    const payload = JSON.stringify({
      username,
      displayName: 'x'.repeat(1500),
      roles: ['technician'],
      password: PASSWORD,
      email: `${'y'.repeat(600)}@example.com`
    })
    expect(Buffer.byteLength(payload)).toBeGreaterThan(2048)
    expectProblem(await raw('/api/v1/users', payload), 413)
    await noUser(username)
    // Just under the limit is fine
    const small = JSON.stringify({ name: 'Small body', description: 'x'.repeat(1900) })
    expect(Buffer.byteLength(small)).toBeLessThan(2048)
    expect((await raw('/api/v1/teams', small)).statusCode).toBe(201)
  })

  it('refuses __proto__ and constructor.prototype keys with 400 and creates nothing', async () => {
    const username = 'proto-user'
    const proto = `{"username":"${username}","displayName":"p","roles":["technician"],"__proto__":{"isAdmin":true}}`
    expectProblem(await raw('/api/v1/users', proto), 400)
    await noUser(username)
    const ctor = `{"username":"${username}","displayName":"p","roles":["technician"],"constructor":{"prototype":{"x":1}}}`
    expectProblem(await raw('/api/v1/users', ctor), 400)
    await noUser(username)
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined()
  })

  it('refuses a path id that is not a UUID with 400 naming id', async () => {
    for (const url of [
      '/api/v1/users/not-a-uuid',
      '/api/v1/teams/123',
      '/api/v1/organisations/00000000-0000-0000-0000-00000000000g'
    ]) {
      const res = await t.api('GET', url)
      expect(fieldsOf(expectProblem(res, 400, 'VALIDATION_FAILED'))).toContain('id')
    }
    const member = await t.api('DELETE', `/api/v1/teams/${'0'.repeat(8)}-0000-7000-8000-${'0'.repeat(12)}/members/bob`)
    expect(fieldsOf(expectProblem(member, 400))).toContain('userId')
  })

  it('refuses unknown query parameters with 400 naming them', async () => {
    const res = await t.api('GET', '/api/v1/users?isAdmin=true')
    expect(fieldsOf(expectProblem(res, 400))).toContain('isAdmin')
    expect(fieldsOf(expectProblem(await t.api('GET', '/api/v1/organisations?sort=name'), 400))).toContain('sort')
    expect(fieldsOf(expectProblem(await t.api('GET', '/api/v1/api-tokens?all=1'), 400))).toContain('all')
  })

  it('refuses a limit outside 1..500 with 400 naming limit', async () => {
    for (const limit of ['0', '501', 'ten', '-1', '1.5']) {
      const res = await t.api('GET', `/api/v1/users?limit=${limit}`)
      expect(fieldsOf(expectProblem(res, 400))).toContain('limit')
    }
    expect((await t.api('GET', '/api/v1/users?limit=500')).statusCode).toBe(200)
  })

  it('refuses a wrongly typed body field without coercing it', async () => {
    const res = await t.api('POST', '/api/v1/users', {
      body: { username: 'typed', displayName: 'x', roles: 'technician' }
    })
    expect(fieldsOf(expectProblem(res, 400))).toContain('roles')
    const active = await t.api('POST', '/api/v1/users', {
      body: { username: 'typed', displayName: 'x', roles: ['technician'], active: 'true' }
    })
    expect(fieldsOf(expectProblem(active, 400))).toContain('active')
    await noUser('typed')
  })

  it('answers an unknown route with a 404 problem', async () => {
    expectProblem(await t.api('GET', '/api/v1/nothing-here'), 404)
  })
})
