import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { auditOf } from '../helpers/audit.js'
import { makeOrganisation, makeUser, suffix } from '../helpers/factories.js'
import { codes, fields, loadSchema, selectAll, shapeProblems } from '../helpers/graphql.js'
import { expectProblem, fieldsOf } from '../helpers/problem.js'

type Json = Record<string, any>

/** RFC 4180 back into rows of named cells (the report cells here hold no quotes or commas). */
function parseCsv(text: string): Record<string, string>[] {
  const [head, ...lines] = text.slice(0, -2).split('\r\n')
  const names = head!.split(',')
  return lines.map(line => Object.fromEntries(line.split(',').map((v, i) => [names[i]!, v])))
}

/**
 * Dated service prices, worked by hand over Jan–Mar 2026 (Jan 31 days, Feb 28, Mar 31), everything
 * in EUR. Two service CIs with no CI beneath them, so their cost is their own:
 * - svc (users 4): hosting 100/month → cost 300.00. Priced per user: 10 until 14 Feb, 12 from 15 Feb.
 *   Jan 10×4 = 40; Feb 10×4×14/28 = 20 and 12×4×14/28 = 24; Mar 12×4 = 48 → revenue 132.00,
 *   margin -168.00, -168 / 132 = -127.27 %. basis and quantity: the latest price's (per_user, 4).
 * - svc2: hosting 100/month → cost 300.00. Flat 50 in January only, nothing in February, flat 62 from
 *   17 Mar (15 of 31 days: 30) → revenue 80.00, margin -220.00, -275.00 %.
 *
 * Chargeback at price: P consumes svc with 3 units, Q svc with 1 and svc2 with 5.
 * - P/svc: Jan 10×3 = 30; Feb 10×3×14/28 = 15 and 12×3×14/28 = 18; Mar 12×3 = 36 → 99.00
 * - Q/svc: 10 + 5 + 6 + 12 → 33.00; Q/svc2: flat, once per consumer whatever its units: 50 + 30 → 80.00
 * Against cost by subscription: svc 300 halves (150 each), svc2 300 is Q's →
 *   P 99 - 150 = -51.00; Q/svc 33 - 150 = -117.00; Q/svc2 80 - 300 = -220.00;
 *   totals P 99.00 / 150.00 / -51.00, Q 113.00 / 450.00 / -337.00.
 * By usage the cost of svc splits 3 : 1: P 225.00 (-126.00), Q 75.00 (-42.00); the charges stay.
 */
