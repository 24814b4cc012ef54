import { and, eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { auditLog } from '../../src/db/schema/index.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeApiToken, makeTeam, makeUser } from '../helpers/factories.js'
import {
  EVERY_FIELD_LIMITS,
  errorWith,
  fields,
  loadSchema,
  nodesOf,
  selectAll,
  shapeProblems
} from '../helpers/graphql.js'

const schema = loadSchema()
const all = (type: string) => selectAll(schema, type)
/** Nullable fields of other modules' types that these records rightly leave empty. */
const allowNull = [
  'User.email',
  'User.phone',
  'User.organisationId',
  'User.organisation',
  'Team.description',
  'Team.managerId',
  'Team.manager',
  'PageInfo.endCursor',
  // fields these CIs leave empty (the full set is checked in test/graphql/contract.test.ts)
  ...['assetTag', 'ownerTeamId', 'ownerTeam', 'organisationId', 'location', 'costCentreId', 'missingSince'].map(
    f => `ConfigurationItem.${f}`
  ),
  'CiHistoryEntry.source',
  'CiFieldChange.old',
  'CiFieldChange.new'
]
const NOWHERE = '00000000-0000-7000-8000-000000000000'

describe('configuration items over GraphQL', () => {
  let t: TestApp
  let teamId: string
  let customer: { token: string }
  let tech: { token: string }

  beforeAll(async () => {
    t = await buildTestApp(EVERY_FIELD_LIMITS)
    const manager = await makeUser(t, ['manager'])
    teamId = (await makeTeam(t, [{ userId: manager.id, level: 1 }])).id
    customer = await makeUser(t, ['customer'])
    tech = await makeUser(t, ['technician'])
  })
  afterAll(async () => t?.close())

  const createCi = async (input: Record<string, unknown>, token = t.adminToken) =>
    t.gql(`mutation($input: CreateCiInput!) { createCi(input: $input) ${all('ConfigurationItem')} }`, { input }, token)

  it('creates, reads, lists, updates and relates CIs, every field answering', async () => {
    const web = await createCi({
      name: 'web-01',
      class: 'server',
      hostname: 'WEB-01',
      fqdn: 'web-01.example.org',
      serial: 'SN1',
      macAddress: 'AA-BB-CC-00-00-01',
      systemUuid: '4C4C4544-0042-3510-8058-B7C04F564D01',
      status: 'live',
      supportTeamId: teamId
    })
    expect(web.body.errors).toBeUndefined()
    expect(shapeProblems(schema, 'ConfigurationItem', web.body.data!.createCi, { strict: true, allowNull })).toEqual([])
    expect(web.body.data!.createCi).toMatchObject({ hostname: 'web-01', supportTeam: { id: teamId } })
    const webId = web.body.data!.createCi.id
    const vm = await createCi({
      name: 'vm-17',
      class: 'virtual_machine',
      hostname: 'vm-17',
      fqdn: 'vm-17.example.org',
      serial: 'SN2',
      macAddress: 'aabb.cc00.0002',
      systemUuid: '4c4c4544-0042-3510-8058-b7c04f564d02',
      supportTeamId: teamId
    })
    const vmId = vm.body.data!.createCi.id

    const one = await t.gql(`query($id: ID!) { ci(id: $id) ${all('ConfigurationItem')} }`, { id: webId })
    expect(one.body.data!.ci).toEqual(web.body.data!.createCi)
    // The same record through REST
    const rest = (await t.api('GET', `/api/v1/cis/${webId}`)).json()
    // GraphQL's own fields (loaded teams, the graph, history, tickets) are not in the REST record
    const {
      supportTeam: _t,
      ownerTeam: _o,
      relationships: _r,
      impact: _i,
      history: _h,
      tickets: _k,
      ...plain
    } = one.body.data!.ci
    expect(rest).toEqual(plain)

    // A page of 10: the every-field document of 50 CIs passes the default cost limit since CIs gained macAddress and systemUuid
    const list = await t.gql(
      `{ cis(class: "server", hostname: "Web-01", first: 10) ${all('ConfigurationItemConnection')} }`
    )
    expect(list.body.errors).toBeUndefined()
    expect(nodesOf(list.body.data!.cis).map(n => n.id)).toEqual([webId])
    const paged = await t.gql('{ cis(first: 1) { edges { node { id } } pageInfo { hasNextPage endCursor } } }')
    expect(paged.body.data!.cis.pageInfo.hasNextPage).toBe(true)
    const next = await t.gql('query($a: String) { cis(first: 1, after: $a) { edges { node { id } } } }', {
      a: paged.body.data!.cis.pageInfo.endCursor
    })
    expect(nodesOf(next.body.data!.cis).map(n => n.id)).toEqual([vmId])

    const scratch = (await createCi({ name: 'scratch', serial: 'SN1' })).body.data!.createCi.id
    const updated = await t.gql(
      `mutation($id: ID!) { updateCi(id: $id, version: 1, input: { serial: null, status: "maintenance" }) ${all('ConfigurationItem')} }`,
      { id: scratch }
    )
    expect(updated.body.data!.updateCi).toMatchObject({ serial: null, status: 'maintenance', name: 'scratch' })
    const [audit] = await t.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.entityId, scratch), eq(auditLog.action, 'updated')))
    expect(audit!.changes).toEqual([
      { field: 'serial', old: 'SN1', new: null },
      { field: 'status', old: 'live', new: 'maintenance' }
    ])

    const related = await t.gql(
      `mutation($s: ID!, $t: ID!) { relateCis(sourceId: $s, targetId: $t, type: "runs_on") ${all('CiRelationship')} }`,
      { s: webId, t: vmId }
    )
    expect(related.body.errors).toBeUndefined()
    expect(shapeProblems(schema, 'CiRelationship', related.body.data!.relateCis, { strict: true, allowNull })).toEqual(
      []
    )
    const rel = related.body.data!.relateCis
    expect(rel).toMatchObject({
      type: 'runs_on',
      label: 'runs on',
      direction: 'outgoing',
      source: { id: webId },
      target: { id: vmId },
      relatedCi: { id: vmId }
    })

    const incoming = await t.gql(
      `query($id: ID!) { ciRelationships(ciId: $id, first: 10) ${all('CiRelationshipConnection')} }`,
      {
        id: vmId
      }
    )
    expect(
      shapeProblems(schema, 'CiRelationshipConnection', incoming.body.data!.ciRelationships, {
        strict: true,
        allowNull
      })
    ).toEqual([])
    // (the selection under a connection leaves out CIs' own relationships, so compare the relationship's fields)
    expect(nodesOf(incoming.body.data!.ciRelationships)).toEqual([
      expect.objectContaining({
        id: rel.id,
        type: 'runs_on',
        sourceId: webId,
        targetId: vmId,
        createdAt: rel.createdAt,
        direction: 'incoming',
        label: 'hosts',
        relatedCiId: webId,
        relatedCi: expect.objectContaining({ id: webId })
      })
    ])

    const dup = await t.gql(
      'mutation($s: ID!, $t: ID!) { relateCis(sourceId: $s, targetId: $t, type: "runs_on") { id } }',
      {
        s: webId,
        t: vmId
      }
    )
    errorWith(dup.body, 'CONFLICT')
    const self = await t.gql('mutation($s: ID!) { relateCis(sourceId: $s, targetId: $s, type: "part_of") { id } }', {
      s: webId
    })
    expect(errorWith(self.body, 'VALIDATION_FAILED').extensions.errors).toEqual([
      { field: 'targetId', message: expect.any(String) }
    ])

    const gone = await t.gql('mutation($c: ID!, $r: ID!) { unrelateCis(ciId: $c, relationshipId: $r) }', {
      c: webId,
      r: rel.id
    })
    expect(gone.body).toEqual({ data: { unrelateCis: true } })
    const again = await t.gql('mutation($c: ID!, $r: ID!) { unrelateCis(ciId: $c, relationshipId: $r) }', {
      c: webId,
      r: rel.id
    })
    errorWith(again.body, 'NOT_FOUND')
  })

  it('names the field of bad input', async () => {
    const badHost = await createCi({ name: 'x', hostname: 'has space' })
    errorWith(badHost.body, 'VALIDATION_FAILED')
    expect(fields(badHost.body)).toContain('input.hostname')
    const noTeam = await createCi({ name: 'x', supportTeamId: NOWHERE })
    expect(fields(noTeam.body)).toEqual(['supportTeamId'])
    errorWith(noTeam.body, 'VALIDATION_FAILED')
    const badId = await t.gql('{ ci(id: "nope") { id } }')
    expect(fields(badId.body)).toEqual(['id'])
    const missing = await t.gql(`{ ci(id: "${NOWHERE}") { id } }`)
    errorWith(missing.body, 'NOT_FOUND')
    const badFirst = await t.gql('{ cis(first: 0) { edges { node { id } } } }')
    expect(fields(badFirst.body)).toEqual(['first'])
    const badRelCi = await t.gql('{ ciRelationships(ciId: "x") { edges { node { id } } } }')
    expect(fields(badRelCi.body)).toEqual(['ciId'])
    const emptyUpdate = await t.gql(`mutation { updateCi(id: "${NOWHERE}", version: 1, input: {}) { id } }`)
    errorWith(emptyUpdate.body, 'VALIDATION_FAILED')
  })

  it('customers may not read; technicians read but do not write; cmdb:import tokens write', async () => {
    errorWith((await t.gql('{ cis { edges { node { id } } } }', {}, customer.token)).body, 'FORBIDDEN')
    expect((await t.gql('{ cis { edges { node { id } } } }', {}, tech.token)).body.errors).toBeUndefined()
    errorWith((await createCi({ name: 'nope' }, tech.token)).body, 'FORBIDDEN')
    const importer = await makeApiToken(t, { scopes: ['cmdb:import'] })
    const made = await t.gql('mutation { createCi(input: { name: "by-token" }) { id name } }', {}, importer.token)
    expect(made.body.data!.createCi.name).toBe('by-token')
  })
})
