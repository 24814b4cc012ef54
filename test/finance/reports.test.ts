import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { auditOf } from '../helpers/audit.js'
import { makeOrganisation, makeUser, suffix } from '../helpers/factories.js'
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
 * Each service reaches every CI beneath it once (the cycle nodeX ⇄ nodeY counts each of them once):
 * svcA reaches appA, storage, nodeX, nodeY; svcB appB, storage, nodeX, nodeY. A CI splits over the
 * services reaching it.
 * even: storage 900 / 2 = 450 each, nodeY 180 / 2 = 90 each; appA and appB have one service each.
 *   svcA shared = 600 + 450 + 90 = 1140.00, cost 1201.00; svcB shared = 260 + 450 + 90 = 800.00
 * usage (the service CIs' users: svcA 3, svcB 1): storage 3/4 = 675 to svcA, 225 to svcB; nodeY 135, 45
 *   svcA shared = 600 + 675 + 135 = 1410.00, cost 1471.00; svcB shared = 260 + 225 + 45 = 530.00
 * weights (svcA 7, svcB 3 on storage; nothing else weighted): storage 630 / 270, the rest even
 *   svcA shared = 600 + 630 + 90 = 1320.00, cost 1381.00; svcB shared = 260 + 270 + 90 = 620.00
 *   then a weight 1 of svcA on nodeY alone: svcB bears none of nodeY (it has no weight there)
 *   svcA shared = 600 + 630 + 180 = 1410.00, cost 1471.00; svcB = 260 + 270 = 530.00
 */
describe('finance reports: cost per service, per class, per cost centre', () => {
  let t: TestApp
  let finance: { id: string; token: string }
  let technician: { id: string; token: string }
  const ids: Record<string, string> = {}
  const centres: Record<string, string> = {}
  let appClass = ''
  let svcClass = ''

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
    const business = classes.find(c => c.name === 'business_service')!
    svcClass = `costsvc_${s}`
    await ok('POST', '/api/v1/ci-classes', {
      name: svcClass,
      label: 'Costed service',
      parentId: business.id,
      attributes: [{ name: 'users', type: 'number' }]
    })
    const ci = async (key: string, body: Json) => {
      ids[key] = (await ok('POST', '/api/v1/cis', { name: `${key}-${s}`, ...body })).id
    }
    await ci('svcA', { class: svcClass, attributes: { users: 3 }, costCentreId: centres.grp })
    await ci('svcB', { class: svcClass, attributes: { users: 1 } })
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

  it('splits shared storage evenly, counts a cycle once, depreciates and converts', async () => {
    const res = await t.api('GET', '/api/v1/reports/finance/cost-per-service?from=2026-01&to=2026-03', {
      token: finance.token
    })
    expect(res.statusCode, res.body).toBe(200)
    const report = res.json()
    expect(report).toMatchObject({ from: '2026-01', to: '2026-03', currency: 'EUR' })
    const rows = mine(report.items, 'serviceId', [ids.svcA!, ids.svcB!])
    expect(rows[ids.svcA!]).toMatchObject({
      ownCost: '61.00',
      sharedCost: '1140.00',
      cost: '1201.00',
      ciCount: 4,
      costCentreId: centres.grp
    })
    expect(rows[ids.svcB!]).toMatchObject({ ownCost: '0.00', sharedCost: '800.00', cost: '800.00', ciCount: 4 })
  })

  it('splits by a usage attribute', async () => {
    const res = await t.api(
      'GET',
      '/api/v1/reports/finance/cost-per-service?from=2026-01&to=2026-03&split=usage&usageAttribute=users',
      { token: finance.token }
    )
    expect(res.statusCode, res.body).toBe(200)
    const rows = mine(res.json().items, 'serviceId', [ids.svcA!, ids.svcB!])
    expect(rows[ids.svcA!]).toMatchObject({ sharedCost: '1410.00', cost: '1471.00' })
    expect(rows[ids.svcB!]).toMatchObject({ sharedCost: '530.00', cost: '530.00' })
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
        class: svcClass,
        cost_centre_id: centres.grp,
        own_cost: '61.00',
        shared_cost: '1140.00',
        cost: '1201.00',
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

  it('splits by explicit weights per (service, CI), validated and audited', async () => {
    const url = '/api/v1/reports/finance/cost-per-service?from=2026-01&to=2026-03&split=weights'
    // No weights yet: every CI splits evenly, as split=even
    const before = mine((await t.api('GET', url, { token: finance.token })).json().items, 'serviceId', [ids.svcA!])
    expect(before[ids.svcA!]).toMatchObject({ sharedCost: '1140.00', cost: '1201.00' })

    const weight = async (service: string, ci: string, value: string) =>
      t.api('POST', '/api/v1/service-cost-weights', {
        token: finance.token,
        body: { serviceId: ids[service], ciId: ids[ci], weight: value }
      })
    const a = await weight('svcA', 'storage', '7')
    expect(a.statusCode, a.body).toBe(201)
    expect(a.json()).toMatchObject({ serviceId: ids.svcA, ciId: ids.storage, weight: '7.00', version: 1 })
    expect((await auditOf(t, 'service_cost_weight', a.json().id)).map(r => r.action)).toEqual(['created'])
    expect((await weight('svcB', 'storage', '3')).statusCode).toBe(201)

    const res = await t.api('GET', url, { token: finance.token })
    expect(res.statusCode, res.body).toBe(200)
    const rows = mine(res.json().items, 'serviceId', [ids.svcA!, ids.svcB!])
    expect(rows[ids.svcA!]).toMatchObject({ sharedCost: '1320.00', cost: '1381.00', ciCount: 4 })
    expect(rows[ids.svcB!]).toMatchObject({ sharedCost: '620.00', cost: '620.00', ciCount: 4 })

    // svcA alone weights nodeY: svcB, reaching it without a weight, bears none of it
    const y = await weight('svcA', 'nodeY', '1')
    expect(y.statusCode, y.body).toBe(201)
    const after = mine((await t.api('GET', url, { token: finance.token })).json().items, 'serviceId', [
      ids.svcA!,
      ids.svcB!
    ])
    expect(after[ids.svcA!]).toMatchObject({ sharedCost: '1410.00', cost: '1471.00' })
    expect(after[ids.svcB!]).toMatchObject({ sharedCost: '530.00', cost: '530.00' })

    // A weight is above 0, names a service CI and a CI, once per pair
    expect(fieldsOf(expectProblem(await weight('svcA', 'appA', '0'), 422))).toEqual(['weight'])
    expect(fieldsOf(expectProblem(await weight('svcA', 'appA', '0.0000'), 422))).toEqual(['weight'])
    expect(fieldsOf(expectProblem(await weight('svcA', 'appA', '-1'), 400))).toContain('weight')
    expect(fieldsOf(expectProblem(await weight('appA', 'storage', '1'), 422))).toEqual(['serviceId'])
    expect(fieldsOf(expectProblem(await weight('svcA', 'svcA', '1'), 422))).toEqual(['ciId'])
    expect(fieldsOf(expectProblem(await weight('svcA', 'storage', '2'), 409))).toEqual(['ciId'])
    const zero = await t.api('PATCH', `/api/v1/service-cost-weights/${a.json().id}`, {
      token: finance.token,
      body: { weight: '0', version: 1 }
    })
    expect(fieldsOf(expectProblem(zero, 422))).toEqual(['weight'])
    expectProblem(
      await t.api('POST', '/api/v1/service-cost-weights', {
        token: technician.token,
        body: { serviceId: ids.svcA, ciId: ids.nodeX, weight: '1' }
      }),
      403
    )

    // Withdrawn: nodeY splits evenly again
    const gone = await t.api('DELETE', `/api/v1/service-cost-weights/${y.json().id}`, {
      token: finance.token,
      headers: { 'if-match': '"1"' }
    })
    expect(gone.statusCode, gone.body).toBe(204)
    expect((await auditOf(t, 'service_cost_weight', y.json().id)).map(r => r.action)).toEqual(['created', 'deleted'])
    const restored = mine((await t.api('GET', url, { token: finance.token })).json().items, 'serviceId', [ids.svcB!])
    expect(restored[ids.svcB!]).toMatchObject({ cost: '620.00' })
  })

  it('answers cost, revenue and margin per service (JSON and CSV)', async () => {
    // svcA: flat 500/month → 1500.00 against 1201.00 → 299.00, 299 / 1500 = 19.93 %
    // svcB: 100 USD per user per month, users 1: 90 + 90 + 80 = 260.00 against 800.00 → -540.00,
    //   -540 / 260 = -207.69 %
    const price = (body: Json) => t.api('POST', '/api/v1/service-prices', { token: finance.token, body })
    const flat = await price({ serviceId: ids.svcA, basis: 'flat', amount: '500' })
    expect(flat.statusCode, flat.body).toBe(201)
    expect(flat.json()).toMatchObject({ basis: 'flat', amount: '500.00', currency: 'EUR', quantityAttribute: null })
    expect((await auditOf(t, 'service_price', flat.json().id)).map(r => r.action)).toEqual(['created'])
    const perUser = await price({
      serviceId: ids.svcB,
      basis: 'per_user',
      amount: '100',
      currency: 'USD',
      quantityAttribute: 'users'
    })
    expect(perUser.statusCode, perUser.body).toBe(201)
    // Both are in force always (no validity): one price of a service on any day
    expect(fieldsOf(expectProblem(await price({ serviceId: ids.svcA, basis: 'flat', amount: '1' }), 409))).toEqual([
      'validFrom'
    ])
    expect(fieldsOf(expectProblem(await price({ serviceId: ids.appA, basis: 'flat', amount: '1' }), 422))).toEqual([
      'serviceId'
    ])
    expect(fieldsOf(expectProblem(await price({ serviceId: ids.svcA, basis: 'per_unit', amount: '1' }), 422))).toEqual([
      'quantityAttribute'
    ])

    const url = '/api/v1/reports/finance/service-margin?from=2026-01&to=2026-03'
    const res = await t.api('GET', url, { token: finance.token })
    expect(res.statusCode, res.body).toBe(200)
    const rows = mine(res.json().items, 'serviceId', [ids.svcA!, ids.svcB!])
    expect(rows[ids.svcA!]).toEqual({
      serviceId: ids.svcA,
      name: expect.stringMatching(/^svcA-/),
      basis: 'flat',
      quantity: '1.00',
      cost: '1201.00',
      revenue: '1500.00',
      margin: '299.00',
      marginPercent: '19.93'
    })
    expect(rows[ids.svcB!]).toMatchObject({
      basis: 'per_user',
      quantity: '1.00',
      cost: '800.00',
      revenue: '260.00',
      margin: '-540.00',
      marginPercent: '-207.69'
    })
    const csv = await t.api('GET', url, { token: finance.token, headers: { accept: 'text/csv' } })
    expect(parseCsv(csv.body).find(r => r.service_id === ids.svcB)).toMatchObject({
      basis: 'per_user',
      cost: '800.00',
      revenue: '260.00',
      margin: '-540.00',
      margin_percent: '-207.69'
    })
    // split=weights moves the cost, not the revenue: svcB 620.00 → margin -360.00
    const weighted = await t.api('GET', `${url}&split=weights`, { token: finance.token })
    expect(mine(weighted.json().items, 'serviceId', [ids.svcB!])[ids.svcB!]).toMatchObject({
      cost: '620.00',
      revenue: '260.00',
      margin: '-360.00'
    })
    expectProblem(await t.api('GET', url, { token: technician.token }), 403)
  })

  it('charges consuming organisations by subscription or usage; customers only when enabled', async () => {
    const url = '/api/v1/reports/finance/chargeback?from=2026-01&to=2026-03'
    // Nobody consumes anything yet: every service's cost is unallocated, 1201 + 800
    const empty = (await t.api('GET', url, { token: finance.token })).json()
    expect(empty).toMatchObject({ by: 'subscription', items: [], organisations: [], unallocated: '2001.00' })

    const p = await makeOrganisation(t, `P ${suffix()}`)
    const q = await makeOrganisation(t, `Q ${suffix()}`)
    const pCentre = (await t.api('GET', `/api/v1/organisations/${p.id}`)).json().costCentreId as string
    const consume = async (service: string, organisationId: string, units: string) => {
      const res = await t.api('POST', '/api/v1/service-consumers', {
        token: finance.token,
        body: { serviceId: ids[service], organisationId, units }
      })
      expect(res.statusCode, res.body).toBe(201)
      return res.json() as Json
    }
    const first = await consume('svcA', p.id, '3')
    expect((await auditOf(t, 'service_consumer', first.id)).map(r => r.action)).toEqual(['created'])
    await consume('svcA', q.id, '1')
    await consume('svcB', q.id, '2')
    const dup = await t.api('POST', '/api/v1/service-consumers', {
      token: finance.token,
      body: { serviceId: ids.svcA, organisationId: p.id }
    })
    expect(fieldsOf(expectProblem(dup, 409))).toEqual(['organisationId'])
    const noUnits = await t.api('POST', '/api/v1/service-consumers', {
      token: finance.token,
      body: { serviceId: ids.svcB, organisationId: p.id, units: '0' }
    })
    expect(fieldsOf(expectProblem(noUnits, 422))).toEqual(['units'])

    // subscription: svcA 1201 halves, 600.50 each; svcB 800 all Q's
    const sub = (await t.api('GET', url, { token: finance.token })).json()
    expect(sub.unallocated).toBe('0.00')
    const line = (report: Json, org: string, service: string) =>
      report.items.find((l: Json) => l.organisationId === org && l.serviceId === ids[service])
    expect(line(sub, p.id, 'svcA')).toEqual({
      organisationId: p.id,
      organisation: p.name,
      costCentreId: pCentre,
      serviceId: ids.svcA,
      service: expect.stringMatching(/^svcA-/),
      share: '0.500000',
      charge: '600.50'
    })
    expect(line(sub, q.id, 'svcB')).toMatchObject({ share: '1.000000', charge: '800.00' })
    expect(sub.items).toHaveLength(3)
    const total = (report: Json, org: string) => report.organisations.find((o: Json) => o.organisationId === org)
    expect(total(sub, p.id)).toEqual({
      organisationId: p.id,
      organisation: p.name,
      costCentreId: pCentre,
      services: 1,
      charge: '600.50'
    })
    expect(total(sub, q.id)).toMatchObject({ services: 2, charge: '1400.50' })

    // usage: svcA 3 : 1 → P 900.75, Q 300.25; Q 300.25 + 800 = 1100.25
    const usage = (await t.api('GET', `${url}&by=usage`, { token: finance.token })).json()
    expect(line(usage, p.id, 'svcA')).toMatchObject({ share: '0.750000', charge: '900.75' })
    expect(line(usage, q.id, 'svcA')).toMatchObject({ share: '0.250000', charge: '300.25' })
    expect(total(usage, p.id)).toMatchObject({ charge: '900.75' })
    expect(total(usage, q.id)).toMatchObject({ charge: '1100.25' })

    const csv = await t.api('GET', `${url}&by=usage`, { token: finance.token, headers: { accept: 'text/csv' } })
    expect(csv.headers['content-type']).toMatch(/^text\/csv/)
    const lines = parseCsv(csv.body)
    expect(lines).toHaveLength(3)
    expect(lines.find(l => l.organisation_id === p.id)).toEqual({
      organisation_id: p.id,
      organisation: p.name,
      cost_centre_id: pCentre,
      service_id: ids.svcA,
      service: expect.stringMatching(/^svcA-/),
      share: '0.750000',
      charge: '900.75'
    })

    // A customer of Q: refused until an admin enables customer chargeback, then only Q's lines
    const customer = await makeUser(t, ['customer'], { organisationId: q.id })
    expectProblem(await t.api('GET', url, { token: customer.token }), 403)
    expectProblem(await t.api('GET', url, { token: technician.token }), 403)
    const enabled = await t.api('PUT', '/api/v1/finance-settings', {
      body: { technicianCostAccess: false, customerChargeback: true, version: 0 }
    })
    expect(enabled.statusCode, enabled.body).toBe(200)
    const own = (await t.api('GET', url, { token: customer.token })).json()
    expect(own.items.map((l: Json) => l.organisationId)).toEqual([q.id, q.id])
    expect(own.organisations).toEqual([expect.objectContaining({ organisationId: q.id, charge: '1400.50' })])
    expect(own.unallocated).toBe('0.00')
    expectProblem(await t.api('GET', url, { token: technician.token }), 403)
  })

  it('forecasts the months ahead from depreciation and recurring costs', async () => {
    // Feb: appA depreciates 300; svcA 31, appB 100 USD * 0.9 = 90, storage 300, nodeY 60 → 481
    // Mar and Apr: appB 80, storage 300, nodeY 60 → 440 each; total 781 + 440 + 440 = 1661
    const url = '/api/v1/reports/finance/forecast?from=2026-02&months=3'
    const res = await t.api('GET', url, { token: finance.token })
    expect(res.statusCode, res.body).toBe(200)
    const { asOf, replicaLagSeconds, ...body } = res.json()
    // Read from the primary: now, and no replica lag
    expect(Math.abs(Date.parse(asOf) - Date.now())).toBeLessThan(60_000)
    expect(replicaLagSeconds).toBeNull()
    expect(body).toEqual({
      from: '2026-02',
      to: '2026-04',
      currency: 'EUR',
      items: [
        {
          month: '2026-02',
          depreciation: '300.00',
          recurring: '481.00',
          fromChanges: '0.00',
          cost: '781.00',
          changes: []
        },
        {
          month: '2026-03',
          depreciation: '0.00',
          recurring: '440.00',
          fromChanges: '0.00',
          cost: '440.00',
          changes: []
        },
        {
          month: '2026-04',
          depreciation: '0.00',
          recurring: '440.00',
          fromChanges: '0.00',
          cost: '440.00',
          changes: []
        }
      ],
      total: '1661.00'
    })
    const csv = await t.api('GET', url, { token: finance.token, headers: { accept: 'text/csv' } })
    expect(parseCsv(csv.body)).toEqual([
      {
        month: '2026-02',
        depreciation: '300.00',
        recurring: '481.00',
        from_changes: '0.00',
        cost: '781.00',
        changes: ''
      },
      {
        month: '2026-03',
        depreciation: '0.00',
        recurring: '440.00',
        from_changes: '0.00',
        cost: '440.00',
        changes: ''
      },
      { month: '2026-04', depreciation: '0.00', recurring: '440.00', from_changes: '0.00', cost: '440.00', changes: '' }
    ])
    // By default the twelve months after this one
    const ahead = (await t.api('GET', '/api/v1/reports/finance/forecast', { token: finance.token })).json()
    expect(ahead.items).toHaveLength(12)
    const now = new Date()
    const next = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)).toISOString().slice(0, 7)
    expect(ahead.from).toBe(next)
    expectProblem(await t.api('GET', `${url.split('?')[0]}?months=0`, { token: finance.token }), 400)
    expectProblem(await t.api('GET', url, { token: technician.token }), 403)
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
    expect(svc[ids.svcA!]).toEqual({ serviceId: ids.svcA, cost: '1471.00' })
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
      ['budgetAgainstActual', 'BudgetActualReport'],
      ['serviceMargin', 'ServiceMarginReport'],
      ['chargeback', 'ChargebackReport']
    ] as const
    const { body } = await t.gql(
      `query($from: String!, $to: String!) { ${reports
        .map(([field, type]) => `${field}(from: $from, to: $to) ${selectAll(schema, type)}`)
        .join(' ')} costForecast(from: "2026-02", months: 2) ${selectAll(schema, 'ForecastReport')} }`,
      { from: '2026-01', to: '2026-03' },
      finance.token
    )
    expect(body.errors).toBeUndefined()
    // Roots have no parent; a service CI may name no cost centre; an unpriced service no basis
    const allowNull = [
      'CostCentreCostRow.parentId',
      'ServiceCostRow.costCentreId',
      'ServiceMarginRow.basis',
      'ServiceMarginRow.quantity',
      'ServiceMarginRow.marginPercent',
      'ChargebackLine.costCentreId',
      'ChargebackTotal.costCentreId',
      // At basis=cost (the default here); prices.test.ts reads them filled at basis=price
      'ChargebackLine.cost',
      'ChargebackLine.difference',
      'ChargebackTotal.cost',
      'ChargebackTotal.difference',
      // Read from the primary (no DATABASE_READ_URL): no replica lag to tell
      ...[
        'ServiceCostReport',
        'ClassCostReport',
        'CostCentreCostReport',
        'BudgetActualReport',
        'ServiceMarginReport',
        'ChargebackReport',
        'ForecastReport'
      ].map(type => `${type}.replicaLagSeconds`)
    ]
    for (const [field, type] of [...reports, ['costForecast', 'ForecastReport'] as const]) {
      expect(body.data![field].items.length, field).toBeGreaterThan(0)
      expect(shapeProblems(schema, type, body.data![field], { strict: true, allowNull })).toEqual([])
    }
    expect(body.data!.costForecast.items.map((r: Json) => r.cost)).toEqual(['781.00', '440.00'])
    const charged = await t.gql(
      '{ chargeback(from: "2026-01", to: "2026-03", by: "usage", split: "weights") { organisations { charge } unallocated } }',
      {},
      finance.token
    )
    expect(charged.body.errors).toBeUndefined()
    // weights: svcA 1381 → P 1035.75, Q 345.25 + svcB 620 = 965.25
    expect(charged.body.data!.chargeback.organisations.map((o: Json) => o.charge).sort()).toEqual(['1035.75', '965.25'])
  })
})
