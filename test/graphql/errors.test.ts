import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { errorWith } from '../helpers/graphql.js'

/**
 * One code per kind of error in both doors (issue 10 #15): a value that breaks the schema is
 * VALIDATION_FAILED over REST and over GraphQL, every complaint is answered at once, and in words a
 * person reads (never the schema's regular expression).
 */
describe('validation errors in both doors', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await buildTestApp()
  })
  afterAll(async () => t?.close())

  const bad = { kind: 'change', key: 'Bad Key', label: '', type: 'text' }
  const expected = [
    { field: 'key', message: expect.stringMatching(/^has the wrong format \(.*lower-case letter/) },
    { field: 'label', message: 'must not be empty' }
  ]

  it('REST: 400 VALIDATION_FAILED with every field at once, in words', async () => {
    const res = await t.api('POST', '/api/v1/custom-fields', { body: { ...bad, surplus: 1 } })
    expect(res.statusCode).toBe(400)
    const problem = res.json()
    expect(problem.code).toBe('VALIDATION_FAILED')
    expect(problem.errors).toEqual(expect.arrayContaining(expected))
    expect(problem.errors).toContainEqual({ field: 'surplus', message: 'unknown or read-only field' })
    expect(problem.errors).toHaveLength(3)
    expect(problem.detail).not.toMatch(/\^|\$|\\S|must match pattern/)
  })

  it('GraphQL: the same code, the same complaints under input', async () => {
    const res = await t.gql(
      'mutation($input: CreateCustomFieldDefinitionInput!) { createCustomFieldDefinition(input: $input) { id } }',
      { input: bad }
    )
    const err = errorWith(res.body, 'VALIDATION_FAILED')
    expect(err.extensions.status).toBe(400)
    expect(err.extensions.errors).toEqual(expected.map(e => ({ ...e, field: `input.${e.field}` })))
    expect(err.message).not.toMatch(/\^|\$|must match pattern/)
  })

  it('the same code for bad paging and filters in both doors', async () => {
    const rest = await t.api('GET', '/api/v1/incidents?limit=0&cursor=nope')
    expect(rest.statusCode).toBe(400)
    expect(rest.json().code).toBe('VALIDATION_FAILED')
    expect(rest.json().errors).toContainEqual({ field: 'limit', message: 'querystring: must be at least 1' })
    const gql = await t.gql('{ incidents(first: 0) { edges { cursor } } }')
    expect(errorWith(gql.body, 'VALIDATION_FAILED').extensions.errors).toEqual([
      { field: 'first', message: 'must be at least 1' }
    ])
  })
})
