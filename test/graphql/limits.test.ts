import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { auditLog, tickets } from '../../src/db/schema/index.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeIncident } from '../helpers/factories.js'
import { codes, countRows, executionCounter } from '../helpers/graphql.js'

/**
 * Query shape limits (reliability.md §5, §13.D): each abusive document is refused before anything
 * executes. A mercurius preExecution hook counts operations that got past the limits; for mutations
 * the tickets and audit rows prove nothing was written.
 */
describe('GraphQL limits', () => {
  let d: TestApp // default settings
  let s: TestApp // small depth and cost, more tokens, introspection off
  let dRuns: { count: number }
  let sRuns: { count: number }

  beforeAll(async () => {
    d = await buildTestApp()
    // More tokens than the default, so 500 aliases get past the parser to the alias rule
    s = await buildTestApp({
      GRAPHQL_MAX_DEPTH: '6',
      GRAPHQL_MAX_COST: '2000',
      GRAPHQL_MAX_TOKENS: '4000',
      GRAPHQL_INTROSPECTION: 'false'
    })
    dRuns = executionCounter(d)
    sRuns = executionCounter(s)
    // Something to nest into: an incident with a note
    const inc = await makeIncident(s)
    await s.gql('mutation($id: ID!) { addIncidentNote(id: $id, input: { body: "hi" }) { id } }', { id: inc.id })
  })
  afterAll(async () => {
    await d?.close()
    await s?.close()
  })

  /** Runs a document that must be refused before execution; answers the GraphQL body. */
  async function refused(t: TestApp, runs: { count: number }, query: string, status?: number) {
    const before = runs.count
    const res = await t.gql(query)
    expect(res.body.data ?? null).toBeNull()
    expect(res.body.errors?.length).toBeGreaterThan(0)
    expect(codes(res.body).every(c => c === 'GRAPHQL_VALIDATION_FAILED')).toBe(true)
    expect(res.status).toBe(status ?? 400)
    for (const e of res.body.errors ?? []) expect(e.extensions?.status).toBe(400)
    expect(runs.count).toBe(before)
    return res.body
  }

  it('a query at the depth limit runs', async () => {
    // small pages: the unpaged shape (50 × 50 notes) is over this app's cost limit
    const res = await s.gql('{ incidents(first: 5) { edges { node { notes(first: 5) { edges { cursor } } } } } }')
    expect(res.body.errors).toBeUndefined()
    expect(res.body.data!.incidents.edges[0].node.notes.edges[0].cursor).toBeTruthy()
  })

  it('refuses depth past the limit written inline', async () => {
    const body = await refused(s, sRuns, '{ incidents { edges { node { notes { edges { node { id } } } } } } }', 400)
    expect(body.errors![0].message).toMatch(/query depth \(7\) exceeds the query depth limit of 6/)
  })

  it('refuses the same depth hidden in nested named fragments (fragment bypass regression)', async () => {
    const query = `query { ...A }
      fragment A on Query { incidents { ...B } }
      fragment B on IncidentConnection { edges { ...C } }
      fragment C on IncidentEdge { node { notes { ...D } } }
      fragment D on NoteConnection { edges { node { id } } }`
    const body = await refused(s, sRuns, query, 400)
    expect(body.errors![0].message).toMatch(/query depth \(7\) exceeds/)
  })

  it('refuses a deep mutation hidden in fragments before it writes', async () => {
    const [ticketsBefore, auditBefore] = [await countRows(s, tickets), await countRows(s, auditLog)]
    const query = `mutation { ...M }
      fragment M on Mutation { createIncident(input: { title: "deep" }) { id notes { ...N } } }
      fragment N on NoteConnection { edges { node { author { organisation { id } } } } }`
    await refused(s, sRuns, query, 400)
    expect(await countRows(s, tickets)).toBe(ticketsBefore)
    expect(await countRows(s, auditLog)).toBe(auditBefore)
  })

  it('refuses 500 aliases', async () => {
    const query = `{ ${Array.from({ length: 500 }, (_, i) => `a${i}: me { via }`).join(' ')} }`
    // At the default token limit the parser refuses it first
    expect((await refused(d, dRuns, query, 400)).errors![0].message).toMatch(/tokens/)
    const body = await refused(s, sRuns, query)
    expect(body.errors![0].message).toMatch(/Aliases limit of 15 exceeded, found 500/)
  })

  it('refuses a mutation with more aliases than allowed, creating nothing', async () => {
    const before = await countRows(d, tickets)
    const query = `mutation { ${Array.from({ length: 20 }, (_, i) => `a${i}: createIncident(input: { title: "x${i}" }) { id }`).join(' ')} }`
    await refused(d, dRuns, query)
    expect(await countRows(d, tickets)).toBe(before)
  })

  it('refuses 50 directives', async () => {
    const query = `{ ${Array.from({ length: 50 }, () => '__typename @include(if: true)').join(' ')} }`
    const body = await refused(d, dRuns, query)
    expect(body.errors![0].message).toMatch(/Directives limit of 20 exceeded, found 50/)
  })

  it('refuses a document of more tokens than GRAPHQL_MAX_TOKENS with 400', async () => {
    const body = await refused(d, dRuns, `{ ${'__typename '.repeat(2100)}}`, 400)
    expect(body.errors![0].message).toMatch(/more that 2000 tokens/)
  })

  it('refuses nested lists that cost more than GRAPHQL_MAX_COST, unpaged lists counted at the default page', async () => {
    const shape = (n: string, m: string) => `{ incidents${n} { edges { node { notes${m} { edges { cursor } } } } } }`
    // 1 + 100 × (edge + node + notes 1 + 50 edges) = 5301
    const body = await refused(s, sRuns, shape('(first: 100)', '(first: 50)'))
    expect(body.errors![0].message).toBe('operation cost (5301) exceeds the cost limit of 2000')
    // unpaged: 50 incidents × 50 notes, what the resolvers really answer (1 + 50 × 53 = 2651)
    expect((await refused(s, sRuns, shape('', ''))).errors![0].message).toMatch(/cost \(2651\) exceeds/)
    const ok = await s.gql(shape('(first: 10)', '(first: 10)'))
    expect(ok.body.errors).toBeUndefined()
  })

  it('caps batched operations: 11 is a 400 problem naming the batch, 2 run', async () => {
    const batch = (n: number) =>
      d.app.inject({
        method: 'POST',
        url: '/graphql',
        headers: { authorization: `Bearer ${d.adminToken}` },
        payload: Array.from({ length: n }, () => ({ query: '{ me { via } }' }))
      })
    const before = dRuns.count
    const big = await batch(11)
    expect(big.statusCode).toBe(400)
    expect(big.headers['content-type']).toMatch(/^application\/problem\+json/)
    const problem = big.json()
    expect(problem).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' })
    expect(problem.detail).toMatch(/batch/)
    expect(problem.errors).toEqual([{ field: 'body', message: 'batch of 11 operations exceeds 10' }])
    expect(dRuns.count).toBe(before)

    const small = await batch(2)
    expect(small.statusCode).toBe(200)
    expect(small.json()).toEqual([{ data: { me: { via: 'session' } } }, { data: { me: { via: 'session' } } }])
    expect(dRuns.count).toBe(before + 2)
  })

  it('answers introspection by default', async () => {
    const res = await d.gql('{ __schema { queryType { name } } __type(name: "Incident") { name } }')
    expect(res.body).toEqual({ data: { __schema: { queryType: { name: 'Query' } }, __type: { name: 'Incident' } } })
  })

  it('refuses introspection when switched off, but __typename still works', async () => {
    for (const query of ['{ __schema { types { name } } }', '{ __type(name: "Incident") { name } }']) {
      const body = await refused(s, sRuns, query, 400)
      expect(body.errors![0].message).toMatch(/introspection has been disabled/)
    }
    expect((await s.gql('{ __typename }')).body).toEqual({ data: { __typename: 'Query' } })
    const nested = await s.gql('{ incidents { edges { node { __typename } } } }')
    expect(nested.body.data!.incidents.edges[0].node.__typename).toBe('Incident')
  })

  it('refuses a mutation over GET with 405 and does not run it', async () => {
    const before = dRuns.count
    const res = await d.app.inject({
      method: 'GET',
      url: `/graphql?query=${encodeURIComponent('mutation{logout}')}`,
      headers: { authorization: `Bearer ${d.adminToken}` }
    })
    expect(res.statusCode).toBe(405)
    expect(res.json().errors[0].extensions.code).toBe('METHOD_NOT_ALLOWED')
    expect(dRuns.count).toBe(before)
    // Not logged out: the session still works
    expect((await d.gql('{ me { via } }')).body).toEqual({ data: { me: { via: 'session' } } })
    // A query over GET is fine
    const get = await d.app.inject({
      method: 'GET',
      url: `/graphql?query=${encodeURIComponent('{ me { via } }')}`,
      headers: { authorization: `Bearer ${d.adminToken}` }
    })
    expect(get.json()).toEqual({ data: { me: { via: 'session' } } })
  })

  it('refuses a body over GRAPHQL_BODY_LIMIT_BYTES with 413', async () => {
    const before = dRuns.count
    const res = await d.app.inject({
      method: 'POST',
      url: '/graphql',
      headers: { authorization: `Bearer ${d.adminToken}` },
      payload: { query: '{ me { via } }', variables: { pad: 'x'.repeat(140_000) } }
    })
    expect(res.statusCode).toBe(413)
    expect(dRuns.count).toBe(before)
  })

  it('refuses unauthenticated requests with 401 and a GraphQL error body', async () => {
    const before = dRuns.count
    for (const headers of [{}, { authorization: 'Bearer not-a-real-token-at-all-0000' }]) {
      for (const method of ['POST', 'GET'] as const) {
        const res = await d.app.inject({
          method,
          url: method === 'GET' ? `/graphql?query=${encodeURIComponent('{ me { via } }')}` : '/graphql',
          headers,
          ...(method === 'POST' ? { payload: { query: '{ me { via } }' } } : {})
        })
        expect(res.statusCode).toBe(401)
        expect(res.headers['content-type']).toMatch(/^application\/json/)
        expect(res.headers['www-authenticate']).toBe('Bearer')
        const body = res.json()
        expect(body.data ?? null).toBeNull()
        expect(body.errors).toHaveLength(1)
        expect(body.errors[0].message).toMatch(/token/)
        expect(body.errors[0].extensions).toMatchObject({ code: 'UNAUTHENTICATED', status: 401 })
      }
    }
    expect(dRuns.count).toBe(before)
  })
})
