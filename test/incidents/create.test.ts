import { sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeIncident, makeOrganisation, makeTeam, makeUser } from '../helpers/factories.js'
import { versionOfEtag } from '../helpers/http.js'

const count = async (t: TestApp) => {
  const res = await t.db.execute(sql`SELECT count(*)::int AS n FROM tickets`)
  return Number((res as unknown as { rows: { n: number }[] }).rows[0]!.n)
}

describe('creating incidents', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await buildTestApp()
  })
  afterAll(async () => t?.close())

  it('answers 201 with Location, ETag, a human number and defaults', async () => {
    const res = await t.api('POST', '/api/v1/incidents', {
      body: { title: '  VPN drops every hour  ', description: 'since Monday' }
    })
    expect(res.statusCode).toBe(201)
    const body = res.json()
    expect(res.headers.location).toBe(`/api/v1/incidents/${body.id}`)
    expect(versionOfEtag(res.headers.etag)).toBe(1)
    expect(body).toMatchObject({
      title: 'VPN drops every hour',
      status: 'new',
      impact: 2,
      urgency: 2,
      priority: 3,
      version: 1
    })
    expect(body.number).toMatch(/^INC-\d{6}$/)
    expect(body.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
    const next = await makeIncident(t)
    expect(Number(next.number.slice(4))).toBe(Number(body.number.slice(4)) + 1)
  })

  it.each([
    [1, 1, 1],
    [1, 3, 3],
    [2, 2, 3],
    [3, 2, 4],
    [3, 3, 5]
  ])('derives priority from impact %i x urgency %i = %i', async (impact, urgency, priority) => {
    expect((await makeIncident(t, { impact, urgency })).priority).toBe(priority)
  })

  it('sets the requester organisation and lets a customer raise only for themselves', async () => {
    const org = await makeOrganisation(t)
    const customer = await makeUser(t, ['customer'], { organisationId: org.id })
    const mine = await makeIncident(t, {}, customer.token)
    expect(mine).toMatchObject({ requesterId: customer.id, organisationId: org.id, createdById: customer.id })

    const other = await makeUser(t, ['customer'], { organisationId: org.id })
    const res = await t.api('POST', '/api/v1/incidents', {
      token: customer.token,
      body: { title: 'x', requesterId: other.id }
    })
    expect(res.statusCode).toBe(403)
    expect(res.headers['content-type']).toContain('application/problem+json')

    const assign = await t.api('POST', '/api/v1/incidents', {
      token: customer.token,
      body: { title: 'x', teamId: org.id }
    })
    expect(assign.statusCode).toBe(403)
  })

  it('lets staff raise for a requester, and names an unknown requester', async () => {
    const org = await makeOrganisation(t)
    const customer = await makeUser(t, ['customer'], { organisationId: org.id })
    const tech = await makeUser(t, ['technician'])
    const created = await makeIncident(t, { requesterId: customer.id }, tech.token)
    expect(created).toMatchObject({ requesterId: customer.id, organisationId: org.id, createdById: tech.id })

    const before = await count(t)
    const res = await t.api('POST', '/api/v1/incidents', {
      token: tech.token,
      body: { title: 'x', requesterId: '00000000-0000-4000-8000-000000000000' }
    })
    expect(res.statusCode).toBe(422)
    expect(res.json().errors).toEqual([{ field: 'requesterId', message: 'no such active user' }])
    expect(await count(t)).toBe(before)
  })

  it('creates assigned when a team member is given, and refuses a non-member whole', async () => {
    const tech = await makeUser(t, ['technician'])
    const outsider = await makeUser(t, ['technician'])
    const team = await makeTeam(t, [{ userId: tech.id, level: 2 }])
    const ok = await makeIncident(t, { teamId: team.id, layer: 2, assigneeId: tech.id })
    expect(ok).toMatchObject({ status: 'assigned', teamId: team.id, layer: 2, assigneeId: tech.id })

    const before = await count(t)
    const bad = await t.api('POST', '/api/v1/incidents', {
      body: { title: 'x', teamId: team.id, assigneeId: outsider.id }
    })
    expect(bad.statusCode).toBe(422)
    expect(bad.json().errors[0].field).toBe('assigneeId')
    expect(await count(t)).toBe(before)

    const noTeam = await t.api('POST', '/api/v1/incidents', { body: { title: 'x', assigneeId: tech.id } })
    expect(noTeam.statusCode).toBe(422)
    expect(noTeam.json().errors[0].field).toBe('teamId')
  })

  it.each([
    [{}, 'title', 'required'],
    [{ title: '' }, 'title', ''],
    [{ title: '   ' }, 'title', ''],
    [{ title: 'x'.repeat(301) }, 'title', ''],
    [{ title: 'x', impact: '1' }, 'impact', 'whole number'],
    [{ title: 'x', impact: 4 }, 'impact', ''],
    [{ title: 'x', urgency: 0 }, 'urgency', ''],
    [{ title: 'x', status: 'closed' }, 'status', 'unknown or read-only field'],
    [{ title: 'x', priority: 1 }, 'priority', 'unknown or read-only field'],
    [{ title: 'x', id: '00000000-0000-4000-8000-000000000000' }, 'id', 'unknown or read-only field'],
    [{ title: 'x', organisationId: '00000000-0000-4000-8000-000000000000' }, 'organisationId', 'unknown'],
    [{ title: 'x', requesterId: 'not-a-uuid' }, 'requesterId', 'UUID'],
    [{ title: 42 }, 'title', 'string']
  ])('refuses %j with a 400 naming %s, and writes nothing', async (body, field, message) => {
    const before = await count(t)
    const res = await t.api('POST', '/api/v1/incidents', { body })
    expect(res.statusCode).toBe(400)
    expect(res.headers['content-type']).toContain('application/problem+json')
    const problem = res.json()
    expect(problem).toMatchObject({ status: 400, code: 'VALIDATION_FAILED', title: 'Bad Request' })
    expect(problem.type).toBeTruthy()
    expect(problem.errors[0].field).toBe(field)
    expect(problem.errors[0].message).toContain(message)
    expect(await count(t)).toBe(before)
  })

  it('refuses malformed JSON, other media types and an array body', async () => {
    const raw = await t.app.inject({
      method: 'POST',
      url: '/api/v1/incidents',
      headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': 'application/json' },
      payload: '{"title": '
    })
    expect(raw.statusCode).toBe(400)
    expect(raw.json().code).toBe('MALFORMED_JSON')
    const xml = await t.app.inject({
      method: 'POST',
      url: '/api/v1/incidents',
      headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': 'application/xml' },
      payload: '<title/>'
    })
    expect(xml.statusCode).toBe(415)
    const arr = await t.api('POST', '/api/v1/incidents', { body: [{ title: 'x' }] })
    expect(arr.statusCode).toBe(400)
    const proto = await t.app.inject({
      method: 'POST',
      url: '/api/v1/incidents',
      headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': 'application/json' },
      payload: '{"title":"x","__proto__":{"admin":true}}'
    })
    expect(proto.statusCode).toBe(400)
    expect(({} as Record<string, unknown>).admin).toBeUndefined()
  })

  it('needs authentication', async () => {
    const res = await t.api('POST', '/api/v1/incidents', { token: null, body: { title: 'x' } })
    expect(res.statusCode).toBe(401)
    expect(res.headers['www-authenticate']).toBe('Bearer')
    const bad = await t.api('GET', '/api/v1/incidents', { token: 'sds_not-a-real-token-at-all-123456' })
    expect(bad.statusCode).toBe(401)
  })
})

