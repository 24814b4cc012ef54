import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freezesOverlapping } from '../../src/modules/changes/freezes.service.js'
import { approversOf, policyAuditId, policyFor } from '../../src/modules/changes/policies.service.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { auditOf } from '../helpers/audit.js'
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
import { expectProblem, fieldsOf } from '../helpers/problem.js'

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
  'PageInfo.endCursor'
]
const NOWHERE = '00000000-0000-7000-8000-000000000000'
const at = (day: number, hour = 0, year = 2031) => new Date(Date.UTC(year, 0, day, hour)).toISOString()
describe('change freezes', () => {
  let t: TestApp
  let tech: { token: string }
  let customer: { token: string }
  let finance: { token: string }
  const made: Record<string, { id: string }> = {}

  const create = (body: Record<string, unknown>, token?: string) =>
    t.api('POST', '/api/v1/change-freezes', { body, ...(token ? { token } : {}) })
  const listIds = async (qs: string, token?: string) =>
    (
      (await t.api('GET', `/api/v1/change-freezes?${qs}`, token ? { token } : {})).json() as { items: { id: string }[] }
    ).items.map(f => f.id)

  beforeAll(async () => {
    t = await buildTestApp(EVERY_FIELD_LIMITS)
    tech = await makeUser(t, ['technician'])
    customer = await makeUser(t, ['customer'])
    finance = await makeUser(t, ['finance'])
    for (const [name, start, end] of [
      ['new-year', at(1), at(3)],
      ['quarter-close', at(10), at(12)],
      ['audit', at(11), at(20)]
    ] as const) {
      const res = await create({ name, reason: `${name} freeze`, startsAt: start, endsAt: end })
      expect(res.statusCode, res.body).toBe(201)
      made[name] = res.json()
    }
  })
  afterAll(async () => t?.close())

  it('creates a freeze, audited, with who made it', async () => {
    const f = made['new-year']!
    const got = (await t.api('GET', `/api/v1/change-freezes/${f.id}`)).json()
    expect(got).toMatchObject({ name: 'new-year', reason: 'new-year freeze', startsAt: at(1), endsAt: at(3) })
    expect(got.createdById).toEqual(expect.any(String))
    const audit = await auditOf(t, 'change_freeze', f.id)
    expect(audit.map(a => a.action)).toEqual(['created'])
    expect(audit[0]!.changes).toContainEqual({ field: 'endsAt', old: null, new: at(3) })
  })

  it('lists the freezes overlapping a window, half-open, by start, in keyset pages', async () => {
    const { 'new-year': ny, 'quarter-close': qc, audit } = made
    expect(await listIds('')).toEqual([ny!.id, qc!.id, audit!.id])
    // Ending exactly at `from` or starting exactly at `to` is not an overlap
    expect(await listIds(`from=${at(3)}&to=${at(10)}`)).toEqual([])
    expect(await listIds(`from=${at(2)}&to=${at(11)}`)).toEqual([ny!.id, qc!.id])
    expect(await listIds(`from=${at(15)}`)).toEqual([audit!.id])
    expect(await listIds(`to=${at(10, 1)}`)).toEqual([ny!.id, qc!.id])
    const page = (await t.api('GET', '/api/v1/change-freezes?limit=2')).json()
    expect(page.items.map((f: { id: string }) => f.id)).toEqual([ny!.id, qc!.id])
    const rest = (await t.api('GET', `/api/v1/change-freezes?limit=2&cursor=${page.nextCursor}`)).json()
    expect(rest).toEqual({ items: [expect.objectContaining({ id: audit!.id })], nextCursor: null })

    const window = await freezesOverlapping(t.db, new Date(at(11, 12)), new Date(at(12, 12)))
    expect(window.map(f => f.name)).toEqual(['quarter-close', 'audit'])

    expect(
      fieldsOf(expectProblem(await t.api('GET', `/api/v1/change-freezes?from=${at(5)}&to=${at(4)}`), 422))
    ).toEqual(['to'])
    expect(fieldsOf(expectProblem(await t.api('GET', '/api/v1/change-freezes?from=yesterday'), 400))).toContain('from')
    expect(fieldsOf(expectProblem(await t.api('GET', '/api/v1/change-freezes?cursor=zzz'), 400))).toContain('cursor')
  })

  it('refuses a backwards, empty or over-long window naming the field', async () => {
    const cases: [Record<string, unknown>, number, string][] = [
      [{ name: 'x', startsAt: at(5), endsAt: at(4) }, 422, 'endsAt'],
      [{ name: 'x', startsAt: at(5), endsAt: at(5) }, 422, 'endsAt'],
      [{ name: 'x', startsAt: at(1), endsAt: new Date(Date.UTC(2032, 0, 3)).toISOString() }, 422, 'endsAt'],
      [{ name: 'x', startsAt: 'soon', endsAt: at(4) }, 400, 'startsAt'],
      [{ name: '', startsAt: at(1), endsAt: at(2) }, 400, 'name'],
      [{ startsAt: at(1), endsAt: at(2) }, 400, 'name'],
      [{ name: 'x', startsAt: at(1) }, 400, 'endsAt']
    ]
    for (const [body, status, field] of cases) {
      expect(fieldsOf(expectProblem(await create(body), status)), JSON.stringify(body)).toContain(field)
    }
    // Exactly 366 days is allowed
    expect(
      (await create({ name: 'leap', startsAt: at(1), endsAt: new Date(Date.UTC(2032, 0, 2)).toISOString() })).statusCode
    ).toBe(201)
  })

  it('patches with the window re-checked, deletes, and audits both', async () => {
    const f = (await create({ name: 'patch-me', startsAt: at(21), endsAt: at(22) })).json()
    const moved = await t.api('PATCH', `/api/v1/change-freezes/${f.id}`, {
      body: { endsAt: at(23), reason: 'longer', version: f.version }
    })
    expect(moved.statusCode, moved.body).toBe(200)
    expect(moved.json()).toMatchObject({ endsAt: at(23), reason: 'longer', name: 'patch-me' })
    const late = await t.api('PATCH', `/api/v1/change-freezes/${f.id}`, { body: { startsAt: at(24), version: 2 } })
    expect(fieldsOf(expectProblem(late, 422))).toEqual(['startsAt'])
    expectProblem(await t.api('PATCH', `/api/v1/change-freezes/${f.id}`, { body: {} }), 400)
    expectProblem(await t.api('PATCH', `/api/v1/change-freezes/${NOWHERE}`, { body: { name: 'x' } }), 404)
    expect((await t.api('DELETE', `/api/v1/change-freezes/${f.id}`)).statusCode).toBe(204)
    expectProblem(await t.api('GET', `/api/v1/change-freezes/${f.id}`), 404)
    expectProblem(await t.api('DELETE', `/api/v1/change-freezes/${f.id}`), 404)
    const audit = await auditOf(t, 'change_freeze', f.id)
    expect(audit.map(a => a.action)).toEqual(['created', 'updated', 'deleted'])
    expect(audit[1]!.changes).toEqual([
      { field: 'reason', old: '', new: 'longer' },
      { field: 'endsAt', old: at(22), new: at(23) }
    ])
    expect(audit[2]!.changes).toContainEqual({ field: 'name', old: 'patch-me', new: null })
  })

  it('staff read; customers and finance do not; only admins write', async () => {
    const id = made['audit']!.id
    expect((await listIds('', tech.token)).length).toBeGreaterThan(0)
    expect((await t.api('GET', `/api/v1/change-freezes/${id}`, { token: tech.token })).statusCode).toBe(200)
    for (const who of [customer, finance]) {
      expectProblem(await t.api('GET', '/api/v1/change-freezes', { token: who.token }), 403)
      expectProblem(await t.api('GET', `/api/v1/change-freezes/${id}`, { token: who.token }), 403)
    }
    expectProblem(await create({ name: 'x', startsAt: at(1), endsAt: at(2) }, tech.token), 403)
    expectProblem(await t.api('PATCH', `/api/v1/change-freezes/${id}`, { token: tech.token, body: { name: 'x' } }), 403)
    expectProblem(await t.api('DELETE', `/api/v1/change-freezes/${id}`, { token: tech.token }), 403)
    const reader = await makeApiToken(t, { scopes: ['tickets:read'] })
    expect((await t.api('GET', '/api/v1/change-freezes', { token: reader.token })).statusCode).toBe(200)
    const denied = expectProblem(await create({ name: 'x', startsAt: at(1), endsAt: at(2) }, reader.token), 403)
    expect(denied.missingScope).toBe('admin')
  })

  it('answers the same over GraphQL, every field included', async () => {
    const created = await t.gql(
      `mutation($input: CreateChangeFreezeInput!) { createChangeFreeze(input: $input) ${all('ChangeFreeze')} }`,
      { input: { name: 'gql', reason: 'why', startsAt: at(25, 0, 2033), endsAt: at(26, 0, 2033) } }
    )
    expect(created.body.errors).toBeUndefined()
    const f = created.body.data!.createChangeFreeze
    expect(shapeProblems(schema, 'ChangeFreeze', f, { strict: true, allowNull })).toEqual([])
    expect(f.createdBy.username).toBe('admin')
    const rest = (await t.api('GET', `/api/v1/change-freezes/${f.id}`)).json()
    const { createdBy: _u, ...plain } = f
    expect(rest).toEqual(plain)

    const list = await t.gql(
      `query($f: DateTime, $t: DateTime) { changeFreezes(from: $f, to: $t, first: 1) ${all('ChangeFreezeConnection')} }`,
      { f: at(24, 0, 2033), t: at(30, 0, 2033) }
    )
    expect(nodesOf(list.body.data!.changeFreezes)).toEqual([f])
    expect(list.body.data!.changeFreezes.pageInfo.hasNextPage).toBe(false)
    const one = await t.gql(`query($id: ID!) { changeFreeze(id: $id) ${all('ChangeFreeze')} }`, { id: f.id })
    expect(one.body.data!.changeFreeze).toEqual(f)

    const updated = await t.gql(
      'mutation($id: ID!) { updateChangeFreeze(id: $id, input: { name: "renamed" }, version: 1) { name } }',
      {
        id: f.id
      }
    )
    expect(updated.body.data!.updateChangeFreeze.name).toBe('renamed')
    const backwards = await t.gql(
      'mutation($id: ID!, $e: DateTime) { updateChangeFreeze(id: $id, input: { endsAt: $e }, version: 2) { id } }',
      {
        id: f.id,
        e: at(24, 0, 2033)
      }
    )
    errorWith(backwards.body, 'VALIDATION_FAILED')
    expect(fields(backwards.body)).toEqual(['endsAt'])
    const badName = await t.gql(
      'mutation($s: DateTime!, $e: DateTime!) { createChangeFreeze(input: { name: "", startsAt: $s, endsAt: $e }) { id } }',
      {
        s: at(1),
        e: at(2)
      }
    )
    expect(fields(badName.body)).toEqual(['input.name'])
    errorWith((await t.gql('{ changeFreezes { edges { node { id } } } }', {}, customer.token)).body, 'FORBIDDEN')
    const deleted = await t.gql('mutation($id: ID!) { deleteChangeFreeze(id: $id) }', { id: f.id })
    expect(deleted.body).toEqual({ data: { deleteChangeFreeze: true } })
    errorWith((await t.gql('mutation($id: ID!) { deleteChangeFreeze(id: $id) }', { id: f.id })).body, 'NOT_FOUND')
  })
})

