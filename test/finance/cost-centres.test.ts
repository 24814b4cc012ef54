import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { auditOf } from '../helpers/audit.js'
import { makeOrganisation, makeUser, suffix } from '../helpers/factories.js'
import { codes, fields, loadSchema, selectAll, shapeProblems } from '../helpers/graphql.js'
import { expectProblem, fieldsOf } from '../helpers/problem.js'

type Json = Record<string, any>

describe('cost centres and budgets', () => {
  let t: TestApp
  let finance: { id: string; token: string }
  let technician: { id: string; token: string }
  // A three-level tree: group > it > infra
  let group: Json
  let it_: Json
  let infra: Json
  const ghost = '00000000-0000-7000-8000-000000000000'

  async function centre(body: Json, token?: string) {
    const res = await t.api('POST', '/api/v1/cost-centres', {
      body: { name: `CC ${suffix()}`, ...body },
      ...(token ? { token } : {})
    })
    expect(res.statusCode, res.body).toBe(201)
    return res.json() as Json
  }

  beforeAll(async () => {
    t = await buildTestApp()
    finance = await makeUser(t, ['finance'])
    technician = await makeUser(t, ['technician'])
    group = await centre({ code: 'GRP' }, finance.token)
    it_ = await centre({ code: 'GRP-IT', parentId: group.id }, finance.token)
    infra = await centre({ code: 'GRP-IT-INFRA', parentId: it_.id }, finance.token)
  })
  afterAll(async () => t?.close())

  it('keeps a three-level tree, audited, readable by finance and refused to technicians', async () => {
    expect(infra).toMatchObject({ code: 'GRP-IT-INFRA', parentId: it_.id, organisationId: null, version: 1 })
    const res = await t.api('GET', `/api/v1/cost-centres?parentId=${it_.id}`, { token: finance.token })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json().items.map((c: Json) => c.code)).toEqual(['GRP-IT-INFRA'])
    const roots = (await t.api('GET', '/api/v1/cost-centres?parentId=root', { token: finance.token })).json()
    expect(roots.items.map((c: Json) => c.code)).toEqual(['GRP'])
    const audit = await auditOf(t, 'cost_centre', infra.id)
    expect(audit.map(a => a.action)).toEqual(['created'])
    expectProblem(await t.api('GET', '/api/v1/cost-centres', { token: technician.token }), 403)
    expectProblem(
      await t.api('POST', '/api/v1/cost-centres', { token: technician.token, body: { code: 'X', name: 'X' } }),
      403
    )
  })

  it('refuses a move that would make a cycle (409 naming parentId), a missing parent (422) and a taken code (409)', async () => {
    const cyc = await t.edit(`/api/v1/cost-centres/${group.id}`, { body: { parentId: infra.id } })
    const problem = expectProblem(cyc, 409)
    expect(fieldsOf(problem)).toEqual(['parentId'])
    expect(problem.errors![0]!.message).toContain('GRP-IT-INFRA')
    expect(
      fieldsOf(expectProblem(await t.edit(`/api/v1/cost-centres/${group.id}`, { body: { parentId: group.id } }), 409))
    ).toEqual(['parentId'])
    expect(
      fieldsOf(
        expectProblem(
          await t.api('POST', '/api/v1/cost-centres', { body: { code: 'NEW', name: 'N', parentId: ghost } }),
          422
        )
      )
    ).toEqual(['parentId'])
    expect(
      fieldsOf(
        expectProblem(await t.api('POST', '/api/v1/cost-centres', { body: { code: 'grp', name: 'Again' } }), 409)
      )
    ).toEqual(['code'])
    // The tree is as it was
    expect((await t.api('GET', `/api/v1/cost-centres/${group.id}`)).json().parentId).toBeNull()
    // A legal move: infra to the root and back, audited
    const moved = await t.edit(`/api/v1/cost-centres/${infra.id}`, { body: { parentId: null } })
    expect(moved.statusCode, moved.body).toBe(200)
    const back = await t.edit(`/api/v1/cost-centres/${infra.id}`, { body: { parentId: it_.id } })
    expect(back.json()).toMatchObject({ parentId: it_.id, version: 3 })
    const audit = await auditOf(t, 'cost_centre', infra.id)
    expect(audit.map(a => a.action)).toEqual(['created', 'updated', 'updated'])
  })

  it('makes an organisation unit a cost centre, at most once', async () => {
    const org = await makeOrganisation(t)
    const unit = await centre({ code: `ORG-${suffix()}`, organisationId: org.id })
    expect(unit.organisationId).toBe(org.id)
    const again = await t.api('POST', '/api/v1/cost-centres', {
      body: { code: `ORG-${suffix()}`, name: 'x', organisationId: org.id }
    })
    expect(fieldsOf(expectProblem(again, 409))).toEqual(['organisationId'])
    const none = await t.api('POST', '/api/v1/cost-centres', {
      body: { code: `ORG-${suffix()}`, name: 'x', organisationId: ghost }
    })
    expect(fieldsOf(expectProblem(none, 422))).toEqual(['organisationId'])
  })

  it('lets CIs, services and organisations name a cost centre: checked (422) and audited', async () => {
    const ci = await t.api('POST', '/api/v1/cis', { body: { name: `srv-${suffix()}`, costCentreId: infra.id } })
    expect(ci.statusCode, ci.body).toBe(201)
    expect(ci.json().costCentreId).toBe(infra.id)
    const badCi = await t.api('POST', '/api/v1/cis', { body: { name: `srv-${suffix()}`, costCentreId: ghost } })
    expect(fieldsOf(expectProblem(badCi, 422))).toEqual(['costCentreId'])
    const ciAudit = await auditOf(t, 'ci', ci.json().id)
    expect(ciAudit[0]!.changes).toEqual(expect.arrayContaining([{ field: 'costCentreId', old: null, new: infra.id }]))

    const svc = await t.api('POST', '/api/v1/services', { body: { name: `Mail ${suffix()}`, costCentreId: it_.id } })
    expect(svc.statusCode, svc.body).toBe(201)
    expect(svc.json().costCentreId).toBe(it_.id)
    const badSvc = await t.api('POST', '/api/v1/services', { body: { name: `Mail ${suffix()}`, costCentreId: ghost } })
    expect(fieldsOf(expectProblem(badSvc, 422))).toEqual(['costCentreId'])
    const cleared = await t.edit(`/api/v1/services/${svc.json().id}`, { body: { costCentreId: null } })
    expect(cleared.json().costCentreId).toBeNull()
    const svcAudit = await auditOf(t, 'service', svc.json().id)
    expect(svcAudit.at(-1)!.changes).toEqual([{ field: 'costCentreId', old: it_.id, new: null }])

    const org = await t.api('POST', '/api/v1/organisations', {
      body: { name: `Org ${suffix()}`, costCentreId: group.id }
    })
    expect(org.statusCode, org.body).toBe(201)
    expect(org.json().costCentreId).toBe(group.id)
    const badOrg = await t.api('PATCH', `/api/v1/organisations/${org.json().id}`, {
      body: { name: org.json().name, costCentreId: ghost }
    })
    expect(fieldsOf(expectProblem(badOrg, 422))).toEqual(['costCentreId'])
    const moved = await t.api('PATCH', `/api/v1/organisations/${org.json().id}`, {
      body: { name: org.json().name, costCentreId: it_.id }
    })
    expect(moved.json().costCentreId).toBe(it_.id)
    const orgAudit = await auditOf(t, 'organisation', org.json().id)
    expect(orgAudit.map(a => a.changes)).toEqual([
      [
        { field: 'name', old: null, new: org.json().name },
        { field: 'costCentreId', old: null, new: group.id }
      ],
      [{ field: 'costCentreId', old: group.id, new: it_.id }]
    ])

    // Named, a cost centre cannot go (409 naming it); a leaf nothing names can
    expectProblem(await t.api('DELETE', `/api/v1/cost-centres/${infra.id}`), 409)
    const leaf = await centre({ code: `LEAF-${suffix()}`, parentId: infra.id })
    expectProblem(await t.api('DELETE', `/api/v1/cost-centres/${infra.id}`), 409)
    expect((await t.api('DELETE', `/api/v1/cost-centres/${leaf.id}`)).statusCode).toBe(204)
    expect((await auditOf(t, 'cost_centre', leaf.id)).map(a => a.action)).toEqual(['created', 'deleted'])
  })

  it('keeps budgets per cost centre and period, as exact decimal strings', async () => {
    const post = (body: Json) => t.api('POST', '/api/v1/budgets', { body, token: finance.token })
    const month = await post({ costCentreId: infra.id, period: 'month', periodStart: '2026-03-01', amount: '1000.10' })
    expect(month.statusCode, month.body).toBe(201)
    expect(month.json()).toMatchObject({
      amount: '1000.10',
      currency: 'EUR',
      period: 'month',
      periodStart: '2026-03-01'
    })
    const quarter = await post({
      costCentreId: infra.id,
      period: 'quarter',
      periodStart: '2026-04-01',
      amount: '3000',
      currency: 'USD'
    })
    expect(quarter.json()).toMatchObject({ amount: '3000.00', currency: 'USD' })
    expect(
      fieldsOf(
        expectProblem(
          await post({ costCentreId: infra.id, period: 'quarter', periodStart: '2026-05-01', amount: '1' }),
          422
        )
      )
    ).toEqual(['periodStart'])
    expect(
      fieldsOf(
        expectProblem(
          await post({ costCentreId: infra.id, period: 'year', periodStart: '2026-04-01', amount: '1' }),
          422
        )
      )
    ).toEqual(['periodStart'])
    expect(
      fieldsOf(
        expectProblem(
          await post({ costCentreId: infra.id, period: 'month', periodStart: '2026-03-02', amount: '1' }),
          422
        )
      )
    ).toEqual(['periodStart'])
    expect(
      fieldsOf(
        expectProblem(await post({ costCentreId: ghost, period: 'month', periodStart: '2026-03-01', amount: '1' }), 422)
      )
    ).toEqual(['costCentreId'])
    // A float-looking number is not money: the schema wants a decimal string
    expectProblem(await post({ costCentreId: infra.id, period: 'month', periodStart: '2026-04-01', amount: 1.5 }), 400)
    expectProblem(
      await post({ costCentreId: infra.id, period: 'month', periodStart: '2026-04-01', amount: '1.23456' }),
      400
    )
    expect(
      fieldsOf(
        expectProblem(
          await post({ costCentreId: infra.id, period: 'month', periodStart: '2026-03-01', amount: '5' }),
          409
        )
      )
    ).toEqual(['periodStart'])
    const changed = await t.edit(`/api/v1/budgets/${month.json().id}`, {
      body: { amount: '1200.5' },
      token: finance.token
    })
    expect(changed.json()).toMatchObject({ amount: '1200.50', version: 2 })
    const same = await t.edit(`/api/v1/budgets/${month.json().id}`, {
      body: { amount: '1200.50' },
      token: finance.token
    })
    expect(same.json().version).toBe(2)
    const list = (await t.api('GET', `/api/v1/budgets?costCentreId=${infra.id}`, { token: finance.token })).json()
    expect(list.items.map((b: Json) => b.periodStart)).toEqual(['2026-03-01', '2026-04-01'])
    expect((await auditOf(t, 'budget', month.json().id)).map(a => a.action)).toEqual(['created', 'updated'])
  })

  it('answers the same over GraphQL, errors naming the field', async () => {
    const created = await t.gql(
      'mutation($input: CreateCostCentreInput!) { createCostCentre(input: $input) { id code parentId version } }',
      { input: { code: `GQL-${suffix()}`, name: 'GraphQL', parentId: infra.id } },
      finance.token
    )
    expect(created.body.errors).toBeUndefined()
    const id = created.body.data!.createCostCentre.id
    const cycle = await t.gql(
      'mutation($id: ID!, $input: UpdateCostCentreInput!, $v: Int) { updateCostCentre(id: $id, input: $input, version: $v) { id } }',
      {
        id: group.id,
        input: { parentId: id },
        v: (await t.api('GET', `/api/v1/cost-centres/${group.id}`)).json().version
      }
    )
    expect(codes(cycle.body)).toEqual(['CONFLICT'])
    expect(fields(cycle.body)).toEqual(['parentId'])
    const page = await t.gql(
      'query($p: ID) { costCentres(parentId: $p) { edges { node { code } } } }',
      { p: infra.id },
      finance.token
    )
    expect(page.body.data!.costCentres.edges.map((e: Json) => e.node.code)).toContain(
      created.body.data!.createCostCentre.code
    )
    const budget = await t.gql(
      'mutation($input: CreateBudgetInput!) { createBudget(input: $input) { amount currency period } }',
      { input: { costCentreId: id, period: 'year', periodStart: '2027-01-01', amount: '12000.00' } },
      finance.token
    )
    expect(budget.body.data!.createBudget).toEqual({ amount: '12000.00', currency: 'EUR', period: 'year' })
    // Every field of every finance type answers, a child with an organisation unit and a budget
    const schema = loadSchema()
    const org = await makeOrganisation(t)
    await t.edit(`/api/v1/cost-centres/${id}`, { body: { organisationId: org.id } })
    const every = await t.gql(
      `query($p: ID, $c: ID) { costCentres(parentId: $p) ${selectAll(schema, 'CostCentreConnection')}
        budgets(costCentreId: $c) ${selectAll(schema, 'BudgetConnection')} }`,
      { p: infra.id, c: id },
      finance.token
    )
    expect(every.body.errors).toBeUndefined()
    expect(every.body.data!.costCentres.edges.length).toBeGreaterThan(0)
    expect(every.body.data!.budgets.edges.length).toBe(1)
    const opts = { strict: true, allowNull: ['PageInfo.endCursor'] }
    expect(shapeProblems(schema, 'CostCentreConnection', every.body.data!.costCentres, opts)).toEqual([])
    expect(shapeProblems(schema, 'BudgetConnection', every.body.data!.budgets, opts)).toEqual([])

    const denied = await t.gql('{ costCentres { edges { node { id } } } }', {}, technician.token)
    expect(codes(denied.body)).toEqual(['FORBIDDEN'])
  })
})
