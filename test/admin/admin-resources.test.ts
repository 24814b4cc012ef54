import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { auditLog } from '../../src/db/schema/index.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { auditOf } from '../helpers/audit.js'
import { suffix } from '../helpers/factories.js'
import { codes } from '../helpers/graphql.js'
import { versionOfEtag } from '../helpers/http.js'
import { expectOrdered, walkPages } from '../helpers/lists.js'
import { expectProblem, fieldsOf } from '../helpers/problem.js'

type Item = Record<string, unknown> & { id: string; version: number; updatedAt: string }

interface Resource {
  path: string
  entityType: string
  /** A valid create body; the same body twice breaks the unique rule on `uniqueField`. */
  body: () => Record<string, unknown>
  uniqueField: string
  /** A patch that changes something, and one that repeats what the row holds. */
  change: Record<string, unknown>
  same: (item: Item) => Record<string, unknown>
}

const RESOURCES: Resource[] = [
  {
    path: '/api/v1/custom-fields',
    entityType: 'custom_field',
    body: () => ({ kind: 'incident', key: `k${suffix().replace(/\W/g, '')}`, label: 'Label', type: 'text' }),
    uniqueField: 'key',
    change: { label: 'Other label' },
    same: item => ({ label: item.label, position: item.position })
  },
  {
    path: '/api/v1/catalog/offerings',
    entityType: 'offering',
    body: () => ({ name: `Offering ${suffix()}`, tasks: ['Order', 'Deliver'] }),
    uniqueField: 'name',
    change: { description: 'changed' },
    same: item => ({ name: item.name, tasks: item.tasks })
  },
  {
    path: '/api/v1/templates',
    entityType: 'template',
    body: () => ({ kind: 'incident', name: `Template ${suffix()}`, values: { urgency: 2, impact: 3 } }),
    uniqueField: 'name',
    change: { description: 'changed' },
    same: item => ({ name: item.name, values: { impact: 3, urgency: 2 } })
  },
  {
    path: '/api/v1/problem-rules',
    entityType: 'problem_rule',
    body: () => ({ name: `Rule ${suffix()}`, groupBy: 'ci', threshold: 3, windowMinutes: 60 }),
    uniqueField: 'name',
    change: { threshold: 4 },
    same: item => ({ name: item.name, threshold: item.threshold })
  },
  {
    path: '/api/v1/event-routing-rules',
    entityType: 'event_routing_rule',
    body: () => ({ name: `Route ${suffix()}`, match: { source: 'zabbix' } }),
    uniqueField: 'name',
    change: { enabled: false },
    same: item => ({ name: item.name, match: item.match })
  },
  {
    path: '/api/v1/calendars',
    entityType: 'calendar',
    body: () => ({ name: `Calendar ${suffix()}`, timeZone: 'Europe/Paris', hours: { mon: [['08:00', '12:00']] } }),
    uniqueField: 'name',
    change: { timeZone: 'UTC' },
    // the stored form lists every weekday: sending the one day again is the same calendar
    same: item => ({ name: item.name, hours: { mon: [['08:00', '12:00']] } })
  }
]

/**
 * What every admin resource shares through the one helper: 409 naming the field on a unique clash, a
 * PATCH without a version is 428 and a stale one 412, a PATCH that changes nothing keeps version and
 * updatedAt and writes no audit row, and every write is audited.
 */