describe('finance: dated service prices', () => {
  let t: TestApp
  let finance: { id: string; token: string }
  const ids: Record<string, string> = {}
  const prices: Record<string, Json> = {}

  const ok = async (method: string, url: string, body: Json) => {
    const res = await t.api(method as 'POST', url, { body })
    expect(res.statusCode, res.body).toBe(201)
    return res.json() as Json
  }
  const price = (body: Json) => t.api('POST', '/api/v1/service-prices', { token: finance.token, body })

  beforeAll(async () => {
    t = await buildTestApp()
    finance = await makeUser(t, ['finance'])
    const s = suffix()
    const classes = (await t.api('GET', '/api/v1/ci-classes?limit=100')).json().items as Json[]
    const business = classes.find(c => c.name === 'business_service')!
    const svcClass = `pricedsvc_${s}`
    await ok('POST', '/api/v1/ci-classes', {
      name: svcClass,
      label: 'Priced service',
      parentId: business.id,
      attributes: [{ name: 'users', type: 'number' }]
    })
    ids.svc = (await ok('POST', '/api/v1/cis', { name: `svc-${s}`, class: svcClass, attributes: { users: 4 } })).id
    ids.svc2 = (await ok('POST', '/api/v1/cis', { name: `svc2-${s}`, class: svcClass })).id
    for (const key of ['svc', 'svc2']) {
      await ok('POST', `/api/v1/cis/${ids[key]}/costs`, {
        kind: 'recurring',
        category: 'hosting',
        amount: '100',
        period: 'month',
        startDate: '2025-01-01'
      })
    }
    const priced = async (key: string, body: Json) => {
      const res = await price(body)
      expect(res.statusCode, res.body).toBe(201)
      prices[key] = res.json()
    }
    const perUser = { serviceId: ids.svc, basis: 'per_user', quantityAttribute: 'users' }
    await priced('old', { ...perUser, amount: '10', validTo: '2026-02-14' })
    await priced('new', { ...perUser, amount: '12', validFrom: '2026-02-15' })
    await priced('jan', {
      serviceId: ids.svc2,
      basis: 'flat',
      amount: '50',
      validFrom: '2026-01-01',
      validTo: '2026-01-31'
    })
    await priced('mar', { serviceId: ids.svc2, basis: 'flat', amount: '62', validFrom: '2026-03-17' })
  })
  afterAll(async () => t?.close())

  it('keeps validity on the price, refusing overlaps (409) and backwards ranges (422)', async () => {
    expect(prices.old).toMatchObject({ amount: '10.00', validFrom: null, validTo: '2026-02-14' })
    expect(prices.new).toMatchObject({ amount: '12.00', validFrom: '2026-02-15', validTo: null })
    expect((await auditOf(t, 'service_price', prices.new!.id)).map(r => r.action)).toEqual(['created'])
    // Inside the new price, straddling the change, open at both ends: all overlap
    for (const validity of [
      { validFrom: '2026-04-01', validTo: '2026-04-30' },
      { validFrom: '2026-02-10', validTo: '2026-02-20' },
      {}
    ]) {
      const res = await price({ serviceId: ids.svc, basis: 'flat', amount: '1', ...validity })
      expect(fieldsOf(expectProblem(res, 409))).toEqual(['validFrom'])
    }
    const backwards = await price({
      serviceId: ids.svc2,
      basis: 'flat',
      amount: '1',
      validFrom: '2026-02-10',
      validTo: '2026-02-01'
    })
    expect(fieldsOf(expectProblem(backwards, 422))).toEqual(['validTo'])
    // February is free for svc2: a price inside it fits, and is removed again
    const feb = await price({
      serviceId: ids.svc2,
      basis: 'flat',
      amount: '1',
      validFrom: '2026-02-01',
      validTo: '2026-02-28'
    })
    expect(feb.statusCode, feb.body).toBe(201)
    expect((await t.api('DELETE', `/api/v1/service-prices/${feb.json().id}`)).statusCode).toBe(204)

    // Moving the old price's end onto the new one's first day overlaps it; the same end is no change
    const moved = await t.api('PATCH', `/api/v1/service-prices/${prices.old!.id}`, {
      token: finance.token,
      body: { validTo: '2026-02-15', version: 1 }
    })
    expect(fieldsOf(expectProblem(moved, 409))).toEqual(['validFrom'])
    const same = await t.api('PATCH', `/api/v1/service-prices/${prices.old!.id}`, {
      token: finance.token,
      body: { validTo: '2026-02-14', version: 1 }
    })
    expect(same.statusCode, same.body).toBe(200)
    expect(same.json()).toMatchObject({ validTo: '2026-02-14', version: 1 })

    // The same over GraphQL: an overlap is CONFLICT naming validFrom; the fields read back
    const created = await t.gql(
      `mutation($p: CreateServicePriceInput!) { createServicePrice(input: $p) { id validFrom validTo amount } }`,
      { p: { serviceId: ids.svc2, basis: 'flat', amount: '5', validFrom: '2026-03-01', validTo: '2026-03-31' } },
      finance.token
    )
    expect(codes(created.body)).toEqual(['CONFLICT'])
    expect(fields(created.body)).toEqual(['validFrom'])
    const fits = await t.gql(
      `mutation($p: CreateServicePriceInput!) { createServicePrice(input: $p) { id validFrom validTo amount } }`,
      { p: { serviceId: ids.svc2, basis: 'flat', amount: '5', validFrom: '2025-01-01', validTo: '2025-12-31' } },
      finance.token
    )
    expect(fits.body.errors).toBeUndefined()
    expect(fits.body.data!.createServicePrice).toMatchObject({
      validFrom: '2025-01-01',
      validTo: '2025-12-31',
      amount: '5.00'
    })
    const moveBack = await t.gql(
      `mutation($id: ID!) { updateServicePrice(id: $id, input: { validTo: "2026-01-05" }, version: 1) { id } }`,
      { id: fits.body.data!.createServicePrice.id },
      finance.token
    )
    expect(codes(moveBack.body)).toEqual(['CONFLICT'])
  })

  it('earns each month at the prices in force in it, by the days (margin, JSON, CSV, GraphQL)', async () => {
    const url = '/api/v1/reports/finance/service-margin?from=2026-01&to=2026-03'
    const res = await t.api('GET', url, { token: finance.token })
    expect(res.statusCode, res.body).toBe(200)
    const rows = Object.fromEntries((res.json().items as Json[]).map(r => [r.serviceId, r]))
    expect(rows[ids.svc!]).toMatchObject({
      basis: 'per_user',
      quantity: '4.00',
      cost: '300.00',
      revenue: '132.00',
      margin: '-168.00',
      marginPercent: '-127.27'
    })
    expect(rows[ids.svc2!]).toMatchObject({
      basis: 'flat',
      quantity: '1.00',
      cost: '300.00',
      revenue: '80.00',
      margin: '-220.00',
      marginPercent: '-275.00'
    })
    // February alone: svc 20 + 24 = 44.00; svc2 has no price in force, so no basis and no revenue
    const feb = (
      await t.api('GET', '/api/v1/reports/finance/service-margin?from=2026-02&to=2026-02', {
        token: finance.token
      })
    ).json()
    const febRows = Object.fromEntries((feb.items as Json[]).map(r => [r.serviceId, r]))
    expect(febRows[ids.svc!]).toMatchObject({ revenue: '44.00', cost: '100.00', margin: '-56.00' })
    expect(febRows[ids.svc2!]).toMatchObject({ basis: null, quantity: null, revenue: '0.00', marginPercent: null })
    const csv = await t.api('GET', url, { token: finance.token, headers: { accept: 'text/csv' } })
    expect(parseCsv(csv.body).find(r => r.service_id === ids.svc2)).toMatchObject({
      revenue: '80.00',
      margin: '-220.00',
      margin_percent: '-275.00'
    })
    const gql = await t.gql(
      `{ serviceMargin(from: "2026-01", to: "2026-03") { items { serviceId revenue margin } } }`,
      {},
      finance.token
    )
    expect(gql.body.errors).toBeUndefined()
    expect(gql.body.data!.serviceMargin.items.find((r: Json) => r.serviceId === ids.svc)).toEqual({
      serviceId: ids.svc,
      revenue: '132.00',
      margin: '-168.00'
    })
  })

  it('charges consumers at the price beside their cost (basis=price; JSON, CSV, GraphQL, customers)', async () => {
    const p = await makeOrganisation(t, `P ${suffix()}`)
    const q = await makeOrganisation(t, `Q ${suffix()}`)
    for (const [service, org, units] of [
      ['svc', p.id, '3'],
      ['svc', q.id, '1'],
      ['svc2', q.id, '5']
    ] as const) {
      const res = await t.api('POST', '/api/v1/service-consumers', {
        token: finance.token,
        body: { serviceId: ids[service], organisationId: org, units }
      })
      expect(res.statusCode, res.body).toBe(201)
    }
    const url = '/api/v1/reports/finance/chargeback?from=2026-01&to=2026-03'
    const line = (report: Json, org: string, service: string) =>
      report.items.find((l: Json) => l.organisationId === org && l.serviceId === ids[service])
    const total = (report: Json, org: string) => report.organisations.find((o: Json) => o.organisationId === org)

    // basis=cost (the default) is as it was: the cost share is the charge, no comparison
    const atCost = (await t.api('GET', url, { token: finance.token })).json()
    expect(atCost).toMatchObject({ by: 'subscription', basis: 'cost', unallocated: '0.00' })
    expect(line(atCost, p.id, 'svc')).toEqual({
      organisationId: p.id,
      organisation: p.name,
      costCentreId: expect.any(String),
      serviceId: ids.svc,
      service: expect.stringMatching(/^svc-/),
      share: '0.500000',
      charge: '150.00'
    })

    const res = await t.api('GET', `${url}&basis=price`, { token: finance.token })
    expect(res.statusCode, res.body).toBe(200)
    const atPrice = res.json()
    expect(atPrice).toMatchObject({ by: 'subscription', basis: 'price', unallocated: '0.00' })
    expect(atPrice.items).toHaveLength(3)
    expect(line(atPrice, p.id, 'svc')).toMatchObject({
      share: '0.500000',
      charge: '99.00',
      cost: '150.00',
      difference: '-51.00'
    })
    expect(line(atPrice, q.id, 'svc')).toMatchObject({ charge: '33.00', cost: '150.00', difference: '-117.00' })
    expect(line(atPrice, q.id, 'svc2')).toMatchObject({
      share: '1.000000',
      charge: '80.00',
      cost: '300.00',
      difference: '-220.00'
    })
    expect(total(atPrice, p.id)).toMatchObject({ services: 1, charge: '99.00', cost: '150.00', difference: '-51.00' })
    expect(total(atPrice, q.id)).toMatchObject({ services: 2, charge: '113.00', cost: '450.00', difference: '-337.00' })

    const usage = (await t.api('GET', `${url}&basis=price&by=usage`, { token: finance.token })).json()
    expect(line(usage, p.id, 'svc')).toMatchObject({
      share: '0.750000',
      charge: '99.00',
      cost: '225.00',
      difference: '-126.00'
    })
    expect(line(usage, q.id, 'svc')).toMatchObject({
      share: '0.250000',
      charge: '33.00',
      cost: '75.00',
      difference: '-42.00'
    })

    const csv = await t.api('GET', `${url}&basis=price`, { token: finance.token, headers: { accept: 'text/csv' } })
    expect(csv.headers['content-type']).toMatch(/^text\/csv/)
    const rows = parseCsv(csv.body)
    expect(rows).toHaveLength(3)
    expect(rows.find(r => r.organisation_id === q.id && r.service_id === ids.svc2)).toEqual({
      organisation_id: q.id,
      organisation: q.name,
      cost_centre_id: expect.any(String),
      service_id: ids.svc2,
      service: expect.stringMatching(/^svc2-/),
      share: '1.000000',
      charge: '80.00',
      cost: '300.00',
      difference: '-220.00'
    })
    expectProblem(await t.api('GET', `${url}&basis=list`, { token: finance.token }), 400)

    const schema = loadSchema()
    const gql = await t.gql(
      `{ chargeback(from: "2026-01", to: "2026-03", basis: "price") ${selectAll(schema, 'ChargebackReport')} }`,
      {},
      finance.token
    )
    expect(gql.body.errors).toBeUndefined()
    const report = gql.body.data!.chargeback
    expect(
      shapeProblems(schema, 'ChargebackReport', report, {
        strict: true,
        allowNull: ['ChargebackReport.replicaLagSeconds']
      })
    ).toEqual([])
    expect(total(report, q.id)).toMatchObject({ charge: '113.00', cost: '450.00', difference: '-337.00' })

    // A customer of Q, once customer chargeback is on: its charges at price, not the provider's cost
    const enabled = await t.api('PUT', '/api/v1/finance-settings', {
      body: { technicianCostAccess: false, customerChargeback: true, version: 0 }
    })
    expect(enabled.statusCode, enabled.body).toBe(200)
    const customer = await makeUser(t, ['customer'], { organisationId: q.id })
    const own = (await t.api('GET', `${url}&basis=price`, { token: customer.token })).json()
    expect(own.items.map((l: Json) => [l.charge, 'cost' in l, 'difference' in l]).sort()).toEqual([
      ['33.00', false, false],
      ['80.00', false, false]
    ])
    expect(own.organisations).toEqual([
      { organisationId: q.id, organisation: q.name, costCentreId: expect.any(String), services: 2, charge: '113.00' }
    ])
  })
})
