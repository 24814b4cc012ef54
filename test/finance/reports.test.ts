import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeUser, suffix } from '../helpers/factories.js'
import { loadSchema, selectAll, shapeProblems } from '../helpers/graphql.js'
import { expectProblem, fieldsOf } from '../helpers/problem.js'

type Json = Record<string, any>

/** RFC 4180 back into rows of named cells (the report cells here hold no quotes or commas). */
function parseCsv(text: string): Record<string, string>[] {
  expect(text.endsWith('\r\n')).toBe(true)
  const [head, ...lines] = text.slice(0, -2).split('\r\n')
  const names = head!.split(',')
  return lines.map(line => Object.fromEntries(line.split(',').map((v, i) => [names[i]!, v])))
}

/**
 * A small CMDB, every figure worked by hand over January-March 2026 (31 + 28 + 31 days), EUR the
 * reporting currency:
 *
 *   svcA --depends_on--> appA --runs_on--> storage --runs_on--> nodeX <--depends_on--> nodeY  (a cycle)
 *   svcB --depends_on--> appB --runs_on--/
 *
 * - svcA: support 62/month from 17 Jan to 14 Feb: Jan 62*15/31 = 30, Feb 62*14/28 = 31 → own 61.00
 * - appA: bought 20 Nov 2025 for 1300, residual 100, over 4 months: 300/month Nov, Dec, Jan, Feb →
 *   in range Jan + Feb = 600.00 (the depreciation ends mid-range)
 * - appB: licence 100 USD/month; USD rate 0.9 from 2025-01-01, 0.8 from 2026-02-10 (the rate of each
 *   month's first day): 90 + 90 + 80 = 260.00
 * - storage: hosting 300/month → 900.00; nodeY: power 60/month → 180.00; nodeX costs nothing
 *
 * even: storage's CIs above are appA and appB (1/2 each); nodeX's are storage and nodeY (1/2 each);
 * nodeY's is nodeX (1). Each service reaches nodeY via storage → nodeX → nodeY: 1/2 * 1/2 * 1 = 1/4,
 * 180/4 = 45 (the walk stops at nodeX again: the half nodeY routes back into the cycle is nobody's).
 *   svcA shared = 600 + 450 + 45 = 1095.00, cost 1156.00; svcB shared = 260 + 450 + 45 = 755.00
 * usage (users: appA 3, appB 1; CIs without it split evenly): storage 3/4 to appA, 1/4 to appB;
 *   svcA shared = 600 + 675 + 180 * 3/4 * 1/2 = 1342.50, cost 1403.50
 *   svcB shared = 260 + 225 + 180 * 1/4 * 1/2 = 507.50
 */
