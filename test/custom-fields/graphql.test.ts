import { and, asc, eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { auditLog } from '../../src/db/schema/index.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeApiToken, makeUser } from '../helpers/factories.js'
import { errorWith, type GqlBody, nodesOf } from '../helpers/graphql.js'

const FIELDS = 'id kind key label type required defaultValue options position active version createdAt updatedAt'
const CREATE = `mutation($input: CreateCustomFieldDefinitionInput!) {
  createCustomFieldDefinition(input: $input) { ${FIELDS} } }`
const UPDATE = `mutation($id: ID!, $input: UpdateCustomFieldDefinitionInput!, $version: Int) {
  updateCustomFieldDefinition(id: $id, input: $input, version: $version) { ${FIELDS} } }`
const LIST = `query($kind: TicketKind, $active: Boolean, $first: Int, $after: String) {
  customFieldDefinitions(kind: $kind, active: $active, first: $first, after: $after) {
    edges { cursor node { id key kind position active } } pageInfo { hasNextPage endCursor } } }`
const ONE = `query($id: ID!) { customFieldDefinition(id: $id) { ${FIELDS} } }`

const errorFields = (body: GqlBody): string[] =>
  (body.errors ?? []).flatMap(e => (e.extensions?.errors ?? []).map((f: { field: string }) => f.field))

describe('custom-field definitions over GraphQL', () => {
  let t: TestApp
  let technician: { token: string }
  let customer: { token: string }

  async function create(input: Record<string, unknown>) {
    const res = await t.gql(CREATE, { input })
    expect(res.body.errors, JSON.stringify(res.body.errors)).toBeUndefined()
    return res.body.data!.createCustomFieldDefinition as Record<string, any> & { id: string }
  }

  beforeAll(async () => {
    t = await buildTestApp()
    technician = await makeUser(t, ['technician'])
    customer = await makeUser(t, ['customer'])
  })
  afterAll(async () => t?.close())

  it('creates, reads, updates and clears a default, answering what REST answers', async () => {
    const def = await create({
      kind: 'change',
      key: 'window',
      label: 'Window',
      type: 'multichoice',
      options: ['night', 'weekend'],
      defaultValue: ['night'],
      required: true
    })
    expect(def).toMatchObject({
      kind: 'change',
      key: 'window',
      type: 'multichoice',
      defaultValue: ['night'],
      options: ['night', 'weekend'],
      required: true,
      position: 0,
      active: true,
      version: 1
    })
    const rest = await t.api('GET', `/api/v1/custom-fields/${def.id}`)
    expect(rest.json()).toEqual(def)

    const one = await t.gql(ONE, { id: def.id }, customer.token)
    expect(one.body.data!.customFieldDefinition).toEqual(def)

    // Omitted fields stay; an explicit null default clears it; version guards against lost updates
    const updated = await t.gql(UPDATE, {
      id: def.id,
      input: { label: 'Change window', defaultValue: null },
      version: 1
    })
    expect(updated.body.errors).toBeUndefined()
    expect(updated.body.data!.updateCustomFieldDefinition).toMatchObject({
      label: 'Change window',
      defaultValue: null,
      options: ['night', 'weekend'],
      required: true,
      version: 2
    })
    const stale = await t.gql(UPDATE, { id: def.id, input: { label: 'x' }, version: 1 })
    expect(errorWith(stale.body, 'PRECONDITION_FAILED').extensions.currentVersion).toBe(2)

    const retired = await t.gql(UPDATE, { id: def.id, input: { active: false }, version: 2 })
    expect(retired.body.data!.updateCustomFieldDefinition.active).toBe(false)

    const audit = await t.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.entityType, 'custom_field'), eq(auditLog.entityId, def.id)))
      .orderBy(asc(auditLog.id))
    expect(audit.map(a => a.action)).toEqual(['created', 'updated', 'updated'])
    expect(audit[1]!.changes).toEqual([
      { field: 'label', old: 'Window', new: 'Change window' },
      { field: 'defaultValue', old: ['night'], new: null }
    ])
  })

  it('lists with filters and pages through edges without repeats', async () => {
    for (const [key, position] of [
      ['zeta', 0],
      ['alpha', 5],
      ['beta', 5]
    ] as const) {
      await create({ kind: 'release', key, label: key, type: 'text', position })
    }
    await create({ kind: 'release', key: 'gone', label: 'gone', type: 'text', position: 9, active: false })
    const keys: string[] = []
    let after: string | null = null
    for (let i = 0; i < 10; i++) {
      const res: Awaited<ReturnType<TestApp['gql']>> = await t.gql(LIST, {
        kind: 'release',
        active: true,
        first: 2,
        after
      })
      expect(res.body.errors).toBeUndefined()
      const conn = res.body.data!.customFieldDefinitions
      keys.push(...nodesOf(conn).map(n => n.key as string))
      expect(conn.pageInfo.endCursor).toBe(conn.edges.at(-1)?.cursor ?? null)
      if (!conn.pageInfo.hasNextPage) break
      after = conn.pageInfo.endCursor
    }
    expect(keys).toEqual(['zeta', 'alpha', 'beta'])

    const bad = await t.gql(LIST, { after: 'nope' })
    errorWith(bad.body, 'VALIDATION_FAILED')
    expect(errorFields(bad.body)).toContain('after')
    const badKind = await t.gql(LIST, { kind: 'widget' })
    expect(errorWith(badKind.body, 'GRAPHQL_VALIDATION_FAILED').message).toMatch(
      /"widget" does not exist in "TicketKind"/
    )
  })

  it('validates input with the REST rules, naming the field under input', async () => {
    const badKey = await t.gql(CREATE, { input: { kind: 'change', key: 'Bad Key', label: 'x', type: 'text' } })
    errorWith(badKey.body, 'VALIDATION_FAILED')
    expect(errorFields(badKey.body)).toEqual(['input.key'])

    const noOptions = await t.gql(CREATE, { input: { kind: 'change', key: 'pick', label: 'x', type: 'choice' } })
    errorWith(noOptions.body, 'VALIDATION_FAILED')
    expect(errorFields(noOptions.body)).toEqual(['options'])

    const userDefault = await t.gql(CREATE, {
      input: {
        kind: 'change',
        key: 'owner',
        label: 'x',
        type: 'user',
        defaultValue: '0190f5d2-7b7a-7c3e-9d3a-1f2e3d4c5b6a'
      }
    })
    errorWith(userDefault.body, 'VALIDATION_FAILED')
    expect(errorFields(userDefault.body)).toEqual(['defaultValue'])

    await create({ kind: 'problem', key: 'dup', label: 'Dup', type: 'text' })
    const dup = await t.gql(CREATE, { input: { kind: 'problem', key: 'dup', label: 'Again', type: 'text' } })
    errorWith(dup.body, 'CONFLICT')
    expect(errorFields(dup.body)).toEqual(['key'])

    const missing = await t.gql(ONE, { id: '0190f5d2-7b7a-7c3e-9d3a-1f2e3d4c5b6a' })
    errorWith(missing.body, 'NOT_FOUND')
    const badId = await t.gql(ONE, { id: 'not-a-uuid' })
    errorWith(badId.body, 'VALIDATION_FAILED')

    // kind, key and type are not in the update input at all: GraphQL itself refuses them
    const def = await create({ kind: 'problem', key: 'fixed', label: 'Fixed', type: 'text' })
    const immutable = await t.gql(UPDATE, { id: def.id, input: { type: 'number' } })
    expect(immutable.status).toBe(400)
    expect((await t.gql(ONE, { id: def.id })).body.data!.customFieldDefinition.type).toBe('text')
  })

  it('lets technicians, customers and read tokens read, and only admins write', async () => {
    const def = await create({ kind: 'incident', key: 'guarded', label: 'Guarded', type: 'boolean' })
    const readToken = await makeApiToken(t, { scopes: ['tickets:read'] })
    for (const token of [technician.token, customer.token, readToken.token]) {
      const list = await t.gql(LIST, { kind: 'incident' }, token)
      expect(nodesOf(list.body.data!.customFieldDefinitions).map(n => n.id)).toContain(def.id)
      const made = await t.gql(CREATE, { input: { kind: 'incident', key: 'nope', label: 'x', type: 'text' } }, token)
      errorWith(made.body, 'FORBIDDEN')
      const changed = await t.gql(UPDATE, { id: def.id, input: { label: 'Hacked' } }, token)
      errorWith(changed.body, 'FORBIDDEN')
    }
    const scoped = await t.gql(UPDATE, { id: def.id, input: { label: 'Hacked' } }, readToken.token)
    expect(errorWith(scoped.body, 'FORBIDDEN').extensions.missingScope).toBe('admin')
    expect((await t.gql(ONE, { id: def.id })).body.data!.customFieldDefinition.label).toBe('Guarded')
  })
})