describe('admin resources: the shared behaviour', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await buildTestApp()
  })
  afterAll(async () => t?.close())

  for (const r of RESOURCES) {
    it(`${r.path}: 409 naming ${r.uniqueField}, 428/412, a no-op PATCH changes nothing, audited`, async () => {
      const body = r.body()
      const created = await t.api('POST', r.path, { body })
      expect(created.statusCode, created.body).toBe(201)
      const item = created.json() as Item
      expect(created.headers.location).toBe(`${r.path}/${item.id}`)
      expect(versionOfEtag(created.headers.etag)).toBe(item.version)

      expect(fieldsOf(expectProblem(await t.api('POST', r.path, { body }), 409))).toEqual([r.uniqueField])

      const url = `${r.path}/${item.id}`
      expectProblem(await t.api('PATCH', url, { body: r.change }), 428)
      const stale = await t.api('PATCH', url, { body: r.change, headers: { 'if-match': `"${item.version + 5}"` } })
      expect(expectProblem(stale, 412).currentVersion).toBe(item.version)

      const noop = await t.api('PATCH', url, { body: r.same(item), headers: { 'if-match': `"${item.version}"` } })
      expect(noop.statusCode, noop.body).toBe(200)
      expect(noop.json()).toMatchObject({ version: item.version, updatedAt: item.updatedAt })
      expect((await auditOf(t, r.entityType, item.id)).map(a => a.action)).toEqual(['created'])

      const changed = await t.api('PATCH', url, { body: { ...r.change, version: item.version } })
      expect(changed.statusCode, changed.body).toBe(200)
      expect(changed.json().version).toBe(item.version + 1)
      expect(changed.json().updatedAt).not.toBe(item.updatedAt)
      const audit = await auditOf(t, r.entityType, item.id)
      expect(audit.map(a => a.action)).toEqual(['created', 'updated'])
      expect((audit[1]!.changes as { field: string }[]).map(c => c.field)).toEqual(Object.keys(r.change))
    })
  }

  it('event settings: a stale version is 412, a write that changes nothing keeps the version and writes no audit', async () => {
    const read = (await t.api('GET', '/api/v1/event-settings')).json()
    const first = await t.api('PUT', '/api/v1/event-settings', { body: { retentionDays: 45, version: read.version } })
    expect(first.statusCode, first.body).toBe(200)
    const v = first.json().version
    expect(v).toBe(read.version + 1)
    const stale = await t.api('PUT', '/api/v1/event-settings', { body: { retentionDays: 40, version: read.version } })
    expect(expectProblem(stale, 412).currentVersion).toBe(v)
    const same = await t.api('PUT', '/api/v1/event-settings', { body: { retentionDays: 45, version: v } })
    expect(same.json().version).toBe(v)
    const rows = await t.db.select().from(auditLog).where(eq(auditLog.entityType, 'event_settings'))
    expect(rows.length).toBe(1)
  })

  it('change approval policies: setting the same policy again changes nothing (no audit row, same updatedAt)', async () => {
    const admin = (await t.api('GET', '/api/v1/users?limit=500'))
      .json()
      .items.find((u: { roles: string[] }) => u.roles.includes('admin'))
    const body = { rule: 'any', approverIds: [admin.id] }
    const read = (await t.api('GET', '/api/v1/change-approval-policies/emergency')).json()
    const first = await t.api('PUT', '/api/v1/change-approval-policies/emergency', {
      body: { ...body, version: read.version }
    })
    expect(first.statusCode, first.body).toBe(200)
    const again = await t.api('PUT', '/api/v1/change-approval-policies/emergency', {
      body: { ...body, version: first.json().version }
    })
    expect(again.statusCode, again.body).toBe(200)
    expect(again.json().updatedAt).toBe(first.json().updatedAt)
    expect(again.json().version).toBe(first.json().version)
    const rows = await t.db.select().from(auditLog).where(eq(auditLog.entityType, 'change_approval_policy'))
    expect(rows.map(r => r.action)).toEqual(['created'])
  })

  // Keyed settings share the admin doors: the version read is required on REST and GraphQL alike
  for (const door of [
    {
      name: 'event settings',
      url: '/api/v1/event-settings',
      body: { retentionDays: 33 },
      gql: (v: string) => `mutation { setEventSettings(input: { retentionDays: 34 }${v}) { version retentionDays } }`,
      field: 'setEventSettings'
    },
    {
      name: 'change approval policies',
      url: '/api/v1/change-approval-policies/standard',
      body: { rule: 'none' },
      gql: (v: string) =>
        `mutation { setChangeApprovalPolicy(changeType: standard, input: { rule: none }${v}) { version rule } }`,
      field: 'setChangeApprovalPolicy'
    }
  ]) {
    it(`${door.name}: PUT without a version is 428, a stale one 412, the one read (or its ETag) is taken`, async () => {
      const read = await t.api('GET', door.url)
      expect(read.statusCode, read.body).toBe(200)
      const { version } = read.json()
      expect(versionOfEtag(read.headers.etag)).toBe(version)
      expect(fieldsOf(expectProblem(await t.api('PUT', door.url, { body: door.body }), 428))).toEqual(['If-Match'])
      const stale = await t.api('PUT', door.url, { body: { ...door.body, version: version + 7 } })
      expect(expectProblem(stale, 412).currentVersion).toBe(version)
      const staleTag = await t.api('PUT', door.url, { body: door.body, headers: { 'if-match': `"${version + 7}"` } })
      expect(expectProblem(staleTag, 412).currentVersion).toBe(version)
      expect((await t.api('GET', door.url)).json().version).toBe(version)

      const ok = await t.api('PUT', door.url, { body: door.body, headers: { 'if-match': read.headers.etag as string } })
      expect(ok.statusCode, ok.body).toBe(200)
      const now = ok.json().version
      expect(now).toBeGreaterThanOrEqual(version)
      expect(versionOfEtag(ok.headers.etag)).toBe(now)

      const none = await t.gql(door.gql(''))
      expect(codes(none.body)).toEqual(['PRECONDITION_REQUIRED'])
      const old = await t.gql(door.gql(`, version: ${now + 7}`))
      expect(codes(old.body)).toEqual(['PRECONDITION_FAILED'])
      const taken = await t.gql(door.gql(`, version: ${now}`))
      expect(taken.body.errors).toBeUndefined()
      expect(taken.body.data![door.field].version).toBeGreaterThanOrEqual(now)
    })
  }
})

