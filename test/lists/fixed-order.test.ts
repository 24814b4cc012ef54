import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeCi } from '../helpers/changes.js'
import { makeApiToken, makeOrganisation, makeTeam, makeUser, suffix } from '../helpers/factories.js'
import { expectOrdered, walkPages } from '../helpers/lists.js'

type Row = { id: string; name?: string; path?: string; receivedAt?: string }

/**
 * Lists without a `sort` parameter keep the one order they document, across cursor pages: oldest
 * first (id) for people, organisations, teams, tokens and CIs; newest first for events and alerts; by
 * name or path for templates and categories.
 */
describe('lists with a fixed order', () => {
  let t: TestApp

  beforeAll(async () => {
    t = await buildTestApp()
    for (let i = 0; i < 5; i++) {
      await makeOrganisation(t)
      await makeUser(t, ['technician'])
      await makeTeam(t)
      await makeApiToken(t, { scopes: ['tickets:read'] })
      await makeCi(t)
      const event = await t.api('POST', '/api/v1/events', {
        body: { source: 'order-test', fingerprint: `fp-${i}`, severity: 'warning', summary: `Event ${i}` }
      })
      expect(event.statusCode, event.body).toBe(202)
      for (const path of ['templates', 'categories']) {
        const res = await t.api('POST', `/api/v1/${path}`, { body: { kind: 'incident', name: `n${suffix()}` } })
        expect(res.statusCode, res.body).toBe(201)
      }
    }
  }, 240_000)
  afterAll(async () => t?.close())

  const cases: [string, (r: Row) => string, boolean][] = [
    ['/api/v1/users', r => r.id, false],
    ['/api/v1/organisations', r => r.id, false],
    ['/api/v1/teams', r => r.id, false],
    ['/api/v1/api-tokens', r => r.id, false],
    ['/api/v1/cis', r => r.id, false],
    ['/api/v1/events', r => r.receivedAt ?? '', true],
    ['/api/v1/alerts', r => r.id, true],
    ['/api/v1/templates', r => r.name ?? '', false],
    ['/api/v1/categories', r => r.path ?? '', false]
  ]
  for (const [url, key, descending] of cases) {
    it(`${url} keeps its order across pages`, async () => {
      const paged = await walkPages<Row>(t, url, { limit: 2 })
      expect(paged.length).toBeGreaterThanOrEqual(5)
      expect(paged.map(r => r.id)).toEqual((await walkPages<Row>(t, url, { limit: 500 })).map(r => r.id))
      expectOrdered(paged, key, { descending, tiebreak: r => r.id, label: url })
    })
  }
})