describe('Idempotency-Key on create', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await buildTestApp()
  })
  afterAll(async () => t?.close())

  const post = (key: string, body: object, token?: string) =>
    t.api('POST', '/api/v1/incidents', { body, headers: { 'idempotency-key': key }, ...(token ? { token } : {}) })

  it('answers a retry with the first result and creates nothing', async () => {
    const first = await post('key-1', { title: 'Disk full', impact: 1 })
    expect(first.statusCode).toBe(201)
    const before = await count(t)
    const again = await post('key-1', { impact: 1, title: 'Disk full' })
    expect(again.statusCode).toBe(201)
    expect(again.headers['idempotent-replayed']).toBe('true')
    expect(again.json()).toEqual(first.json())
    expect(await count(t)).toBe(before)
  })

  it('refuses the same key with another body (422) and keeps keys per caller', async () => {
    await post('key-2', { title: 'A' })
    const other = await post('key-2', { title: 'B' })
    expect(other.statusCode).toBe(422)
    expect(other.json().code).toBe('IDEMPOTENCY_KEY_REUSED')
    expect(other.json().errors[0].field).toBe('Idempotency-Key')

    const tech = await makeUser(t, ['technician'])
    const theirs = await post('key-2', { title: 'A' }, tech.token)
    expect(theirs.statusCode).toBe(201)
    expect(theirs.headers['idempotent-replayed']).toBeUndefined()
  })

  it('does not store failed attempts, so a corrected retry goes through', async () => {
    const bad = await post('key-3', { title: 'x', requesterId: '00000000-0000-4000-8000-000000000000' })
    expect(bad.statusCode).toBe(422)
    const good = await post('key-3', { title: 'x' })
    expect(good.statusCode).toBe(201)
  })

  it('creates exactly one incident under concurrent retries', async () => {
    const before = await count(t)
    const answers = await Promise.all(Array.from({ length: 8 }, () => post('key-4', { title: 'Concurrent' })))
    const created = answers.filter(a => a.statusCode === 201)
    expect(created.length).toBeGreaterThanOrEqual(1)
    for (const a of answers) expect([201, 409]).toContain(a.statusCode)
    expect(new Set(created.map(a => a.json().id)).size).toBe(1)
    expect(await count(t)).toBe(before + 1)
  })

  it('refuses a malformed key', async () => {
    const res = await post('x'.repeat(256), { title: 'x' })
    expect(res.statusCode).toBe(400)
    expect(res.json().errors[0].field).toBe('Idempotency-Key')
  })
})

describe('characters PostgreSQL cannot store', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await buildTestApp()
  })
  afterAll(async () => t?.close())

  it('answers 400, never 500, for a NUL in free text', async () => {
    const res = await t.api('POST', '/api/v1/incidents', { body: { title: 'a\u0000b' } })
    expect(res.statusCode).toBe(400)
    const q = await t.api('GET', `/api/v1/incidents?q=${encodeURIComponent('a\u0000b')}`)
    expect(q.statusCode).toBeLessThan(500)
  })
})
