import { and, eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { auditLog } from '../../src/db/schema/index.js'
import { encodeCursor } from '../../src/lib/cursor.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeOrganisation, makeUser } from '../helpers/factories.js'
import { expectProblem, fieldsOf } from '../helpers/problem.js'

interface Page {
  items: { id: string; name: string }[]
  nextCursor: string | null
}

/** Follows nextCursor from the first page to the last. */
async function walk(t: TestApp, path: string, limit: number): Promise<string[]> {
  const ids: string[] = []
  let cursor: string | null = null
  for (let i = 0; i < 100; i++) {
    const sep = path.includes('?') ? '&' : '?'
    const res = await t.api(
      'GET',
      `${path}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`
    )
    expect(res.statusCode, res.body).toBe(200)
    const page = res.json() as Page
    expect(page.items.length).toBeLessThanOrEqual(limit)
    ids.push(...page.items.map(x => x.id))
    cursor = page.nextCursor
    if (!cursor) return ids
    expect(page.items.length).toBe(limit)
  }
  throw new Error('pagination did not end')
}

describe('organisations', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await buildTestApp()
  })
  afterAll(async () => t?.close())

  it('creates, gets, lists and renames an organisation', async () => {
    const res = await t.api('POST', '/api/v1/organisations', { body: { name: 'Acme Ltd' } })
    expect(res.statusCode).toBe(201)
    const org = res.json()
    expect(org).toMatchObject({ name: 'Acme Ltd' })
    expect(Number.isNaN(Date.parse(org.createdAt))).toBe(false)

    const got = await t.api('GET', `/api/v1/organisations/${org.id}`)
    expect(got.statusCode).toBe(200)
    expect(got.json()).toEqual(org)

    const list = await t.api('GET', '/api/v1/organisations')
    expect(list.json().items.map((o: { id: string }) => o.id)).toContain(org.id)
    expect(list.json()).toHaveProperty('nextCursor', null)

    const renamed = await t.api('PATCH', `/api/v1/organisations/${org.id}`, { body: { name: 'Acme Group' } })
    expect(renamed.statusCode).toBe(200)
    expect(renamed.json()).toMatchObject({ id: org.id, name: 'Acme Group' })
    expect(Date.parse(renamed.json().updatedAt)).toBeGreaterThanOrEqual(Date.parse(org.updatedAt))
    expect((await t.api('GET', `/api/v1/organisations/${org.id}`)).json().name).toBe('Acme Group')

    const audit = await t.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.entityType, 'organisation'), eq(auditLog.entityId, org.id)))
    expect(audit.map(a => a.action).sort()).toEqual(['created', 'updated'])
  })

  it('keeps names unique regardless of case: 409 naming name', async () => {
    const org = await makeOrganisation(t, 'Globex')
    expect(
      fieldsOf(expectProblem(await t.api('POST', '/api/v1/organisations', { body: { name: 'GLOBEX' } }), 409))
    ).toContain('name')
    const other = await makeOrganisation(t, 'Initech')
    const clash = await t.api('PATCH', `/api/v1/organisations/${other.id}`, { body: { name: 'globex' } })
    expect(fieldsOf(expectProblem(clash, 409))).toContain('name')
    // Renaming to its own name (another case) is no clash
    const same = await t.api('PATCH', `/api/v1/organisations/${org.id}`, { body: { name: 'GloBex' } })
    expect(same.statusCode).toBe(200)
  })

  it('lets only one of two concurrent creates with the same name win', async () => {
    const create = () => t.api('POST', '/api/v1/organisations', { body: { name: 'Race Ltd' } })
    const answers = await Promise.all([create(), create(), create()])
    expect(answers.map(r => r.statusCode).sort()).toEqual([201, 409, 409])
    for (const r of answers.filter(a => a.statusCode === 409)) expectProblem(r, 409, 'CONFLICT')
    expect((await t.api('GET', '/api/v1/organisations?q=Race')).json().items).toHaveLength(1)
  })

  it('answers 404 for an organisation that does not exist', async () => {
    const id = '00000000-0000-7000-8000-000000000000'
    expectProblem(await t.api('GET', `/api/v1/organisations/${id}`), 404, 'NOT_FOUND')
    expectProblem(await t.api('PATCH', `/api/v1/organisations/${id}`, { body: { name: 'Ghost' } }), 404)
  })

  it('filters by q', async () => {
    const org = await makeOrganisation(t, 'Umbrella Corporation')
    const res = await t.api('GET', '/api/v1/organisations?q=umbrella')
    expect(res.json().items.map((o: { id: string }) => o.id)).toEqual([org.id])
  })

  it('walks every organisation with limit=1, each once, in a stable order', async () => {
    for (let i = 0; i < 4; i++) await makeOrganisation(t)
    const all = (await t.api('GET', '/api/v1/organisations?limit=500')).json() as Page
    expect(all.items.length).toBeGreaterThanOrEqual(4)
    const walked = await walk(t, '/api/v1/organisations', 1)
    expect(new Set(walked).size).toBe(walked.length)
    expect(walked).toEqual(all.items.map(o => o.id))
    expect(await walk(t, '/api/v1/organisations', 3)).toEqual(walked)
  })

  it('refuses a cursor that is not ours with 400 naming cursor', async () => {
    const bad = [
      'garbage!',
      'bm90IGpzb24',
      Buffer.from('{"a":1}').toString('base64url'),
      encodeCursor({ sort: '-createdAt', value: null, id: '00000000-0000-7000-8000-000000000000' }),
      'x'.repeat(600)
    ]
    for (const cursor of bad) {
      const res = await t.api('GET', `/api/v1/organisations?cursor=${encodeURIComponent(cursor)}`)
      expect(fieldsOf(expectProblem(res, 400))).toContain('cursor')
    }
  })

  it('a customer reads their own organisation but not others, nor the list', async () => {
    const mine = await makeOrganisation(t)
    const theirs = await makeOrganisation(t)
    const customer = await makeUser(t, ['customer'], { organisationId: mine.id })
    expect((await t.api('GET', `/api/v1/organisations/${mine.id}`, { token: customer.token })).statusCode).toBe(200)
    expectProblem(await t.api('GET', `/api/v1/organisations/${theirs.id}`, { token: customer.token }), 403)
    expectProblem(await t.api('GET', '/api/v1/organisations', { token: customer.token }), 403)
  })
})