describe('change approval policies', () => {
  let t: TestApp
  let managerA: { id: string; token: string }
  let managerB: { id: string; token: string }
  let memberTech: { id: string }
  let disabled: { id: string }
  let customer: { id: string; token: string }
  let teamId: string

  /** PUT at the version read (as the admin), as every admin edit must (428 without one). */
  const put = async (type: string, body: Record<string, unknown>, token?: string) => {
    const { version } = (await t.api('GET', `/api/v1/change-approval-policies/${type}`)).json()
    return t.api('PUT', `/api/v1/change-approval-policies/${type}`, {
      body: { version, ...body },
      ...(token ? { token } : {})
    })
  }

  beforeAll(async () => {
    t = await buildTestApp(EVERY_FIELD_LIMITS)
    managerA = await makeUser(t, ['manager'])
    managerB = await makeUser(t, ['manager'])
    memberTech = await makeUser(t, ['technician'])
    disabled = await makeUser(t, ['manager'])
    await t.edit(`/api/v1/users/${disabled.id}`, { body: { active: false } })
    customer = await makeUser(t, ['customer'])
    // The CAB team: one named approver is also a member, to show deduplication
    teamId = (
      await makeTeam(t, [
        { userId: memberTech.id, level: 1 },
        { userId: managerA.id, level: 2 }
      ])
    ).id
  })
  afterAll(async () => t?.close())

  it('answers the built-in defaults while nothing is configured', async () => {
    const res = await t.api('GET', '/api/v1/change-approval-policies')
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({
      items: ['standard', 'normal', 'emergency'].map((changeType, i) => ({
        changeType,
        rule: ['none', 'all', 'any'][i],
        quorum: null,
        approverIds: [],
        approverTeamId: null,
        effectiveApproverIds: [],
        isDefault: true,
        version: 0,
        updatedAt: null
      })),
      nextCursor: null
    })
    expect(await policyFor(t.db, 'normal')).toMatchObject({ rule: 'all', approverIds: [], isDefault: true })
  })

  it('sets a policy with named approvers and a team; effective approvers are the deduplicated union', async () => {
    const res = await put('normal', {
      rule: 'quorum',
      quorum: 3,
      approverIds: [managerA.id, managerB.id],
      approverTeamId: teamId
    })
    expect(res.statusCode, res.body).toBe(200)
    const expected = [managerA.id, managerB.id, memberTech.id].sort()
    expect(res.json()).toMatchObject({
      changeType: 'normal',
      rule: 'quorum',
      quorum: 3,
      approverIds: [managerA.id, managerB.id],
      approverTeamId: teamId,
      effectiveApproverIds: expected,
      isDefault: false
    })
    const policy = await policyFor(t.db, 'normal')
    expect(await approversOf(t.db, policy)).toEqual(expected)
    // A member disabled later drops out of the effective approvers
    await t.edit(`/api/v1/users/${memberTech.id}`, { body: { active: false } })
    expect(await approversOf(t.db, policy)).toEqual([managerA.id, managerB.id].sort())
    await t.edit(`/api/v1/users/${memberTech.id}`, { body: { active: true } })

    const audit = await auditOf(t, 'change_approval_policy', policyAuditId('normal'))
    expect(audit.map(a => a.action)).toEqual(['created'])
    expect(audit[0]!.changes).toEqual([
      { field: 'rule', old: 'all', new: 'quorum' },
      { field: 'quorum', old: null, new: 3 },
      { field: 'approverIds', old: [], new: [managerA.id, managerB.id] },
      { field: 'approverTeamId', old: null, new: teamId }
    ])
    expect((await put('normal', { rule: 'any', approverIds: [managerB.id] })).statusCode).toBe(200)
    const again = await auditOf(t, 'change_approval_policy', policyAuditId('normal'))
    expect(again.map(a => a.action)).toEqual(['created', 'updated'])
    const standard = await put('standard', { rule: 'none' })
    expect(standard.json()).toMatchObject({ rule: 'none', approverIds: [], effectiveApproverIds: [] })
  })

  it('refuses bad policies naming the field', async () => {
    const cases: [string, Record<string, unknown>, number, string][] = [
      ['normal', { rule: 'quorum', approverIds: [managerA.id] }, 422, 'quorum'],
      ['normal', { rule: 'any', quorum: 1, approverIds: [managerA.id] }, 422, 'quorum'],
      ['normal', { rule: 'quorum', quorum: 4, approverIds: [managerA.id], approverTeamId: teamId }, 422, 'quorum'],
      ['normal', { rule: 'quorum', quorum: 0, approverIds: [managerA.id] }, 400, 'quorum'],
      ['normal', { rule: 'all' }, 422, 'approverIds'],
      ['normal', { rule: 'all', approverIds: [NOWHERE] }, 422, 'approverIds.0'],
      ['normal', { rule: 'all', approverIds: [managerA.id, disabled.id] }, 422, 'approverIds.1'],
      ['normal', { rule: 'all', approverIds: [customer.id] }, 422, 'approverIds.0'],
      ['normal', { rule: 'all', approverIds: [managerA.id], approverTeamId: NOWHERE }, 422, 'approverTeamId'],
      ['normal', { rule: 'all', approverIds: [managerA.id, managerA.id] }, 400, 'approverIds'],
      ['normal', { rule: 'majority' }, 400, 'rule'],
      ['normal', { approverIds: [] }, 400, 'rule'],
      ['routine', { rule: 'none' }, 400, 'type']
    ]
    for (const [type, body, status, field] of cases) {
      expect(fieldsOf(expectProblem(await put(type, body), status)), JSON.stringify(body)).toContain(field)
    }
    // Quorum counts the team: 2 named + 1 more member = 3 possible
    expect(
      (
        await put('emergency', {
          rule: 'quorum',
          quorum: 3,
          approverIds: [managerA.id, managerB.id],
          approverTeamId: teamId
        })
      ).statusCode
    ).toBe(200)
  })

  it('staff read, customers do not; only admins write', async () => {
    expect((await t.api('GET', '/api/v1/change-approval-policies', { token: managerA.token })).statusCode).toBe(200)
    expect((await t.api('GET', '/api/v1/change-approval-policies/normal', { token: managerA.token })).statusCode).toBe(
      200
    )
    expectProblem(await t.api('GET', '/api/v1/change-approval-policies', { token: customer.token }), 403)
    expectProblem(await put('normal', { rule: 'any', approverIds: [managerA.id] }, managerA.token), 403)
  })

  it('answers the same over GraphQL, every field included', async () => {
    const { version } = (await t.gql('{ changeApprovalPolicy(changeType: normal) { version } }')).body.data!
      .changeApprovalPolicy
    const set = await t.gql(
      `mutation($i: SetChangeApprovalPolicyInput!, $v: Int) { setChangeApprovalPolicy(changeType: normal, input: $i, version: $v) ${all('ChangeApprovalPolicy')} }`,
      { i: { rule: 'quorum', quorum: 2, approverIds: [managerB.id], approverTeamId: teamId }, v: version }
    )
    expect(set.body.errors).toBeUndefined()
    const policy = set.body.data!.setChangeApprovalPolicy
    expect(shapeProblems(schema, 'ChangeApprovalPolicy', policy, { strict: true, allowNull })).toEqual([])
    expect(policy.approvers.map((u: { id: string }) => u.id)).toEqual([managerB.id])
    expect(policy.approverTeam.id).toBe(teamId)
    expect(policy.effectiveApprovers.map((u: { id: string }) => u.id)).toEqual(
      [managerA.id, managerB.id, memberTech.id].sort()
    )

    const list = await t.gql(`{ changeApprovalPolicies ${all('ChangeApprovalPolicy')} }`)
    expect(list.body.data!.changeApprovalPolicies.map((p: { changeType: string }) => p.changeType)).toEqual([
      'standard',
      'normal',
      'emergency'
    ])
    expect(list.body.data!.changeApprovalPolicies[1]).toEqual(policy)
    const rest = (await t.api('GET', '/api/v1/change-approval-policies/normal')).json()
    expect(rest).toMatchObject({ rule: 'quorum', quorum: 2, effectiveApproverIds: policy.effectiveApproverIds })

    const bad = await t.gql(
      'mutation { setChangeApprovalPolicy(changeType: normal, input: { rule: quorum }) { rule } }'
    )
    errorWith(bad.body, 'VALIDATION_FAILED')
    expect(fields(bad.body)).toEqual(['quorum'])
    const badType = await t.gql('{ changeApprovalPolicy(changeType: routine) { rule } }')
    expect(errorWith(badType.body, 'GRAPHQL_VALIDATION_FAILED').message).toMatch(
      /"routine" does not exist in "ChangeType"/
    )
    const badId = await t.gql(
      'mutation { setChangeApprovalPolicy(changeType: normal, input: { rule: any, approverIds: ["x"] }) { rule } }'
    )
    expect(fields(badId.body)).toEqual(['input.approverIds.0'])
    errorWith((await t.gql('{ changeApprovalPolicies { rule } }', {}, customer.token)).body, 'FORBIDDEN')
    const denied = await t.gql(
      'mutation { setChangeApprovalPolicy(changeType: standard, input: { rule: none }) { rule } }',
      {},
      managerA.token
    )
    errorWith(denied.body, 'FORBIDDEN')
  })
})
