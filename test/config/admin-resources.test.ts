import { and, eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { auditLog } from '../../src/db/schema/index.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { expectProblem, fieldsOf } from '../helpers/problem.js'

/** Admin resources on the one definition helper (modules/admin): the same rules whichever resource. */
const RESOURCES = [
  {
    path: '/api/v1/event-routing-rules',
    entity: 'event_routing_rule',
    body: (n: string) => ({ name: n, match: { source: n } }),
    change: { enabled: false },
    same: (n: string) => ({ name: n, enabled: true })
  },
  {
    path: '/api/v1/problem-rules',
    entity: 'problem_rule',
    body: (n: string) => ({ name: n, groupBy: 'fingerprint', threshold: 3, windowMinutes: 60 }),
    change: { threshold: 5 },
    same: (n: string) => ({ name: n, threshold: 3 })
  },
  {
    path: '/api/v1/change-freezes',
    entity: 'change_freeze',
    body: (n: string) => ({ name: n, startsAt: '2031-03-01T00:00:00.000Z', endsAt: '2031-03-02T00:00:00.000Z' }),
    change: { reason: 'audit week' },
    same: (n: string) => ({ name: n, reason: '' })
  }
]

describe.each(RESOURCES)('admin resource $path', r => {
  let t: TestApp
  beforeAll(async () => {
    t = await buildTestApp()
  })
  afterAll(async () => t?.close())

  const auditOf = (id: string) =>
    t.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.entityType, r.entity), eq(auditLog.entityId, id)))

  it('a PATCH needs the version: none is 428, a stale one 412 with the current version', async () => {
    const created = await t.api('POST', r.path, { body: r.body(`v-${Math.random()}`) })
    expect(created.statusCode, created.body).toBe(201)
    const item = created.json()
    expect(item.version).toBe(1)
    // the ETag is the version and a digest of the representation (it changes whenever the body does)
    expect(created.headers.etag).toMatch(/^"1-[A-Za-z0-9_-]+"$/)
    expect(created.headers.location).toBe(`${r.path}/${item.id}`)

    expectProblem(await t.api('PATCH', `${r.path}/${item.id}`, { body: r.change }), 428)
    const stale = await t.api('PATCH', `${r.path}/${item.id}`, { body: { ...r.change, version: 7 } })
    expect(expectProblem(stale, 412).currentVersion).toBe(1)
    const viaHeader = await t.api('PATCH', `${r.path}/${item.id}`, { body: r.change, headers: { 'if-match': '"1"' } })
    expect(viaHeader.statusCode, viaHeader.body).toBe(200)
    expect(viaHeader.json()).toMatchObject({ ...r.change, version: 2 })
    expect(viaHeader.headers.etag).toMatch(/^"2-[A-Za-z0-9_-]+"$/)
    expect((await t.api('GET', `${r.path}/${item.id}`)).headers.etag).toMatch(/^"2-[A-Za-z0-9_-]+"$/)
  })

  it('a no-op PATCH changes nothing: same version, same updatedAt, no audit row', async () => {
    const name = `noop-${Math.random()}`
    const item = (await t.api('POST', r.path, { body: r.body(name) })).json()
    const noop = await t.api('PATCH', `${r.path}/${item.id}`, { body: { ...r.same(name), version: 1 } })
    expect(noop.statusCode, noop.body).toBe(200)
    expect(noop.json()).toEqual(item)
    expect((await auditOf(item.id)).map(a => a.action)).toEqual(['created'])

    const changed = await t.api('PATCH', `${r.path}/${item.id}`, { body: { ...r.change, version: 1 } })
    expect(changed.json().version).toBe(2)
    expect(new Date(changed.json().updatedAt).getTime()).toBeGreaterThanOrEqual(new Date(item.updatedAt).getTime())
    const actions = (await auditOf(item.id)).map(a => a.action).sort()
    expect(actions).toEqual(['created', 'updated'])
  })

  it('DELETE takes an If-Match too (412 when stale), audits, then 404', async () => {
    const item = (await t.api('POST', r.path, { body: r.body(`del-${Math.random()}`) })).json()
    expectProblem(await t.api('DELETE', `${r.path}/${item.id}`, { headers: { 'if-match': '"9"' } }), 412)
    expect((await t.api('DELETE', `${r.path}/${item.id}`, { headers: { 'if-match': '"1"' } })).statusCode).toBe(204)
    expectProblem(await t.api('GET', `${r.path}/${item.id}`), 404)
    expect((await auditOf(item.id)).map(a => a.action).sort()).toEqual(['created', 'deleted'])
  })

  it('lists in keyset pages, in order, without repeats', async () => {
    for (let i = 0; i < 3; i++) await t.api('POST', r.path, { body: r.body(`page-${i}-${Math.random()}`) })
    const seen: string[] = []
    let cursor: string | null = null
    do {
      const qs: string = cursor ? `?limit=2&cursor=${cursor}` : '?limit=2'
      const page = (await t.api('GET', `${r.path}${qs}`)).json() as {
        items: { id: string }[]
        nextCursor: string | null
      }
      seen.push(...page.items.map(i => i.id))
      cursor = page.nextCursor
    } while (cursor)
    expect(new Set(seen).size).toBe(seen.length)
    const all = (await t.api('GET', `${r.path}?limit=500`)).json().items.map((i: { id: string }) => i.id)
    expect(seen).toEqual(all)
    expect(fieldsOf(expectProblem(await t.api('GET', `${r.path}?cursor=garbage`), 400))).toContain('cursor')
  })
})

describe('GraphQL updates carry the version as REST does', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await buildTestApp()
  })
  afterAll(async () => t?.close())

  it('updateProblemRule: no version is PRECONDITION_REQUIRED, a stale one PRECONDITION_FAILED', async () => {
    const rule = (
      await t.api('POST', '/api/v1/problem-rules', {
        body: { name: 'gql-version', groupBy: 'ci', threshold: 3, windowMinutes: 60 }
      })
    ).json()
    const UPDATE = `mutation($id: ID!, $v: Int) { updateProblemRule(id: $id, input: { threshold: 4 }, version: $v) {
      threshold version updatedAt } }`
    const none = await t.gql(UPDATE, { id: rule.id })
    expect(none.body.errors![0]!.extensions!.code).toBe('PRECONDITION_REQUIRED')
    const stale = await t.gql(UPDATE, { id: rule.id, v: 5 })
    expect(stale.body.errors![0]!.extensions!.code).toBe('PRECONDITION_FAILED')
    const ok = await t.gql(UPDATE, { id: rule.id, v: 1 })
    expect(ok.body.errors).toBeUndefined()
    expect(ok.body.data!.updateProblemRule).toMatchObject({ threshold: 4, version: 2 })
  })
})
