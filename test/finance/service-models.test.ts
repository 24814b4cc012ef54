import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { auditOf } from '../helpers/audit.js'
import { makeOrganisation, makeUser, suffix } from '../helpers/factories.js'
import { codes, loadSchema, selectAll, shapeProblems } from '../helpers/graphql.js'

type Json = Record<string, any>

/**
 * Converging graphs over January 2026 (EUR):
 *
 *   svcD --> left  --> base        svcE --> base
 *   svcD --> right --/
 *
 * base: hosting 100/month. svcD reaches base by two paths, svcE by one; each service counts base
 * once, so base splits over two services: 50.00 each (counting each path would give svcD 2/3 =
 * 66.67 and svcE 33.33). svcD's CIs: left, right, base (3).
 *
 * A lattice of 10 stacked diamonds under svcL (top → a_i, b_i → m_i → a_i+1, b_i+1 …) has 1024
 * paths to its bottom CI m10, 20 hops down; the walk keeps none, so it answers at once and counts
 * the bottom once: svcL alone reaches it, m10 10/month → svcL shared 10.00, 30 CIs beneath.
 */
describe('service cost models: converging graphs and the model resources', () => {
  let t: TestApp
  let finance: { id: string; token: string }
  let technician: { id: string; token: string }
  const ids: Record<string, string> = {}
  const s = suffix()

  const ok = async (method: string, url: string, body: Json) => {
    const res = await t.api(method as 'POST', url, { body })
    expect(res.statusCode, res.body).toBe(201)
    return res.json() as Json
  }
  const ci = async (key: string, cls = 'generic') => {
    ids[key] = (await ok('POST', '/api/v1/cis', { name: `${key}-${s}`, class: cls })).id
  }
  const relate = (from: string, to: string) =>
    ok('POST', `/api/v1/cis/${ids[from]}/relationships`, { targetId: ids[to], type: 'depends_on' })
  const hosting = (key: string, amount: string) =>
    ok('POST', `/api/v1/cis/${ids[key]}/costs`, {
      kind: 'recurring',
      category: 'hosting',
      amount,
      period: 'month',
      startDate: '2025-01-01'
    })

  beforeAll(async () => {
    t = await buildTestApp()
    finance = await makeUser(t, ['finance'])
    technician = await makeUser(t, ['technician'])
    for (const key of ['svcD', 'svcE', 'svcL']) await ci(key, 'business_service')
    for (const key of ['left', 'right', 'base']) await ci(key)
    await relate('svcD', 'left')
    await relate('svcD', 'right')
    await relate('left', 'base')
    await relate('right', 'base')
    await relate('svcE', 'base')
    await hosting('base', '100')
    // The lattice: m0 = svcL; a_i, b_i under m_{i-1}; m_i under both
    let above = 'svcL'
    for (let i = 1; i <= 10; i++) {
      await ci(`a${i}`)
      await ci(`b${i}`)
      await ci(`m${i}`)
      await relate(above, `a${i}`)
      await relate(above, `b${i}`)
      await relate(`a${i}`, `m${i}`)
      await relate(`b${i}`, `m${i}`)
      above = `m${i}`
    }
    await hosting('m10', '10')
  })
  afterAll(async () => t?.close())

  it('counts a CI reached by two paths once per service (a diamond)', async () => {
    const res = await t.api('GET', '/api/v1/reports/finance/cost-per-service?from=2026-01&to=2026-01', {
      token: finance.token
    })
    expect(res.statusCode, res.body).toBe(200)
    const rows = Object.fromEntries((res.json().items as Json[]).map(r => [r.serviceId, r]))
    expect(rows[ids.svcD!]).toMatchObject({ ownCost: '0.00', sharedCost: '50.00', cost: '50.00', ciCount: 3 })
    expect(rows[ids.svcE!]).toMatchObject({ sharedCost: '50.00', cost: '50.00', ciCount: 1 })
  })

  it('walks 1024 converging paths without keeping them', async () => {
    const started = Date.now()
    const res = await t.api('GET', '/api/v1/reports/finance/cost-per-service?from=2026-01&to=2026-01&depth=20', {
      token: finance.token
    })
    expect(res.statusCode, res.body).toBe(200)
    const row = (res.json().items as Json[]).find(r => r.serviceId === ids.svcL)
    expect(row).toMatchObject({ sharedCost: '10.00', cost: '10.00', ciCount: 30 })
    // Counting paths, this lattice is 1024 rows at the bottom alone; a (service, CI, hops) walk is 30
    expect(Date.now() - started).toBeLessThan(10_000)
    // Depth bounds the walk: 3 hops reach a1, b1, m1, a2, b2 (the cost sits at m10, out of reach)
    const near = await t.api('GET', '/api/v1/reports/finance/cost-per-service?from=2026-01&to=2026-01&depth=3', {
      token: finance.token
    })
    expect((near.json().items as Json[]).find(r => r.serviceId === ids.svcL)).toMatchObject({
      cost: '0.00',
      ciCount: 5
    })
  })

  it('answers weights, prices and consumers over GraphQL with every field, audited', async () => {
    const schema = loadSchema()
    const org = await makeOrganisation(t)
    const created = await t.gql(
      `mutation($w: CreateServiceCostWeightInput!, $p: CreateServicePriceInput!, $c: CreateServiceConsumerInput!) {
        createServiceCostWeight(input: $w) ${selectAll(schema, 'ServiceCostWeight')}
        createServicePrice(input: $p) ${selectAll(schema, 'ServicePrice')}
        createServiceConsumer(input: $c) ${selectAll(schema, 'ServiceConsumer')}
      }`,
      {
        w: { serviceId: ids.svcD, ciId: ids.base, weight: '2.5' },
        p: {
          serviceId: ids.svcD,
          basis: 'per_unit',
          amount: '12.5',
          quantityAttribute: 'seats',
          validFrom: '2026-01-01',
          validTo: '2026-12-31'
        },
        c: { serviceId: ids.svcD, organisationId: org.id, units: '4' }
      },
      finance.token
    )
    expect(created.body.errors).toBeUndefined()
    const { createServiceCostWeight: w, createServicePrice: p, createServiceConsumer: c } = created.body.data!
    expect(w).toMatchObject({ serviceId: ids.svcD, ciId: ids.base, weight: '2.50', version: 1 })
    expect(p).toMatchObject({
      basis: 'per_unit',
      amount: '12.50',
      currency: 'EUR',
      quantityAttribute: 'seats',
      validFrom: '2026-01-01',
      validTo: '2026-12-31'
    })
    expect(c).toMatchObject({ organisationId: org.id, units: '4.00' })

    const bad = await t.gql(
      'mutation($w: CreateServiceCostWeightInput!) { createServiceCostWeight(input: $w) { id } }',
      { w: { serviceId: ids.svcE, ciId: ids.base, weight: '0' } },
      finance.token
    )
    expect(codes(bad.body)).toEqual(['VALIDATION_FAILED'])
    expect(bad.body.errors![0].extensions.errors.map((e: Json) => e.field)).toEqual(['weight'])

    const changed = await t.gql(
      `mutation($id: ID!, $pid: ID!) {
        updateServiceCostWeight(id: $id, input: { weight: "3" }, version: 1) { weight version }
        updateServicePrice(id: $pid, input: { basis: "flat", quantityAttribute: null }, version: 1) { basis quantityAttribute version }
      }`,
      { id: w.id, pid: p.id },
      finance.token
    )
    expect(changed.body.errors).toBeUndefined()
    expect(changed.body.data).toEqual({
      updateServiceCostWeight: { weight: '3.00', version: 2 },
      updateServicePrice: { basis: 'flat', quantityAttribute: null, version: 2 }
    })
    expect((await auditOf(t, 'service_cost_weight', w.id)).map(a => a.action)).toEqual(['created', 'updated'])
    expect((await auditOf(t, 'service_price', p.id)).map(a => a.action)).toEqual(['created', 'updated'])

    const every = await t.gql(
      `query($s: ID) {
        serviceCostWeights(serviceId: $s) ${selectAll(schema, 'ServiceCostWeightConnection')}
        servicePrices(serviceId: $s) ${selectAll(schema, 'ServicePriceConnection')}
        serviceConsumers(serviceId: $s) ${selectAll(schema, 'ServiceConsumerConnection')}
      }`,
      { s: ids.svcD },
      finance.token
    )
    expect(every.body.errors).toBeUndefined()
    const opts = { strict: true, allowNull: ['PageInfo.endCursor', 'ServicePrice.quantityAttribute'] }
    for (const [field, type] of [
      ['serviceCostWeights', 'ServiceCostWeightConnection'],
      ['servicePrices', 'ServicePriceConnection'],
      ['serviceConsumers', 'ServiceConsumerConnection']
    ] as const) {
      expect(every.body.data![field].edges, field).toHaveLength(1)
      expect(shapeProblems(schema, type, every.body.data![field], opts)).toEqual([])
    }

    const removed = await t.gql(
      `mutation($id: ID!) { deleteServiceConsumer(id: $id, version: 1) }`,
      { id: c.id },
      finance.token
    )
    expect(removed.body.data).toEqual({ deleteServiceConsumer: true })
    expect((await auditOf(t, 'service_consumer', c.id)).map(a => a.action)).toEqual(['created', 'deleted'])

    const denied = await t.gql('{ serviceCostWeights { edges { node { id } } } }', {}, technician.token)
    expect(codes(denied.body)).toEqual(['FORBIDDEN'])
  })
})
