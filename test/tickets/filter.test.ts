import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeIncident, makeOrganisation, makeTeam, makeUser } from '../helpers/factories.js'
import { expectProblem } from '../helpers/problem.js'

type Item = {
  id: string
  number: string
  status: string
  priority: number
  version: number
  customFields: Record<string, unknown>
}

/**
 * One filter language for both doors (RSQL over built-in and custom fields), exact totals, custom-field
 * sorts, and custom fields, categories and templates on ticket writes.
 */
describe('ticket lists: RSQL filter, totals, custom fields', () => {
  let t: TestApp
  let team: { id: string }
  let tech: Awaited<ReturnType<typeof makeUser>>
  const byTitle = new Map<string, Item>()

  const list = async (query: string) => {
    const res = await t.api('GET', `/api/v1/incidents?${query}`)
    expect(res.statusCode, res.body).toBe(200)
    return res.json() as { items: Item[]; nextCursor: string | null; total?: number }
  }
  const titles = async (query: string) =>
    (await list(query)).items.map(i => [...byTitle.entries()].find(([, v]) => v.id === i.id)?.[0]).sort()

  beforeAll(async () => {
    t = await buildTestApp()
    tech = await makeUser(t, ['technician'])
    team = await makeTeam(t, [{ userId: tech.id, level: 1 }])
    for (const body of [
      { key: 'site', label: 'Site', type: 'choice', options: ['Leeds', 'York', 'Hull'] },
      { key: 'seats', label: 'Seats', type: 'number' },
      { key: 'vip', label: 'VIP', type: 'boolean', defaultValue: false },
      { key: 'tags', label: 'Tags', type: 'multichoice', options: ['network', 'power', 'printer'] },
      { key: 'due', label: 'Due', type: 'date' }
    ]) {
      const res = await t.api('POST', '/api/v1/custom-fields', { body: { kind: 'incident', ...body } })
      expect(res.statusCode, res.body).toBe(201)
    }
    const rows: [string, Record<string, unknown>][] = [
      ['a', { impact: 1, urgency: 1, customFields: { site: 'Leeds', seats: 10, tags: ['network'] } }],
      ['b', { impact: 2, urgency: 1, customFields: { site: 'York', seats: 3, tags: ['power', 'network'] } }],
      ['c', { impact: 3, urgency: 3, customFields: { site: 'Leeds', vip: true, due: '2026-12-01' } }],
      ['d', { impact: 2, urgency: 2, teamId: team.id, customFields: { seats: 7 } }],
      ['e', { impact: 1, urgency: 2, customFields: { site: 'Hull', tags: ['printer'] } }]
    ]
    for (const [title, body] of rows) byTitle.set(title, (await makeIncident(t, { title, ...body })) as never)
    await t.api('POST', `/api/v1/incidents/${byTitle.get('b')!.id}/transitions`, { body: { to: 'in_progress' } })
  })
  afterAll(() => t.close())

  it('stores defaults and validates custom fields on create, naming the field', async () => {
    expect(byTitle.get('a')!.customFields).toEqual({ site: 'Leeds', seats: 10, tags: ['network'], vip: false })
    for (const [customFields, field] of [
      [{ site: 'Paris' }, 'customFields.site'],
      [{ seats: 'many' }, 'customFields.seats'],
      [{ nope: 1 }, 'customFields.nope'],
      [{ due: '2026-02-30' }, 'customFields.due'],
      [{ tags: ['network', 'network'] }, 'customFields.tags']
    ] as const) {
      const res = expectProblem(await t.api('POST', '/api/v1/incidents', { body: { title: 'x', customFields } }), 422)
      expect(res.errors!.map(e => e.field)).toEqual([field])
    }
    // Nothing half-written
    expect((await list('includeTotal=true&limit=1')).total).toBe(5)
  })

  it('updates merge custom fields, null clears one, and the change is in the history', async () => {
    const d = byTitle.get('d')!
    const res = await t.api('PATCH', `/api/v1/incidents/${d.id}`, {
      body: { customFields: { site: 'York', seats: null }, version: d.version }
    })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json().customFields).toEqual({ site: 'York', vip: false })
    const history = (await t.api('GET', `/api/v1/incidents/${d.id}/history`)).json().items
    expect(history.at(-1).changes).toEqual(
      expect.arrayContaining([
        { field: 'customFields.site', old: null, new: 'York' },
        { field: 'customFields.seats', old: 7, new: null }
      ])
    )
    byTitle.set('d', res.json())
    const bad = expectProblem(
      await t.api('PATCH', `/api/v1/incidents/${d.id}`, { body: { customFields: { vip: 'yes' }, version: 2 } }),
      422
    )
    expect(bad.errors![0]!.field).toBe('customFields.vip')
  })

  it('filters with RSQL over built-in and custom fields', async () => {
    expect(await titles('filter=priority=le=2')).toEqual(['a', 'b', 'e'])
    expect(await titles(`filter=${encodeURIComponent('status=in=(new,assigned);priority=le=2')}`)).toEqual(['a', 'e'])
    expect(await titles(`filter=${encodeURIComponent('customFields.site==Leeds')}`)).toEqual(['a', 'c'])
    expect(await titles(`filter=${encodeURIComponent('customFields.site==Leeds,customFields.site==Hull')}`)).toEqual([
      'a',
      'c',
      'e'
    ])
    expect(await titles(`filter=${encodeURIComponent('customFields.seats=gt=5')}`)).toEqual(['a'])
    expect(await titles(`filter=${encodeURIComponent('customFields.tags==network')}`)).toEqual(['a', 'b'])
    expect(await titles(`filter=${encodeURIComponent('customFields.vip==true')}`)).toEqual(['c'])
    expect(await titles(`filter=${encodeURIComponent('customFields.due=lt=2027-01-01')}`)).toEqual(['c'])
    expect(await titles(`filter=${encodeURIComponent(`teamId==${team.id}`)}`)).toEqual(['d'])
    expect(await titles(`filter=${encodeURIComponent('teamId=isnull=true;title=like=*a*')}`)).toEqual(['a'])
    // Plain parameters and the filter combine
    expect(await titles(`priority=1,2&filter=${encodeURIComponent('customFields.site!=Leeds')}`)).toEqual(['b', 'e'])
  })

  it('answers 400 naming filter for unknown fields, operators and bad values', async () => {
    for (const filter of [
      'colour==red',
      'priority=lt=high',
      'customFields.nope==1',
      'customFields.site==Paris',
      'assigneeId==not-a-uuid',
      'status=foo=x',
      'priority==1;',
      "title==x');drop table tickets;--",
      'title=="x\');drop table tickets;--"'
    ]) {
      const res = await t.api('GET', `/api/v1/incidents?filter=${encodeURIComponent(filter)}`)
      if (filter.startsWith('title=="')) {
        // A literal, matched as text: no error, nothing found, nothing dropped
        expect(res.statusCode).toBe(200)
        expect(res.json().items).toEqual([])
        continue
      }
      const body = expectProblem(res, 400)
      expect(body.errors![0]!.field).toBe('filter')
    }
    expect((await list('includeTotal=true')).total).toBe(5)
  })

  it('includeTotal adds the exact count of matches across pages', async () => {
    const page = await list(`limit=2&includeTotal=true&filter=${encodeURIComponent('priority=le=3')}`)
    expect(page.items).toHaveLength(2)
    expect(page.total).toBe(4)
    expect(page.nextCursor).not.toBeNull()
    expect((await list('limit=2')).total).toBeUndefined()
  })

  it('sorts by a custom field with keyset pages that neither skip nor repeat', async () => {
    for (const sort of ['customFields.seats', '-customFields.seats', 'customFields.site', '-customFields.site']) {
      const seen: string[] = []
      let cursor: string | null = null
      do {
        const page: { items: Item[]; nextCursor: string | null } = await list(
          `sort=${sort}&limit=2${cursor ? `&cursor=${cursor}` : ''}`
        )
        seen.push(...page.items.map(i => i.id))
        cursor = page.nextCursor
      } while (cursor)
      expect(seen).toHaveLength(5)
      expect(new Set(seen).size).toBe(5)
      const all = (await list(`sort=${sort}&limit=50`)).items.map(i => i.id)
      expect(seen).toEqual(all)
    }
    const bySeats = (await list('sort=-customFields.seats')).items.map(i => i.customFields.seats ?? null)
    expect(bySeats.slice(0, 2)).toEqual([10, 3])
    expectProblem(await t.api('GET', '/api/v1/incidents?sort=customFields.nope'), 400)
    // A cursor made for another sort is refused
    const page = await list('sort=customFields.seats&limit=1')
    expectProblem(await t.api('GET', `/api/v1/incidents?sort=priority&cursor=${page.nextCursor}`), 400)
  })

  it('GraphQL takes the same filter, totals and custom fields', async () => {
    const res = await t.gql(
      `query($f: String) { incidents(filter: $f, includeTotal: true, first: 1, sort: "number") {
        totalCount edges { node { title customFields } } pageInfo { hasNextPage } } }`,
      { f: 'customFields.site==Leeds' }
    )
    expect(res.body.errors).toBeUndefined()
    expect(res.body.data!.incidents.totalCount).toBe(2)
    expect(res.body.data!.incidents.edges[0].node).toEqual({
      title: 'a',
      customFields: { site: 'Leeds', seats: 10, tags: ['network'], vip: false }
    })
    const bad = await t.gql('{ incidents(filter: "colour==red") { edges { cursor } } }')
    expect(bad.body.errors![0].extensions.code).toBe('VALIDATION_FAILED')
    expect(bad.body.errors![0].extensions.errors?.[0]?.field ?? bad.body.errors![0].message).toMatch(/filter/)
    const created = await t.gql('mutation($i: CreateIncidentInput!) { createIncident(input: $i) { customFields } }', {
      i: { title: 'gql', customFields: { site: 'Hull', seats: 2 } }
    })
    expect(created.body.data!.createIncident.customFields).toEqual({ site: 'Hull', seats: 2, vip: false })
    const refused = await t.gql('mutation($i: CreateIncidentInput!) { createIncident(input: $i) { id } }', {
      i: { title: 'gql', customFields: { site: 'Mars' } }
    })
    expect(refused.body.errors![0].extensions.code).toBe('VALIDATION_FAILED')
  })

  it('the cross-kind list filters by kind and finds by number', async () => {
    const a = byTitle.get('a')!
    const res = await t.api('GET', `/api/v1/tickets?filter=${encodeURIComponent('kind==incident;priority==1')}`)
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json().items.map((i: Item) => i.id)).toContain(a.id)
    const byNumber = await t.api('GET', `/api/v1/tickets?q=${a.number}`)
    expect(byNumber.json().items.map((i: Item) => i.id)).toEqual([a.id])
    expectProblem(await t.api('GET', '/api/v1/tickets?kind=nonsense'), 400)
  })

  it('categories and templates prefill a create; a category of another kind is refused', async () => {
    const root = (await t.api('POST', '/api/v1/categories', { body: { kind: 'incident', name: 'Hardware' } })).json()
    const leaf = await t.api('POST', '/api/v1/categories', {
      body: { kind: 'incident', name: 'Laptop', parentId: root.id }
    })
    expect(leaf.statusCode, leaf.body).toBe(201)
    const other = (await t.api('POST', '/api/v1/categories', { body: { kind: 'problem', name: 'Hardware' } })).json()
    const template = await t.api('POST', '/api/v1/templates', {
      body: {
        kind: 'incident',
        name: 'Broken laptop',
        values: {
          title: 'Laptop broken',
          impact: 3,
          urgency: 1,
          categoryId: leaf.json().id,
          customFields: { site: 'York' }
        }
      }
    })
    expect(template.statusCode, template.body).toBe(201)
    const made = await t.api('POST', '/api/v1/incidents', {
      body: { templateId: template.json().id, title: 'Screen cracked', customFields: { seats: 1 } }
    })
    expect(made.statusCode, made.body).toBe(201)
    expect(made.json()).toMatchObject({
      title: 'Screen cracked',
      impact: 3,
      urgency: 1,
      priority: 3,
      categoryId: leaf.json().id,
      category: 'Hardware / Laptop',
      customFields: { site: 'York', seats: 1, vip: false }
    })
    const wrong = expectProblem(
      await t.api('POST', '/api/v1/incidents', { body: { title: 'x', categoryId: other.id } }),
      422
    )
    expect(wrong.errors![0]!.field).toBe('categoryId')
    const foreign = expectProblem(
      await t.api('POST', '/api/v1/problems', { body: { title: 'x', templateId: template.json().id } }),
      422
    )
    expect(foreign.errors![0]!.field).toBe('templateId')
    expect((await list(`categoryId=${leaf.json().id}`)).items.map(i => i.id)).toEqual([made.json().id])
  })

  it('a customer filters only within what they may see', async () => {
    const org = await makeOrganisation(t)
    const customer = await makeUser(t, ['customer'], { organisationId: org.id })
    await makeIncident(t, { title: 'mine', impact: 1, urgency: 1 }, customer.token)
    const res = await t.api('GET', `/api/v1/incidents?includeTotal=true&filter=${encodeURIComponent('priority==1')}`, {
      token: customer.token
    })
    expect(res.json().total).toBe(1)
    expect(res.json().items.map((i: { title: string }) => i.title)).toEqual(['mine'])
  })
})
