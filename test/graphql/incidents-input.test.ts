import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeIncident } from '../helpers/factories.js'
import { errorWith, fields } from '../helpers/graphql.js'
import { CREATE, LIST, NOTE, TRANSITION } from './incidents.queries.js'

describe('GraphQL incident input: a client error naming the field, never INTERNAL', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await buildTestApp()
  })
  afterAll(async () => t?.close())

  it('an id that is not a UUID', async () => {
    for (const [query, v] of [
      ['query($v: ID!) { incident(id: $v) { id } }', { v: 'not-a-uuid' }],
      [NOTE, { id: "1' OR '1'='1", body: 'x' }],
      [TRANSITION, { id: '42', input: { to: 'closed' } }]
    ] as const) {
      const res = await t.gql(query, v)
      errorWith(res.body, 'VALIDATION_FAILED')
      expect(fields(res.body)).toEqual(['id'])
    }
  })

  it('a title too long, blank, or a level out of range', async () => {
    for (const [input, field] of [
      [{ title: 'x'.repeat(301) }, 'input.title'],
      [{ title: '   ' }, 'input.title'],
      [{ title: 'ok', impact: 7 }, 'input.impact']
    ] as const) {
      const res = await t.gql(CREATE, { input })
      errorWith(res.body, 'VALIDATION_FAILED')
      expect(fields(res.body)).toEqual([field])
    }
  })

  it('an unknown enum value or wrong scalar is a GraphQL validation error (400)', async () => {
    for (const query of [
      '{ tickets(kind: bogus) { edges { cursor } } }',
      '{ incidents(createdFrom: "yesterday") { edges { cursor } } }',
      'mutation { createIncident(input: { title: "x", impact: "high" }) { id } }'
    ]) {
      const res = await t.gql(query)
      expect(res.status).toBe(400)
      expect(res.body.data).toBeNull()
      errorWith(res.body, 'GRAPHQL_VALIDATION_FAILED')
    }
    // Statuses are workflow data (admins add their own), so an unknown one is the service's 400
    const res = await t.gql(LIST, { status: ['bogus'] })
    expect(res.body.data?.incidents ?? null).toBeNull()
    errorWith(res.body, 'VALIDATION_FAILED')
    expect(fields(res.body)).toEqual(['status'])
    expect(res.body.errors![0].message).toMatch(/bogus/)
  })

  it('paging arguments out of range or a foreign cursor, named as the client sent them', async () => {
    const foreign = Buffer.from(JSON.stringify(['x', 1, 'y'])).toString('base64url')
    for (const [v, field] of [
      [{ first: 0 }, 'first'],
      [{ first: 501 }, 'first'],
      [{ after: 'garbage!' }, 'after'],
      [{ after: foreign }, 'after']
    ] as const) {
      const res = await t.gql(LIST, v)
      errorWith(res.body, 'VALIDATION_FAILED')
      expect(fields(res.body)).toEqual([field])
    }
    // Nested connections too: first: 0 or -5 used to answer an empty page with hasNextPage false
    const inc = await makeIncident(t)
    for (const [connection, v, field] of [
      ['notes', { first: -5 }, 'first'],
      ['notes', { first: 100_000 }, 'first'],
      ['history', { first: 0 }, 'first'],
      ['history', { after: 'garbage!' }, 'after']
    ] as const) {
      const res = await t.gql(
        `query($id: ID!, $first: Int, $after: String) {
          incident(id: $id) { id ${connection}(first: $first, after: $after) { edges { cursor } } } }`,
        { id: inc.id, ...v }
      )
      errorWith(res.body, 'VALIDATION_FAILED')
      expect(fields(res.body)).toEqual([field])
    }
  })
})