describe('finance reports: cost per service, per class, per cost centre', () => {
  let t: TestApp
  let finance: { id: string; token: string }
  let technician: { id: string; token: string }
  const ids: Record<string, string> = {}
  const centres: Record<string, string> = {}
  let appClass = ''

  const ok = async (method: string, url: string, body: Json) => {
    const res = await t.api(method as 'POST', url, { body })
    expect(res.statusCode, res.body).toBe(201)
    return res.json() as Json
  }

  beforeAll(async () => {
    t = await buildTestApp()
    finance = await makeUser(t, ['finance'])
    technician = await makeUser(t, ['technician'])
    const s = suffix()
    centres.grp = (await ok('POST', '/api/v1/cost-centres', { code: `R-${s}`, name: 'Group' })).id
    centres.it = (await ok('POST', '/api/v1/cost-centres', { code: `R-${s}-IT`, name: 'IT', parentId: centres.grp })).id
    centres.infra = (
      await ok('POST', '/api/v1/cost-centres', { code: `R-${s}-IT-INFRA`, name: 'Infra', parentId: centres.it })
    ).id
    const classes = (await t.api('GET', '/api/v1/ci-classes?limit=100')).json().items as Json[]
    const application = classes.find(c => c.name === 'application')!
    appClass = `costapp_${s}`
    await ok('POST', '/api/v1/ci-classes', {
      name: appClass,
      label: 'Costed app',
      parentId: application.id,
      attributes: [{ name: 'users', type: 'number' }]
    })
    const ci = async (key: string, body: Json) => {
      ids[key] = (await ok('POST', '/api/v1/cis', { name: `${key}-${s}`, ...body })).id
    }
    await ci('svcA', { class: 'business_service', costCentreId: centres.grp })
    await ci('svcB', { class: 'business_service' })
    await ci('appA', { class: appClass, attributes: { users: 3 }, costCentreId: centres.it })
    await ci('appB', { class: appClass, attributes: { users: 1 } })
    await ci('storage', { class: 'generic', costCentreId: centres.infra })
    await ci('nodeX', { class: 'generic' })
    await ci('nodeY', { class: 'generic' })
    const relate = (from: string, to: string, type: string) =>
      ok('POST', `/api/v1/cis/${ids[from]}/relationships`, { targetId: ids[to], type })
    await relate('svcA', 'appA', 'depends_on')
    await relate('svcB', 'appB', 'depends_on')
    await relate('appA', 'storage', 'runs_on')
    await relate('appB', 'storage', 'runs_on')
    await relate('storage', 'nodeX', 'runs_on')
    await relate('nodeX', 'nodeY', 'depends_on')
    await relate('nodeY', 'nodeX', 'depends_on')

    await ok('POST', '/api/v1/exchange-rates', { currency: 'USD', validFrom: '2025-01-01', rate: '0.9' })
    await ok('POST', '/api/v1/exchange-rates', { currency: 'USD', validFrom: '2026-02-10', rate: '0.8' })
    const recurring = (amount: string, startDate: string, extra: Json = {}) => ({
      kind: 'recurring',
      category: 'support',
      amount,
      period: 'month',
      startDate,
      ...extra
    })
    await ok('POST', `/api/v1/cis/${ids.svcA}/costs`, recurring('62', '2026-01-17', { endDate: '2026-02-14' }))
    await ok('POST', `/api/v1/cis/${ids.appA}/costs`, {
      kind: 'capital',
      category: 'hardware',
      amount: '1300',
      residualValue: '100',
      purchaseDate: '2025-11-20',
      depreciationMonths: 4
    })
    await ok(
      'POST',
      `/api/v1/cis/${ids.appB}/costs`,
      recurring('100', '2025-06-01', { currency: 'USD', category: 'licence' })
    )
    await ok('POST', `/api/v1/cis/${ids.storage}/costs`, recurring('300', '2025-01-01', { category: 'hosting' }))
    await ok('POST', `/api/v1/cis/${ids.nodeY}/costs`, recurring('60', '2025-01-01', { category: 'power' }))
  })
  afterAll(async () => t?.close())

  const mine = (items: Json[], key: string, wanted: string[]) =>
    Object.fromEntries(items.filter(r => wanted.includes(r[key])).map(r => [r[key], r]))

  it('splits shared storage evenly, follows a cycle once, depreciates and converts', async () => {
    const res = await t.api('GET', '/api/v1/reports/finance/cost-per-service?from=2026-01&to=2026-03', {
      token: finance.token
    })
    expect(res.statusCode, res.body).toBe(200)
    const report = res.json()
    expect(report).toMatchObject({ from: '2026-01', to: '2026-03', currency: 'EUR' })
    const rows = mine(report.items, 'serviceId', [ids.svcA!, ids.svcB!])
    expect(rows[ids.svcA!]).toMatchObject({
      ownCost: '61.00',
      sharedCost: '1095.00',
      cost: '1156.00',
      ciCount: 4,
      costCentreId: centres.grp
    })
    expect(rows[ids.svcB!]).toMatchObject({ ownCost: '0.00', sharedCost: '755.00', cost: '755.00', ciCount: 4 })
  })

  it('splits by a usage attribute', async () => {
    const res = await t.api(
      'GET',
      '/api/v1/reports/finance/cost-per-service?from=2026-01&to=2026-03&split=usage&usageAttribute=users',
      { token: finance.token }
    )
    expect(res.statusCode, res.body).toBe(200)
    const rows = mine(res.json().items, 'serviceId', [ids.svcA!, ids.svcB!])
    expect(rows[ids.svcA!]).toMatchObject({ sharedCost: '1342.50', cost: '1403.50' })
    expect(rows[ids.svcB!]).toMatchObject({ sharedCost: '507.50', cost: '507.50' })
  })

  it('answers the same rows as CSV, parsed back', async () => {
    const res = await t.api('GET', '/api/v1/reports/finance/cost-per-service?from=2026-01&to=2026-03', {
      token: finance.token,
      headers: { accept: 'text/csv' }
    })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.headers['content-type']).toMatch(/^text\/csv/)
    const rows = parseCsv(res.body).filter(r => r.service_id === ids.svcA)
    expect(rows).toEqual([
      {
        service_id: ids.svcA,
        name: expect.stringMatching(/^svcA-/),
        class: 'business_service',
        cost_centre_id: centres.grp,
        own_cost: '61.00',
        shared_cost: '1095.00',
        cost: '1156.00',
        ci_count: '4'
      }
    ])
  })

  it('totals direct costs per CI class (JSON and CSV)', async () => {
    const url = '/api/v1/reports/finance/cost-per-class?from=2026-01&to=2026-03'
    const json = (await t.api('GET', url, { token: finance.token })).json()
    // appA 600 + appB 260
    expect(json.items.find((r: Json) => r.ciClass === appClass)).toEqual({
      ciClass: appClass,
      cost: '860.00',
      ciCount: 2
    })
    const csv = await t.api('GET', `${url}&format=csv`, { token: finance.token })
    expect(parseCsv(csv.body).find(r => r.class === appClass)).toEqual({
      class: appClass,
      cost: '860.00',
      ci_count: '2'
    })
  })

  it('rolls cost centres up a three-level tree', async () => {
    const res = await t.api('GET', '/api/v1/reports/finance/cost-per-cost-centre?from=2026-01&to=2026-03', {
      token: finance.token
    })
    expect(res.statusCode, res.body).toBe(200)
    const rows = mine(res.json().items, 'costCentreId', Object.values(centres))
    // infra: storage 900; it: appA 600 + infra; group: svcA 61 + it
    expect(rows[centres.infra!]).toMatchObject({ ownCost: '900.00', cost: '900.00', parentId: centres.it })
    expect(rows[centres.it!]).toMatchObject({ ownCost: '600.00', cost: '1500.00' })
    expect(rows[centres.grp!]).toMatchObject({ ownCost: '61.00', cost: '1561.00', parentId: null })
    const csv = await t.api('GET', '/api/v1/reports/finance/cost-per-cost-centre?from=2026-01&to=2026-03', {
      token: finance.token,
      headers: { accept: 'text/csv' }
    })
    expect(parseCsv(csv.body).find(r => r.cost_centre_id === centres.grp)).toMatchObject({
      own_cost: '61.00',
      cost: '1561.00',
      parent_id: ''
    })
  })

  it('sets budgets against the rolled-up actual of their period (JSON and CSV)', async () => {
    // it, January: appA 300 + storage 300 = 600 against 1000 → 400; infra, Q1 in USD: 1000 * 0.9 (the
    // rate on 1 January) = 900 against storage 3 * 300 = 900 → 0
    await ok('POST', '/api/v1/budgets', {
      costCentreId: centres.it,
      period: 'month',
      periodStart: '2026-01-01',
      amount: '1000'
    })
    await ok('POST', '/api/v1/budgets', {
      costCentreId: centres.infra,
      period: 'quarter',
      periodStart: '2026-01-01',
      amount: '1000',
      currency: 'USD'
    })
    const url = '/api/v1/reports/finance/budget-against-actual?from=2026-01&to=2026-01'
    const res = await t.api('GET', url, { token: finance.token })
    expect(res.statusCode, res.body).toBe(200)
    const rows = mine(res.json().items, 'costCentreId', [centres.it!, centres.infra!])
    expect(rows[centres.it!]).toMatchObject({
      period: 'month',
      budget: '1000.00',
      actual: '600.00',
      variance: '400.00'
    })
    expect(rows[centres.infra!]).toMatchObject({
      period: 'quarter',
      budget: '900.00',
      actual: '900.00',
      variance: '0.00'
    })
    const csv = await t.api('GET', url, { token: finance.token, headers: { accept: 'text/csv' } })
    expect(parseCsv(csv.body).find(r => r.cost_centre_id === centres.it)).toMatchObject({
      period_start: '2026-01-01',
      budget: '1000.00',
      actual: '600.00',
      variance: '400.00'
    })
  })

  it('refuses bad input (400 naming the field) and technicians (403)', async () => {
    const base = '/api/v1/reports/finance/cost-per-service'
    const p1 = expectProblem(await t.api('GET', `${base}?from=2026-03&to=2026-01`, { token: finance.token }), 400)
    expect(fieldsOf(p1)).toEqual(['to'])
    const p2 = expectProblem(
      await t.api('GET', `${base}?from=2026-01&to=2026-03&split=usage`, { token: finance.token }),
      400
    )
    expect(fieldsOf(p2)).toEqual(['usageAttribute'])
    const p3 = expectProblem(await t.api('GET', `${base}?from=2026-13&to=2026-14`, { token: finance.token }), 400)
    expect(fieldsOf(p3)).toContain('from')
    expectProblem(await t.api('GET', `${base}?from=2026-01&to=2026-03`, { token: technician.token }), 403)
  })

  it('answers the same over GraphQL, with cost-centre parent and children', async () => {
    const { status, body } = await t.gql(
      `query($from: String!, $to: String!) {
        costPerService(from: $from, to: $to, split: "usage", usageAttribute: "users") { currency items { serviceId cost } }
        costPerCostCentre(from: $from, to: $to) { items { costCentreId cost } }
        costCentre(id: "${centres.it}") { parent { id } children { id } }
      }`,
      { from: '2026-01', to: '2026-03' },
      finance.token
    )
    expect(status).toBe(200)
    expect(body.errors).toBeUndefined()
    const svc = mine(body.data!.costPerService.items, 'serviceId', [ids.svcA!])
    expect(svc[ids.svcA!]).toEqual({ serviceId: ids.svcA, cost: '1403.50' })
    expect(mine(body.data!.costPerCostCentre.items, 'costCentreId', [centres.it!])[centres.it!].cost).toBe('1500.00')
    expect(body.data!.costCentre).toEqual({ parent: { id: centres.grp }, children: [{ id: centres.infra }] })
    const bad = await t.gql('{ costPerClass(from: "2026-05", to: "2026-01") { currency } }', {}, finance.token)
    expect(bad.body.errors![0].extensions).toMatchObject({ code: 'VALIDATION_FAILED' })
    expect(bad.body.errors![0].extensions.errors.map((e: Json) => e.field)).toEqual(['to'])
  })

  it('answers every field of every report over GraphQL', async () => {
    const schema = loadSchema()
    const reports = [
      ['costPerService', 'ServiceCostReport'],
      ['costPerClass', 'ClassCostReport'],
      ['costPerCostCentre', 'CostCentreCostReport'],
      ['budgetAgainstActual', 'BudgetActualReport']
    ] as const
    const { body } = await t.gql(
      `query($from: String!, $to: String!) { ${reports
        .map(([field, type]) => `${field}(from: $from, to: $to) ${selectAll(schema, type)}`)
        .join(' ')} }`,
      { from: '2026-01', to: '2026-03' },
      finance.token
    )
    expect(body.errors).toBeUndefined()
    // Roots have no parent; a service CI may name no cost centre
    // Read from the primary (no DATABASE_READ_URL): no replica lag to tell
    const allowNull = [
      'CostCentreCostRow.parentId',
      'ServiceCostRow.costCentreId',
      ...['ServiceCostReport', 'ClassCostReport', 'CostCentreCostReport', 'BudgetActualReport'].map(
        type => `${type}.replicaLagSeconds`
      )
    ]
    for (const [field, type] of reports) {
      expect(body.data![field].items.length, field).toBeGreaterThan(0)
      expect(shapeProblems(schema, type, body.data![field], { strict: true, allowNull })).toEqual([])
    }
  })
})
