import { readFileSync } from 'node:fs'
import { getIntrospectionQuery } from 'graphql'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tickets } from '../../src/db/schema/index.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeIncident } from '../helpers/factories.js'
import { countRows, executionCounter } from '../helpers/graphql.js'

/**
 * Which operation runs (issue 10 #1): operationName always chooses, whatever mercurius's JIT cache
 * compiled first for the same text, and GET never runs a mutation. Cost from variables (#5), the
 * standard introspection query (#7), every alias counted and the README's example (#15).
 */
const DOC = `query Q { me { via } }
mutation M { createIncident(input: { title: "over the wire" }) { id title } }`

describe('GraphQL operations', () => {
  let t: TestApp
  let runs: { count: number }

  beforeAll(async () => {
    t = await buildTestApp()
    runs = executionCounter(t)
  })
  afterAll(async () => t?.close())

  const post = (query: string, operationName?: string, variables?: Record<string, unknown>) =>
    t.app.inject({
      method: 'POST',
      url: '/graphql',
      headers: { authorization: `Bearer ${t.adminToken}` },
      payload: { query, ...(operationName ? { operationName } : {}), ...(variables ? { variables } : {}) }
    })
  const get = (query: string, operationName?: string) =>
    t.app.inject({
      method: 'GET',
      url: `/graphql?query=${encodeURIComponent(query)}${operationName ? `&operationName=${operationName}` : ''}`,
      headers: { authorization: `Bearer ${t.adminToken}` }
    })

  describe('operationName chooses the operation, whichever was compiled first', () => {
    for (const order of ['query first', 'mutation first'] as const) {
      it(`${order}: each name runs its own operation, over and over (past the JIT threshold)`, async () => {
        // A distinct text per order, so each test starts with an empty cache for it
        const doc = `${DOC} # ${order}`
        const names = order === 'query first' ? ['Q', 'M'] : ['M', 'Q']
        for (let round = 0; round < 4; round++) {
          for (const name of names) {
            const before = await countRows(t, tickets)
            const res = await post(doc, name)
            expect(res.statusCode).toBe(200)
            const body = res.json()
            expect(body.errors).toBeUndefined()
            if (name === 'Q') {
              expect(body.data).toEqual({ me: { via: 'session' } })
              expect(await countRows(t, tickets)).toBe(before)
            } else {
              expect(body.data.createIncident.title).toBe('over the wire')
              expect(await countRows(t, tickets)).toBe(before + 1)
            }
          }
        }
      })

      it(`${order}: GET runs the query by name and refuses the mutation with 405, writing nothing`, async () => {
        const doc = `${DOC} # get ${order}`
        const steps: ('Q' | 'M')[] = order === 'query first' ? ['Q', 'M', 'Q', 'M', 'Q'] : ['M', 'Q', 'M', 'Q', 'Q']
        // POST the mutation too, so a compiled plan of it exists for this very text
        expect((await post(doc, 'M')).json().errors).toBeUndefined()
        for (const name of steps) {
          const before = [await countRows(t, tickets), runs.count]
          const res = await get(doc, name)
          if (name === 'Q') {
            expect(res.statusCode).toBe(200)
            expect(res.json()).toEqual({ data: { me: { via: 'session' } } })
          } else {
            expect(res.statusCode).toBe(405)
            expect(res.headers.allow).toBe('POST')
            expect(res.json().errors[0].extensions).toMatchObject({ code: 'METHOD_NOT_ALLOWED', status: 405 })
            expect(runs.count).toBe(before[1])
          }
          expect(await countRows(t, tickets)).toBe(before[0])
        }
      })
    }

    it('several operations and no operationName, or a name the document lacks: 400 over GET and POST', async () => {
      const before = [await countRows(t, tickets), runs.count]
      for (const res of [await get(DOC), await get(DOC, 'Nope'), await post(DOC), await post(DOC, 'Nope')]) {
        expect(res.statusCode).toBe(400)
        const body = res.json()
        expect(body.data ?? null).toBeNull()
        expect(body.errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED')
      }
      // A one-operation document with a wrong name is refused too, compiled or not
      const single = '{ me { via } }'
      for (let i = 0; i < 3; i++) expect((await post(single)).json()).toEqual({ data: { me: { via: 'session' } } })
      expect((await post(single, 'Other')).json().errors[0].message).toMatch(/Unknown operation named "Other"/)
      expect(await countRows(t, tickets)).toBe(before[0])
    })
  })

  describe('cost from resolved arguments', () => {
    const ALIASED = (n: number) =>
      `query($n: Int) { ${Array.from({ length: n }, (_, i) => `a${i}: incidents(first: $n) { edges { node { id } } }`).join(' ')} }`

    it('counts first: $n from variables: 15 aliases × 500 are refused, in a batch of 10 too', async () => {
      const before = runs.count
      const res = await post(ALIASED(15), undefined, { n: 500 })
      expect(res.statusCode).toBe(400)
      expect(res.json().errors[0]).toMatchObject({
        message: 'operation cost (15015) exceeds the cost limit of 10000',
        extensions: { code: 'GRAPHQL_VALIDATION_FAILED', status: 400 }
      })
      const batch = await t.app.inject({
        method: 'POST',
        url: '/graphql',
        headers: { authorization: `Bearer ${t.adminToken}` },
        payload: Array.from({ length: 10 }, () => ({ query: ALIASED(15), variables: { n: 500 } }))
      })
      const answers = batch.json() as { data?: unknown; errors?: { message: string }[] }[]
      expect(answers).toHaveLength(10)
      for (const a of answers) {
        expect(a.data ?? null).toBeNull()
        expect(a.errors?.[0]?.message).toMatch(/cost \(15015\) exceeds/)
      }
      expect(runs.count).toBe(before)
      // The same text with small pages runs: the cost is the request's, not the text's
      const small = await post(ALIASED(15), undefined, { n: 5 })
      expect(small.json().errors).toBeUndefined()
    })

    it("lets an agent console's list through: 100 incidents with requester, assignee and 5 notes", async () => {
      await makeIncident(t)
      const query = `query Console($n: Int, $notes: Int) {
        incidents(first: $n) {
          edges { node { id number title status priority updatedAt
            requester { id displayName } assignee { id displayName }
            notes(first: $notes) { edges { node { id body internal createdAt author { displayName } } } } } }
          pageInfo { hasNextPage endCursor } } }`
      const res = await post(query, 'Console', { n: 100, notes: 5 })
      expect(res.statusCode).toBe(200)
      expect(res.json().errors).toBeUndefined()
      expect(res.json().data.incidents.edges.length).toBeGreaterThan(0)
    })

    it('honours @skip and @include with variables', async () => {
      const query = `query($big: Boolean!) { incidents(first: 500) @include(if: $big) { edges { node { notes(first: 500) { edges { cursor } } } } } me { via } }`
      expect((await post(query, undefined, { big: true })).statusCode).toBe(400)
      expect((await post(query, undefined, { big: false })).json()).toEqual({ data: { me: { via: 'session' } } })
    })
  })

  it('answers the standard introspection query (depth 15) with the default limits', async () => {
    const res = await post(getIntrospectionQuery())
    expect(res.statusCode).toBe(200)
    const body = res.json()
    expect(body.errors).toBeUndefined()
    expect(body.data.__schema.queryType.name).toBe('Query')
    expect(body.data.__schema.types.some((ty: { name: string }) => ty.name === 'Incident')).toBe(true)
    // Depth outside introspection still counts
    const deep = await post(
      `{ __schema { queryType { name } } incidents { edges { node { ... on Incident { ... on Incident {
        notes { edges { node { author { organisation { id } } } } } } } } } } }`
    )
    expect(deep.statusCode).toBe(400)
    expect(deep.json().errors[0].message).toMatch(/query depth \(11\) exceeds the query depth limit of 10/)
  })

  it('counts every alias, 300 of __typename included', async () => {
    const before = runs.count
    const res = await post(`{ ${Array.from({ length: 300 }, (_, i) => `t${i}: __typename`).join(' ')} }`)
    expect(res.statusCode).toBe(400)
    expect(res.json().errors[0].message).toMatch(/Aliases limit of 15 exceeded, found 300/)
    expect(runs.count).toBe(before)
  })

  it("runs the README's GraphQL example verbatim", async () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
    const m = /# the same through GraphQL\n.*\n\s*-d '([^']+)'/.exec(readme)
    expect(m, 'README holds the GraphQL curl example').not.toBeNull()
    const payload = JSON.parse(m![1]!)
    await makeIncident(t)
    const res = await t.app.inject({
      method: 'POST',
      url: '/graphql',
      headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': 'application/json' },
      payload
    })
    expect(res.statusCode).toBe(200)
    const body = res.json()
    expect(body.errors).toBeUndefined()
    expect(body.data.incidents.edges.length).toBeGreaterThan(0)
    expect(body.data.incidents.edges[0].node.requester.displayName).toBeTruthy()
  })
})
