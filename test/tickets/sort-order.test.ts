import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeChange } from '../helpers/changes.js'
import { makeIncident } from '../helpers/factories.js'
import { expectOrdered, walkPages } from '../helpers/lists.js'
import { makeRelease } from '../helpers/releases.js'
import { makeOffering, makeRequest } from '../helpers/requests.js'

type Item = {
  id: string
  number: string
  priority: number
  createdAt: string
  updatedAt: string
  customFields?: Record<string, unknown>
}

const numberOf = (i: Item) => Number(i.number.replace(/^[A-Z]+-/, ''))
/** The value each sort orders by, as the list answers it. */
const SORT_KEYS: Record<string, (i: Item) => string | number> = {
  createdAt: i => i.createdAt,
  updatedAt: i => i.updatedAt,
  priority: i => i.priority,
  number: numberOf
}
const SORTS = Object.keys(SORT_KEYS).flatMap(s => [s, `-${s}`])

/**
 * Every `sort` a ticket list takes orders its items (the id breaks ties, in the same direction), both
 * ways, and walking the pages with `cursor` gives the same order as one page: on every kind's list, on
 * /tickets across kinds, by custom fields, and over GraphQL.
 */
describe('ticket list sorts', () => {
  let t: TestApp

  beforeAll(async () => {
    t = await buildTestApp()
    for (const body of [
      { key: 'seats', label: 'Seats', type: 'number' },
      { key: 'site', label: 'Site', type: 'choice', options: ['Hull', 'Leeds', 'York'] }
    ]) {
      const res = await t.api('POST', '/api/v1/custom-fields', { body: { kind: 'incident', ...body } })
      expect(res.statusCode, res.body).toBe(201)
    }
    // priorities and custom values with ties, some values missing
    const incidents: Record<string, unknown>[] = [
      { impact: 3, urgency: 3, customFields: { seats: 5, site: 'York' } },
      { impact: 1, urgency: 1, customFields: { seats: 2, site: 'Hull' } },
      { impact: 2, urgency: 2, customFields: { seats: 5 } },
      { impact: 1, urgency: 1, customFields: { site: 'Leeds' } },
      { impact: 2, urgency: 3, customFields: { seats: 9, site: 'Hull' } },
      { impact: 3, urgency: 3, customFields: { seats: 2, site: 'York' } },
      { impact: 2, urgency: 2 }
    ]
    const made = []
    for (const body of incidents) made.push(await makeIncident(t, body))
    // updatedAt in another order than createdAt
    for (const i of [made[3], made[0], made[5]]) {
      const res = await t.api('PATCH', `/api/v1/incidents/${i!.id}`, {
        body: { title: 'Touched' },
        headers: { 'if-match': `"${i!.version}"` }
      })
      expect(res.statusCode, res.body).toBe(200)
    }
    const offering = await makeOffering(t)
    const managerId = (await t.api('GET', '/api/v1/auth/me')).json().user.id as string
    for (const impact of [2, 1, 3, 2]) {
      await makeRequest(t, { offeringId: offering.id, impact, urgency: 2 })
      expect(
        (await t.api('POST', '/api/v1/problems', { body: { title: `Problem ${impact}`, impact, urgency: 1 } }))
          .statusCode
      ).toBe(201)
      await makeChange(t, { impact, urgency: 3 })
      await makeRelease(t, { managerId, impact, urgency: 2 })
    }
  }, 240_000)
  afterAll(async () => t?.close())

  for (const collection of ['incidents', 'requests', 'problems', 'changes', 'releases', 'tickets']) {
    it(`/${collection}: every sort, both ways, the same across pages`, async () => {
      for (const sort of SORTS) {
        const descending = sort.startsWith('-')
        const key = SORT_KEYS[sort.replace(/^-/, '')]!
        const url = `/api/v1/${collection}?sort=${sort}`
        const paged = await walkPages<Item>(t, url, { limit: 2 })
        const whole = await walkPages<Item>(t, url, { limit: 500 })
        expect(paged.length).toBeGreaterThanOrEqual(4)
        expect(
          paged.map(i => i.id),
          `${url} pages`
        ).toEqual(whole.map(i => i.id))
        expectOrdered(paged, key, { descending, tiebreak: i => i.id, label: url })
      }
    })
  }

  it('sorts by custom fields both ways across pages (missing values first ascending)', async () => {
    const cases: [string, (i: Item) => string | number][] = [
      ['customFields.seats', i => (typeof i.customFields?.seats === 'number' ? i.customFields.seats : -Infinity)],
      ['customFields.site', i => String(i.customFields?.site ?? '')]
    ]
    for (const [field, key] of cases) {
      for (const sort of [field, `-${field}`]) {
        const url = `/api/v1/incidents?sort=${sort}`
        const paged = await walkPages<Item>(t, url, { limit: 2 })
        expect(paged).toHaveLength(7)
        expect(paged.map(i => i.id)).toEqual((await walkPages<Item>(t, url, { limit: 500 })).map(i => i.id))
        expectOrdered(paged, key, { descending: sort.startsWith('-'), tiebreak: i => i.id, label: url })
      }
    }
  })

  it('GraphQL sorts the same way and keeps the order across `after` pages', async () => {
    for (const sort of SORTS) {
      const ids: string[] = []
      let after: string | null = null
      for (let pages = 0; pages < 20; pages++) {
        const res = await t.gql(
          `query($sort: String, $after: String) { incidents(sort: $sort, first: 2, after: $after) {
            edges { node { id } } pageInfo { hasNextPage endCursor } } }`,
          { sort, after }
        )
        expect(res.body.errors).toBeUndefined()
        const conn = res.body.data!.incidents
        ids.push(...conn.edges.map((e: { node: { id: string } }) => e.node.id))
        if (!conn.pageInfo.hasNextPage) break
        after = conn.pageInfo.endCursor
      }
      const rest = await walkPages<Item>(t, `/api/v1/incidents?sort=${sort}`, { limit: 500 })
      expect(ids, sort).toEqual(rest.map(i => i.id))
    }
  })
})
