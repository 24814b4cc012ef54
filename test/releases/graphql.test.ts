import { isObjectType } from 'graphql'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { decide, makeChange, makeCi } from '../helpers/changes.js'
import { makeIncident, makeOrganisation, makeService, makeTeam, makeUser } from '../helpers/factories.js'
import {
  EVERY_FIELD_LIMITS,
  errorWith,
  fields,
  type GqlBody,
  loadSchema,
  nodesOf,
  objectType,
  selectAll,
  shapeProblems
} from '../helpers/graphql.js'
import { approvedBy, bundle, makeRelease, scheduledChange } from '../helpers/releases.js'

const schema = loadSchema()
const all = (type: string) => selectAll(schema, type)
/** Types this file proves answer every field (test/graphql/contract.test.ts lists them as covered here). */
const RELEASE_TYPES_COVERED = [
  'Release',
  'ReleaseEdge',
  'ReleaseConnection',
  'ReleaseReadiness',
  'ReleaseBlockingChange',
  'ReleaseDeployment'
]
/** Other modules' types are proved elsewhere: here their optional fields may be null. */
const allowNull = Object.values(schema.getTypeMap())
  .filter(t => isObjectType(t) && !RELEASE_TYPES_COVERED.includes(t.name))
  .flatMap(t => Object.keys(objectType(schema, t.name).getFields()).map(f => `${t.name}.${f}`))

type User = Awaited<ReturnType<typeof makeUser>>

