import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { auditOf } from '../helpers/audit.js'
import { makeOrganisation, makeUser, suffix } from '../helpers/factories.js'
import { codes, fields, loadSchema, selectAll, shapeProblems } from '../helpers/graphql.js'
import { expectProblem, fieldsOf } from '../helpers/problem.js'

type Json = Record<string, any>

describe('CI costs, exchange rates and who reads them', () => {
  let t: TestApp
  let finance: { id: string; token: string }
  let technician: { id: string; token: string }
  let customer: { id: string; token: string }
  let ci: Json
  const ghost = '00000000-0000-7000-8000-000000000000'

  beforeAll(async () => {
    t = await buildTestApp()
    finance = await makeUser(t, ['finance'])
    technician = await makeUser(t, ['technician'])
    const org = await makeOrganisation(t)
    customer = await makeUser(t, ['customer'], { organisationId: org.id })
    ci = (await t.api('POST', '/api/v1/cis', { body: { name: `storage-${suffix()}`, class: 'generic' } })).json()
  })
  afterAll(async () => t?.close())

  const add = (body: Json, token = finance.token, id = ci.id) =>
    t.api('POST', `/api/v1/cis/${id}/costs`, { body, token })

  it('adds a capital cost with straight-line depreciation and a residual value, exact and audited', async () => {
    const res = await add({
      kind: 'capital',
      category: 'hardware',
      amount: '12000.00',
      purchaseDate: '2026-01-15',
      depreciationMonths: 36,
      residualValue: '1200'
    })
    expect(res.statusCode, res.body).toBe(201)
    expect(res.headers.location).toBe(`/api/v1/ci-costs/${res.json().id}`)
    expect(res.json()).toMatchObject({
      ciId: ci.id,
      kind: 'capital',
      currency: 'EUR',
      amount: '12000.00',
      purchaseDate: '2026-01-15',
      startDate: null,
      endDate: null,
      period: null,
      depreciationMonths: 36,
      residualValue: '1200.00',
      version: 1
    })
    const audit = await auditOf(t, 'ci_cost', res.json().id)
    expect(audit.map(a => a.action)).toEqual(['created'])
    expect(audit[0]!.changes).toEqual(expect.arrayContaining([{ field: 'amount', old: null, new: '12000.0000' }]))
  })

  it('adds recurring costs per month, quarter or year, in their own currency', async () => {
    const res = await add({
      kind: 'recurring',
      category: 'licence',
      amount: '300',
      currency: 'USD',
      period: 'quarter',
      startDate: '2026-01-01',
      endDate: '2026-12-31'
    })
    expect(res.statusCode, res.body).toBe(201)
    expect(res.json()).toMatchObject({ amount: '300.00', currency: 'USD', period: 'quarter', residualValue: null })
    const list = await t.api('GET', `/api/v1/cis/${ci.id}/costs`, { token: finance.token })
    expect(list.json().items.map((c: Json) => c.kind)).toEqual(['capital', 'recurring'])
    const cleared = await t.edit(`/api/v1/ci-costs/${res.json().id}`, { body: { endDate: null }, token: finance.token })
    expect(cleared.json()).toMatchObject({ endDate: null, version: 2 })
    const same = await t.edit(`/api/v1/ci-costs/${res.json().id}`, { body: { amount: '300.0' }, token: finance.token })
    expect(same.json().version).toBe(2)
  })

  it('refuses a cost of the wrong shape, naming every field at once', async () => {
    const capital = expectProblem(
      await add({ kind: 'capital', category: 'hardware', amount: '10', period: 'month' }),
      422
    )
    expect(fieldsOf(capital).sort()).toEqual(['depreciationMonths', 'period', 'purchaseDate'])
    const residual = expectProblem(
      await add({
        kind: 'capital',
        category: 'hardware',
        amount: '10',
        purchaseDate: '2026-01-01',
        depreciationMonths: 2,
        residualValue: '10.01'
      }),
      422
    )
    expect(fieldsOf(residual)).toEqual(['residualValue'])
    const recurring = expectProblem(
      await add({
        kind: 'recurring',
        category: 'power',
        amount: '10',
        startDate: '2026-02-01',
        endDate: '2026-01-31',
        depreciationMonths: 3
      }),
      422
    )
    expect(fieldsOf(recurring).sort()).toEqual(['depreciationMonths', 'endDate', 'period'])
    // Money is a decimal string, never a JSON number
    expectProblem(
      await add({ kind: 'recurring', category: 'power', amount: 10.5, period: 'month', startDate: '2026-01-01' }),
      400
    )
    expectProblem(
      await add(
        { kind: 'recurring', category: 'power', amount: '10', period: 'month', startDate: '2026-01-01' },
        finance.token,
        ghost
      ),
      404
    )
  })

  it('keeps dated exchange rates into the reporting currency', async () => {
    const post = (body: Json) => t.api('POST', '/api/v1/exchange-rates', { body, token: finance.token })
    const first = await post({ currency: 'USD', validFrom: '2026-01-01', rate: '0.9' })
    expect(first.statusCode, first.body).toBe(201)
    expect(first.json()).toMatchObject({ currency: 'USD', validFrom: '2026-01-01', rate: '0.9' })
    expect((await post({ currency: 'USD', validFrom: '2026-02-15', rate: '0.8' })).statusCode).toBe(201)
    expect(fieldsOf(expectProblem(await post({ currency: 'USD', validFrom: '2026-01-01', rate: '1' }), 409))).toEqual([
      'validFrom'
    ])
    expect(fieldsOf(expectProblem(await post({ currency: 'EUR', validFrom: '2026-01-01', rate: '1' }), 422))).toEqual([
      'currency'
    ])
    expect(fieldsOf(expectProblem(await post({ currency: 'GBP', validFrom: '2026-01-01', rate: '0' }), 422))).toEqual([
      'rate'
    ])
    expectProblem(await post({ currency: 'GBP', validFrom: '2026-01-01', rate: 1.1 }), 400)
    const list = (await t.api('GET', '/api/v1/exchange-rates?currency=USD', { token: finance.token })).json()
    expect(list.items.map((r: Json) => [r.validFrom, r.rate])).toEqual([
      ['2026-01-01', '0.9'],
      ['2026-02-15', '0.8']
    ])
    expectProblem(await t.api('GET', '/api/v1/exchange-rates', { token: technician.token }), 403)
  })

  it('hides CI costs from technicians until an admin grants it, and from customers always', async () => {
    expectProblem(await t.api('GET', `/api/v1/cis/${ci.id}/costs`, { token: technician.token }), 403)
    expectProblem(await t.api('GET', `/api/v1/cis/${ci.id}/costs`, { token: customer.token }), 403)
    const denied = await t.gql(
      'query($id: ID!) { ciCosts(id: $id) { edges { node { amount } } } }',
      { id: ci.id },
      technician.token
    )
    expect(codes(denied.body)).toEqual(['FORBIDDEN'])
    // Finance may not grant it: it is an admin setting
    const settings = await t.api('GET', '/api/v1/finance-settings', { token: finance.token })
    expect(settings.json()).toEqual({
      reportingCurrency: 'EUR',
      technicianCostAccess: false,
      customerChargeback: false,
      version: 0
    })
    expectProblem(
      await t.api('PUT', '/api/v1/finance-settings', {
        token: finance.token,
        body: { technicianCostAccess: true, customerChargeback: false, version: 0 }
      }),
      403
    )
    const granted = await t.api('PUT', '/api/v1/finance-settings', {
      body: { technicianCostAccess: true, customerChargeback: false, version: 0 }
    })
    expect(granted.statusCode, granted.body).toBe(200)
    const read = await t.api('GET', `/api/v1/cis/${ci.id}/costs`, { token: technician.token })
    expect(read.statusCode, read.body).toBe(200)
    expect(read.json().items).toHaveLength(2)
    // Reading is all it grants
    expectProblem(
      await add(
        { kind: 'recurring', category: 'power', amount: '1', period: 'month', startDate: '2026-01-01' },
        technician.token
      ),
      403
    )
    expectProblem(await t.api('GET', `/api/v1/cis/${ci.id}/costs`, { token: customer.token }), 403)
    expect((await auditOf(t, 'finance_settings', '00000000-0000-0000-0000-00000000f1ce')).map(a => a.action)).toEqual([
      'created'
    ])
    const withdrawn = await t.api('PUT', '/api/v1/finance-settings', {
      body: { technicianCostAccess: false, customerChargeback: false, version: 1 }
    })
    expect(withdrawn.statusCode).toBe(200)
    expectProblem(await t.api('GET', `/api/v1/cis/${ci.id}/costs`, { token: technician.token }), 403)
  })

  it('answers the same over GraphQL, every field', async () => {
    const schema = loadSchema()
    const added = await t.gql(
      `mutation($id: ID!, $input: CreateCiCostInput!) { addCiCost(id: $id, input: $input) ${selectAll(schema, 'CiCost')} }`,
      {
        id: ci.id,
        input: {
          kind: 'recurring',
          category: 'support',
          amount: '99.99',
          period: 'month',
          startDate: '2026-01-01',
          endDate: '2026-06-30'
        }
      },
      finance.token
    )
    expect(added.body.errors).toBeUndefined()
    expect(added.body.data!.addCiCost).toMatchObject({ amount: '99.99', endDate: '2026-06-30' })
    const bad = await t.gql(
      'mutation($id: ID!, $input: CreateCiCostInput!) { addCiCost(id: $id, input: $input) { id } }',
      { id: ci.id, input: { kind: 'recurring', category: 'support', amount: '1', startDate: '2026-01-01' } },
      finance.token
    )
    expect(fields(bad.body)).toEqual(['period'])
    const every = await t.gql(
      `query($id: ID!) { ciCosts(id: $id) ${selectAll(schema, 'CiCostConnection')}
        exchangeRates ${selectAll(schema, 'ExchangeRateConnection')} financeSettings ${selectAll(schema, 'FinanceSettings')} }`,
      { id: ci.id },
      finance.token
    )
    expect(every.body.errors).toBeUndefined()
    // Capital and recurring costs each leave the other kind's fields null
    const allowNull = [
      'PageInfo.endCursor',
      ...['period', 'startDate', 'endDate', 'purchaseDate', 'depreciationMonths', 'residualValue'].map(
        f => `CiCost.${f}`
      )
    ]
    for (const [name, type] of [
      ['ciCosts', 'CiCostConnection'],
      ['exchangeRates', 'ExchangeRateConnection'],
      ['financeSettings', 'FinanceSettings']
    ]) {
      expect(shapeProblems(schema, type!, every.body.data![name!], { strict: true, allowNull })).toEqual([])
    }
    const capital = every.body.data!.ciCosts.edges[0].node
    expect(capital).toMatchObject({ kind: 'capital', depreciationMonths: 36, residualValue: '1200.00' })
  })
})