type Row = Record<string, unknown> & { id: string }

/** Every admin list keeps its one documented order across cursor pages (none of them takes `sort`). */
describe('admin lists keep their order across pages', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await buildTestApp()
    const day = 86_400_000
    // Sort keys deliberately out of creation order, with ties that the id must break
    for (const [i, n] of [3, 1, 4, 1, 5].entries()) {
      const posts: [string, Record<string, unknown>][] = [
        [
          '/api/v1/problem-rules',
          { name: `Rule ${n}${'x'.repeat(i % 2)} ${suffix()}`, groupBy: 'ci', threshold: 2, windowMinutes: 5 }
        ],
        ['/api/v1/event-routing-rules', { name: `Route ${suffix()}`, position: n * 10, match: { source: `s${i}` } }],
        [
          '/api/v1/change-freezes',
          {
            name: `Freeze ${i}`,
            startsAt: new Date(Date.UTC(2031, 0, 1) + n * day).toISOString(),
            endsAt: new Date(Date.UTC(2031, 0, 1) + (n + 1) * day).toISOString()
          }
        ],
        [
          '/api/v1/custom-fields',
          { kind: i % 2 ? 'change' : 'incident', key: `f${i}`, label: 'F', type: 'text', position: n }
        ],
        ['/api/v1/catalog/offerings', { name: `Offering ${n} ${suffix()}` }],
        ['/api/v1/templates', { kind: 'incident', name: `Template ${n} ${suffix()}` }],
        ['/api/v1/calendars', { name: `Calendar ${n} ${suffix()}`, timeZone: 'UTC', hours: {} }]
      ]
      for (const [url, body] of posts) {
        const res = await t.api('POST', url, { body })
        expect(res.statusCode, `${url}: ${res.body}`).toBe(201)
      }
    }
  }, 120_000)
  afterAll(async () => t?.close())

  const text = (f: string) => (r: Row) => String(r[f])
  const cases: [string, (r: Row) => string | number][] = [
    ['/api/v1/problem-rules', text('name')],
    ['/api/v1/event-routing-rules', r => Number(r.position)],
    ['/api/v1/change-freezes?from=2030-01-01T00:00:00Z', text('startsAt')],
    ['/api/v1/catalog/offerings', text('name')],
    ['/api/v1/templates', text('name')],
    ['/api/v1/calendars', text('name')]
  ]
  for (const [url, key] of cases) {
    it(`${url} pages in one order`, async () => {
      const paged = await walkPages<Row>(t, url, { limit: 2 })
      expect(paged.length).toBeGreaterThanOrEqual(5)
      expect(paged.map(r => r.id)).toEqual((await walkPages<Row>(t, url, { limit: 500 })).map(r => r.id))
      expectOrdered(paged, key, { tiebreak: r => r.id, label: url })
    })
  }

  it('/api/v1/custom-fields pages by kind, position and key', async () => {
    const paged = await walkPages<Row>(t, '/api/v1/custom-fields', { limit: 2 })
    expect(paged.length).toBe(5)
    expect(paged.map(r => r.id)).toEqual(
      (await walkPages<Row>(t, '/api/v1/custom-fields', { limit: 500 })).map(r => r.id)
    )
    const pad = (n: unknown) => String(n).padStart(8, '0')
    expectOrdered(paged, r => `${r.kind}|${pad(r.position)}|${r.key}`, { label: 'custom-fields' })
  })

  it('/api/v1/change-approval-policies answers every change type in their fixed order', async () => {
    const res = await t.api('GET', '/api/v1/change-approval-policies')
    expect(res.json().items.map((p: { changeType: string }) => p.changeType)).toEqual([
      'standard',
      'normal',
      'emergency'
    ])
  })
})