describe('releases over GraphQL', () => {
  let t: TestApp
  let manager: User
  let approver: User
  let tech: User
  let customer: User
  let team: { id: string }
  const seen = new Set<string>()

  function expectShape(body: GqlBody, root: 'Query' | 'Mutation', strict = true) {
    expect(body.errors, JSON.stringify(body.errors)).toBeUndefined()
    const rootFields = objectType(schema, root).getFields()
    const problems = Object.entries(body.data ?? {}).flatMap(([name, value]) =>
      shapeProblems(schema, rootFields[name]!.type, value, { strict, allowNull, seen }, name)
    )
    expect(problems).toEqual([])
  }

  const transition = (id: string, input: Record<string, unknown>) =>
    t.gql(
      'mutation($id: ID!, $input: TransitionTicketInput!) { transitionRelease(id: $id, input: $input) { status } }',
      {
        id,
        input
      }
    )

  beforeAll(async () => {
    t = await buildTestApp(EVERY_FIELD_LIMITS)
    const org = await makeOrganisation(t)
    manager = await makeUser(t, ['manager'], { organisationId: org.id })
    approver = await makeUser(t, ['manager'])
    tech = await makeUser(t, ['technician'])
    customer = await makeUser(t, ['customer'], { organisationId: org.id })
    team = await makeTeam(t, [{ userId: tech.id, level: 1 }])
    await approvedBy(t, approver.id)
  })
  afterAll(async () => t?.close())

  it('plans, bundles, deploys and closes a release with every field populated', async () => {
    const category = await t.api('POST', '/api/v1/categories', { body: { kind: 'release', name: 'Platform' } })
    const created = await t.gql(
      `mutation($input: CreateReleaseInput!) { createRelease(input: $input) ${all('Release')} }`,
      {
        input: {
          title: 'Spring platform release',
          description: 'Kernel and database upgrades',
          releaseVersion: '2031.2',
          managerId: manager.id,
          releaseTeamId: team.id,
          plannedDate: '2031-04-01T20:00:00Z',
          requesterId: manager.id,
          categoryId: category.json().id,
          teamId: team.id,
          assigneeId: tech.id,
          serviceId: (await makeService(t)).id
        }
      }
    )
    expectShape(created.body, 'Mutation', false)
    const rel = created.body.data!.createRelease
    expect(rel).toMatchObject({
      releaseVersion: '2031.2',
      manager: { id: manager.id },
      releaseTeam: { id: team.id },
      plannedDate: '2031-04-01T20:00:00.000Z',
      changeIds: [],
      changes: [],
      deployments: [],
      readiness: { ready: false, total: 0, byStatus: {}, blocking: [] }
    })

    const ready = await scheduledChange(t, approver.token)
    const fresh = await makeChange(t)
    const bundled = await t.gql(
      `mutation($id: ID!, $c: [ID!]!) { setReleaseChanges(id: $id, changeIds: $c) { changeIds changes { id number status releaseId } readiness ${all('ReleaseReadiness')} } }`,
      { id: rel.id, c: [ready.id, fresh.id] }
    )
    expectShape(bundled.body, 'Mutation')
    expect(bundled.body.data!.setReleaseChanges).toMatchObject({
      changeIds: [ready.id, fresh.id],
      changes: [
        { id: ready.id, status: 'scheduled', releaseId: rel.id },
        { id: fresh.id, status: 'new', releaseId: rel.id }
      ],
      readiness: {
        ready: false,
        total: 2,
        byStatus: { scheduled: 1, new: 1 },
        blocking: [{ changeId: fresh.id, number: fresh.number, status: 'new' }]
      }
    })
    for (const to of ['build', 'test']) expect((await transition(rel.id, { to })).body.errors).toBeUndefined()
    const blocked = await transition(rel.id, { to: 'deploy' })
    expect(errorWith(blocked.body, 'VALIDATION_FAILED').message).toContain(fresh.number)
    expect(fields(blocked.body)).toEqual(['changesReady'])

    // Take the fresh one out: ready
    const trimmed = await t.gql(
      'mutation($id: ID!, $c: [ID!]!) { setReleaseChanges(id: $id, changeIds: $c) { readiness { ready total } } }',
      { id: rel.id, c: [ready.id] }
    )
    expect(trimmed.body.data!.setReleaseChanges.readiness).toEqual({ ready: true, total: 1 })
    expect((await transition(rel.id, { to: 'deploy' })).body.errors).toBeUndefined()

    const ci = await makeCi(t)
    const added = await t.gql(
      `mutation($id: ID!, $ci: ID!) { addReleaseDeployment(id: $id, input: { target: "production", ciId: $ci, notes: "22:00" }) ${all('ReleaseDeployment')} }`,
      { id: rel.id, ci: ci.id },
      tech.token
    )
    // Planned: not started nor finished
    expectShape(added.body, 'Mutation', false)
    const deployment = added.body.data!.addReleaseDeployment
    expect(deployment).toMatchObject({ status: 'planned', ci: { id: ci.id }, createdBy: { id: tech.id } })
    for (const status of ['in_progress', 'succeeded']) {
      const moved = await t.gql(
        `mutation($id: ID!, $d: ID!, $s: DeploymentStatus!) { updateReleaseDeployment(id: $id, deploymentId: $d, input: { status: $s }) ${all('ReleaseDeployment')} }`,
        { id: rel.id, d: deployment.id, s: status },
        tech.token
      )
      expectShape(moved.body, 'Mutation', status === 'succeeded')
    }
    const illegal = await t.gql(
      'mutation($id: ID!, $d: ID!) { updateReleaseDeployment(id: $id, deploymentId: $d, input: { status: planned }) { id } }',
      { id: rel.id, d: deployment.id }
    )
    expect(errorWith(illegal.body, 'CONFLICT').extensions.allowed).toEqual(['rolled_back'])

    for (const input of [{ to: 'review', resolution: 'Shipped', resolutionCode: 'deployed' }, { to: 'closed' }]) {
      expect((await transition(rel.id, input)).body.errors).toBeUndefined()
    }
    const one = await t.gql(`query($id: ID!) { release(id: $id) ${all('Release')} }`, { id: rel.id })
    expectShape(one.body, 'Query')
    expect(one.body.data!.release).toMatchObject({
      status: 'closed',
      changeIds: [ready.id],
      deployments: [{ id: deployment.id, status: 'succeeded' }]
    })
    // Changes in full are proved above; in a list they would pass the cost limit
    const lean = all('Release').replace(`changes ${selectAll(schema, 'Change', ['Release'])}`, 'changes { id number }')
    expect(lean).not.toBe(all('Release'))
    const list = await t.gql(
      `query($f: String) { releases(filter: $f, includeTotal: true) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node ${lean} } } }`,
      { f: `releaseVersion=="2031.2"` }
    )
    expectShape(list.body, 'Query')
    expect(nodesOf(list.body.data!.releases)).toEqual([
      { ...one.body.data!.release, changes: [{ id: ready.id, number: ready.number }] }
    ])

    // The customer of the requester's organisation reads it, and cannot change it
    const read = await t.gql(
      'query($id: ID!) { release(id: $id) { releaseVersion deployments { target } } }',
      { id: rel.id },
      customer.token
    )
    expect(read.body.data!.release).toEqual({ releaseVersion: '2031.2', deployments: [{ target: 'production' }] })
  })

  it('names the field of bad input: manager required or not staff, not a change, target', async () => {
    const noManager = await t.gql('mutation { createRelease(input: { title: "x", releaseVersion: "1" }) { id } }')
    errorWith(noManager.body, 'VALIDATION_FAILED')
    expect(fields(noManager.body)).toEqual(['managerId'])
    const asCustomer = await t.gql(
      'mutation($m: ID!) { createRelease(input: { title: "x", releaseVersion: "1", managerId: $m }) { id } }',
      { m: customer.id }
    )
    expect(fields(asCustomer.body)).toEqual(['managerId'])
    const rel = await t.gql(
      'mutation($m: ID!) { createRelease(input: { title: "x", releaseVersion: "1", managerId: $m }) { id version } }',
      { m: manager.id }
    )
    const id = rel.body.data!.createRelease.id
    const illegal = await transition(id, { to: 'deploy' })
    expect(errorWith(illegal.body, 'CONFLICT').extensions).toMatchObject({ allowed: ['build', 'cancelled'] })
    const cleared = await t.gql(
      'mutation($id: ID!) { updateRelease(id: $id, version: 1, input: { managerId: null }) { id } }',
      { id }
    )
    errorWith(cleared.body, 'VALIDATION_FAILED')
    expect(fields(cleared.body)).toEqual(['input.managerId'])
    const inc = await makeIncident(t)
    const notChange = await t.gql(
      'mutation($id: ID!, $c: [ID!]!) { setReleaseChanges(id: $id, changeIds: $c) { id } }',
      {
        id,
        c: [inc.id]
      }
    )
    errorWith(notChange.body, 'VALIDATION_FAILED')
    expect(fields(notChange.body)).toEqual(['changeIds.0'])
    const badTarget = await t.gql(
      'mutation($id: ID!) { addReleaseDeployment(id: $id, input: { target: "" }) { id } }',
      { id }
    )
    errorWith(badTarget.body, 'VALIDATION_FAILED')
    expect(fields(badTarget.body)).toEqual(['input.target'])
    const stranger = await t.gql(
      'mutation($id: ID!) { addReleaseDeployment(id: $id, input: { target: "lab" }) { id } }',
      { id },
      customer.token
    )
    errorWith(stranger.body, 'NOT_FOUND')
    // An approver's rejection of a bundled change shows in readiness right away
    const c = await makeChange(t, { plannedStart: '2031-01-05T08:00:00Z', plannedEnd: '2031-01-05T10:00:00Z' })
    await t.api('POST', `/api/v1/changes/${c.id}/transitions`, { body: { to: 'assess' } })
    await t.api('POST', `/api/v1/changes/${c.id}/transitions`, { body: { to: 'authorize' } })
    await t.gql('mutation($id: ID!, $c: [ID!]!) { setReleaseChanges(id: $id, changeIds: $c) { id } }', {
      id,
      c: [c.id]
    })
    await decide(t, 'changes', c.id, approver.token, { decision: 'reject', comment: 'No' })
    const after = await t.gql(
      'query($id: ID!) { release(id: $id) { readiness { ready blocking { number status } } } }',
      { id }
    )
    expect(after.body.data!.release.readiness).toEqual({
      ready: false,
      blocking: [{ number: c.number, status: 'rejected' }]
    })
  })

  it('loads changes, deployments, managers of a whole list in one call each', async () => {
    const made = []
    for (let i = 0; i < 3; i++) {
      const rel = await makeRelease(t, { managerId: manager.id, releaseVersion: `batch-${i}` })
      await bundle(t, rel.id, [(await makeChange(t)).id])
      await t.api('POST', `/api/v1/releases/${rel.id}/deployments`, { body: { target: `env-${i}` } })
      made.push(rel)
    }
    const changesOf = vi.spyOn(t.app.services.releases, 'changesOf')
    const deploymentsOf = vi.spyOn(t.app.services.deployments, 'deploymentsOf')
    const users = vi.spyOn(t.app.services.users, 'usersByIds')
    const res = await t.gql(
      `{ releases(filter: "releaseVersion=in=(batch-0,batch-1,batch-2)", sort: "number") { edges { node {
        releaseVersion manager { id } changes { number } deployments { target } readiness { total } } } } }`
    )
    expect(res.body.errors).toBeUndefined()
    const nodes = nodesOf(res.body.data!.releases)
    expect(nodes.map(n => [n.releaseVersion, (n.deployments as { target: string }[])[0]!.target])).toEqual([
      ['batch-0', 'env-0'],
      ['batch-1', 'env-1'],
      ['batch-2', 'env-2']
    ])
    for (const n of nodes) expect(n).toMatchObject({ manager: { id: manager.id }, readiness: { total: 1 } })
    expect(changesOf).toHaveBeenCalledTimes(1)
    expect(deploymentsOf).toHaveBeenCalledTimes(1)
    expect(users).toHaveBeenCalledTimes(1)
    vi.restoreAllMocks()
  })

  it('proves every field of its types answered', () => {
    expect(RELEASE_TYPES_COVERED.filter(name => !seen.has(name))).toEqual([])
  })
})
