import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { auditOf } from '../helpers/audit.js'
import { changeInAuthorize, decide, getChange, makeChange, makeCi, move, setPolicy } from '../helpers/changes.js'
import { makeUser } from '../helpers/factories.js'
import { loadSchema, selectAll, shapeProblems } from '../helpers/graphql.js'
import { expectProblem, fieldsOf } from '../helpers/problem.js'

type Json = Record<string, any>

/** RFC 4180 back into rows of named cells (these cells hold no quotes or commas). */
function parseCsv(text: string): Record<string, string>[] {
  expect(text.endsWith('\r\n')).toBe(true)
  const [head, ...lines] = text.slice(0, -2).split('\r\n')
  const names = head!.split(',')
  return lines.map(line => Object.fromEntries(line.split(',').map((v, i) => [names[i]!, v])))
}

/**
 * The forecast over March–June 2026, EUR the reporting currency, USD at 0.9 from 2025-01-01 and 0.8
 * from 2026-05-01 (a rate change mid-forecast), every figure worked by hand:
 *
 * - web: hosting 100 EUR/month → recurring 100 each month.
 * - old: licence 50 USD/month → 45, 45 (0.9), 40, 40 (0.8); and bought 10 Jan 2026 for 1200 EUR over
 *   12 months, residual 0 → depreciation 100 each month.
 *   So without changes: Mar 245, Apr 245, May 240, Jun 240.
 * - C1 (approved: scheduled), CIs [web]: adds 30 EUR monthly from 2026-04 on web, and 200 USD one-off
 *   in 2026-05 (at 0.8: 160) → Apr 30, May 190, Jun 30.
 * - C2 (approved, then implement), CIs [old]: retires old from 2026-05 → its 40 + 100 stop: May -140,
 *   Jun -140.
 * - C3 (rejected), CIs [web]: adds 1000 monthly from 2026-03; C4 (new, not yet approved): 500 monthly.
 *   Neither counts.
 *
 * fromChanges: Mar 0, Apr 30, May 190 - 140 = 50, Jun 30 - 140 = -110.
 * cost: Mar 245, Apr 275, May 290, Jun 130; total 940.
 */
describe('the forecast counts the cost deltas of approved changes', () => {
  let t: TestApp
  let finance: { id: string; token: string }
  let technician: { id: string; token: string }
  let manager: { id: string; token: string }
  const c: Record<string, Json> = {}
  let web: Json
  let old: Json

  const addDelta = (changeId: string, body: Json, token = finance.token) =>
    t.api('POST', `/api/v1/changes/${changeId}/cost-deltas`, { body, token })
  const approved = async (ciIds: string[]) => {
    const change = await changeInAuthorize(t, { ciIds })
    const res = await decide(t, 'changes', change.id, manager.token, { decision: 'approve' })
    expect(res.statusCode, res.body).toBe(200)
    return getChange(t, change.id)
  }

  beforeAll(async () => {
    t = await buildTestApp()
    finance = await makeUser(t, ['finance'])
    technician = await makeUser(t, ['technician'])
    manager = await makeUser(t, ['manager'])
    await setPolicy(t, 'normal', { rule: 'any', approverIds: [manager.id] })
    web = await makeCi(t)
    old = await makeCi(t)
    const cost = async (ciId: string, body: Json) => {
      const res = await t.api('POST', `/api/v1/cis/${ciId}/costs`, { body, token: finance.token })
      expect(res.statusCode, res.body).toBe(201)
    }
    await cost(web.id, {
      kind: 'recurring',
      category: 'hosting',
      amount: '100',
      period: 'month',
      startDate: '2025-01-01'
    })
    await cost(old.id, {
      kind: 'recurring',
      category: 'licence',
      amount: '50',
      currency: 'USD',
      period: 'month',
      startDate: '2025-01-01'
    })
    await cost(old.id, {
      kind: 'capital',
      category: 'hardware',
      amount: '1200',
      purchaseDate: '2026-01-10',
      depreciationMonths: 12
    })
    for (const [validFrom, rate] of [
      ['2025-01-01', '0.9'],
      ['2026-05-01', '0.8']
    ]) {
      const res = await t.api('POST', '/api/v1/exchange-rates', {
        body: { currency: 'USD', validFrom, rate },
        token: finance.token
      })
      expect(res.statusCode, res.body).toBe(201)
    }
    c.c1 = await approved([web.id])
    c.c2 = await approved([old.id])
    c.c3 = await changeInAuthorize(t, { ciIds: [web.id] })
    c.c4 = await makeChange(t, { ciIds: [web.id] })
  })
  afterAll(async () => t?.close())

  it('adds deltas to a change over REST: exact, audited, the CI one of the change’s', async () => {
    expect(c.c1!.status).toBe('scheduled')
    const res = await addDelta(c.c1!.id, {
      action: 'add',
      ciId: web.id,
      recurrence: 'monthly',
      amount: '30',
      effectiveMonth: '2026-04',
      description: 'a second web node'
    })
    expect(res.statusCode, res.body).toBe(201)
    expect(res.headers.location).toBe(`/api/v1/change-cost-deltas/${res.json().id}`)
    expect(res.json()).toMatchObject({
      changeId: c.c1!.id,
      action: 'add',
      ciId: web.id,
      recurrence: 'monthly',
      currency: 'EUR',
      amount: '30.00',
      effectiveMonth: '2026-04',
      costCentreId: null,
      serviceId: null,
      version: 1
    })
    const audit = await auditOf(t, 'change_cost_delta', res.json().id)
    expect(audit.map(a => a.action)).toEqual(['created'])
    expect(audit[0]!.changes).toEqual(expect.arrayContaining([{ field: 'amount', old: null, new: '30.0000' }]))

    const once = await addDelta(c.c1!.id, {
      action: 'add',
      recurrence: 'one_off',
      amount: '200',
      currency: 'USD',
      effectiveMonth: '2026-05'
    })
    expect(once.statusCode, once.body).toBe(201)
    expect(once.json()).toMatchObject({ ciId: null, currency: 'USD', amount: '200.00', recurrence: 'one_off' })

    const list = await t.api('GET', `/api/v1/changes/${c.c1!.id}/cost-deltas?limit=1`, { token: finance.token })
    expect(list.statusCode, list.body).toBe(200)
    expect(list.json().items.map((d: Json) => d.id)).toEqual([res.json().id])
    const rest = await t.api('GET', `/api/v1/changes/${c.c1!.id}/cost-deltas?cursor=${list.json().nextCursor}`, {
      token: finance.token
    })
    expect(rest.json()).toMatchObject({ items: [{ id: once.json().id }], nextCursor: null })

    // Deltas that must not count: a rejected change and one not yet approved
    expect(
      (await addDelta(c.c3!.id, { action: 'add', recurrence: 'monthly', amount: '1000', effectiveMonth: '2026-03' }))
        .statusCode
    ).toBe(201)
    expect(
      (await addDelta(c.c4!.id, { action: 'add', recurrence: 'monthly', amount: '500', effectiveMonth: '2026-03' }))
        .statusCode
    ).toBe(201)
    const rejected = await decide(t, 'changes', c.c3!.id, manager.token, { decision: 'reject', comment: 'no' })
    expect(rejected.statusCode, rejected.body).toBe(200)
    expect((await getChange(t, c.c3!.id)).status).toBe('rejected')
  })

  it('refuses deltas of the wrong shape (422 naming each field), other tickets (404) and technicians (403)', async () => {
    const p1 = expectProblem(
      await addDelta(c.c2!.id, { action: 'retire', amount: '5', recurrence: 'monthly', effectiveMonth: '2026-05' }),
      422
    )
    expect(fieldsOf(p1).sort()).toEqual(['amount', 'ciId', 'recurrence'])
    const p2 = expectProblem(
      await addDelta(c.c2!.id, { action: 'retire', ciId: web.id, effectiveMonth: '2026-05' }),
      422
    )
    expect(fieldsOf(p2)).toEqual(['ciId'])
    expect(p2.errors![0]!.message).toMatch(/not one of the change's CIs/)
    const p3 = expectProblem(await addDelta(c.c2!.id, { action: 'add', effectiveMonth: '2026-05' }), 422)
    expect(fieldsOf(p3).sort()).toEqual(['amount', 'recurrence'])
    const p4 = expectProblem(
      await addDelta(c.c2!.id, {
        action: 'add',
        amount: '1',
        recurrence: 'monthly',
        effectiveMonth: '2026-05',
        costCentreId: '00000000-0000-7000-8000-000000000000'
      }),
      422
    )
    expect(fieldsOf(p4)).toEqual(['costCentreId'])
    const p5 = expectProblem(
      await addDelta(c.c2!.id, { action: 'add', amount: '1.23456', recurrence: 'monthly', effectiveMonth: '2026-13' }),
      400
    )
    expect(fieldsOf(p5).sort()).toEqual(['amount', 'effectiveMonth'].sort())
    const incident = await t.api('POST', '/api/v1/incidents', { body: { title: 'not a change' } })
    expect(incident.statusCode, incident.body).toBe(201)
    expectProblem(
      await addDelta(incident.json().id, {
        action: 'add',
        amount: '1',
        recurrence: 'monthly',
        effectiveMonth: '2026-05'
      }),
      404
    )
    expectProblem(
      await t.api('GET', `/api/v1/changes/${incident.json().id}/cost-deltas`, { token: finance.token }),
      404
    )
    expectProblem(
      await addDelta(
        c.c2!.id,
        { action: 'add', amount: '1', recurrence: 'monthly', effectiveMonth: '2026-05' },
        technician.token
      ),
      403
    )
    expectProblem(await t.api('GET', `/api/v1/changes/${c.c1!.id}/cost-deltas`, { token: technician.token }), 403)
  })

  it('edits and deletes a delta with its version, over REST and GraphQL', async () => {
    const made = await addDelta(c.c4!.id, {
      action: 'add',
      recurrence: 'monthly',
      amount: '7',
      effectiveMonth: '2026-06'
    })
    const url = `/api/v1/change-cost-deltas/${made.json().id}`
    const same = await t.edit(url, { body: { amount: '7.000' }, token: finance.token })
    expect(same.json().version).toBe(1)
    const changed = await t.edit(url, { body: { amount: '-8.5', effectiveMonth: '2026-07' }, token: finance.token })
    expect(changed.statusCode, changed.body).toBe(200)
    expect(changed.json()).toMatchObject({ amount: '-8.50', effectiveMonth: '2026-07', version: 2 })
    const p = expectProblem(await t.edit(url, { body: { ciId: old.id }, token: finance.token }), 422)
    expect(fieldsOf(p)).toEqual(['ciId'])
    expectProblem(await t.api('PATCH', url, { body: { amount: '9' }, token: finance.token }), 428)

    const gql = await t.gql(
      `mutation($id: ID!) {
        updateChangeCostDelta(id: $id, input: { description: "spare", ciId: null }, version: 2) { description version ciId }
      }`,
      { id: made.json().id },
      finance.token
    )
    expect(gql.body.errors).toBeUndefined()
    expect(gql.body.data!.updateChangeCostDelta).toEqual({ description: 'spare', version: 3, ciId: null })
    const gone = await t.gql(
      `mutation($id: ID!) { deleteChangeCostDelta(id: $id, version: 3) }`,
      { id: made.json().id },
      finance.token
    )
    expect(gone.body.data).toEqual({ deleteChangeCostDelta: true })
    expectProblem(await t.api('GET', url, { token: finance.token }), 404)
    expect((await auditOf(t, 'change_cost_delta', made.json().id)).map(a => a.action)).toEqual([
      'created',
      'updated',
      'updated',
      'deleted'
    ])
  })

  it('retires a CI over GraphQL; the CI must be one of the change’s', async () => {
    const wrong = await t.gql(
      `mutation($id: ID!, $ci: ID!) { addChangeCostDelta(id: $id, input: { action: "retire", ciId: $ci, effectiveMonth: "2026-05" }) { id } }`,
      { id: c.c2!.id, ci: web.id },
      finance.token
    )
    expect(wrong.body.errors![0].extensions).toMatchObject({ code: 'VALIDATION_FAILED' })
    expect(JSON.stringify(wrong.body.errors![0].extensions)).toContain('ciId')
    const { body } = await t.gql(
      `mutation($id: ID!, $ci: ID!) {
        addChangeCostDelta(id: $id, input: { action: "retire", ciId: $ci, effectiveMonth: "2026-05" }) {
          id action ciId amount currency recurrence effectiveMonth
        }
      }`,
      { id: c.c2!.id, ci: old.id },
      finance.token
    )
    expect(body.errors).toBeUndefined()
    expect(body.data!.addChangeCostDelta).toMatchObject({
      action: 'retire',
      ciId: old.id,
      amount: null,
      currency: null,
      recurrence: null,
      effectiveMonth: '2026-05'
    })
    await move(t, c.c2!.id, 'implement')
    const listed = await t.gql(
      `query($id: ID!) { changeCostDeltas(id: $id) { edges { node { id action } } pageInfo { hasNextPage } } }`,
      { id: c.c2!.id },
      finance.token
    )
    expect(listed.body.data!.changeCostDeltas.edges).toEqual([
      { node: { id: body.data!.addChangeCostDelta.id, action: 'retire' } }
    ])
    const denied = await t.gql(
      `query($id: ID!) { changeCostDeltas(id: $id) { edges { node { id } } } }`,
      { id: c.c2!.id },
      technician.token
    )
    expect(denied.body.errors![0].extensions).toMatchObject({ code: 'FORBIDDEN' })
  })

  it('forecasts from the approved changes: REST, CSV and GraphQL agree with the hand-worked figures', async () => {
    const n1 = c.c1!.number as string
    const n2 = c.c2!.number as string
    expect(n1 < n2).toBe(true)
    const expected = [
      {
        month: '2026-03',
        depreciation: '100.00',
        recurring: '145.00',
        fromChanges: '0.00',
        cost: '245.00',
        changes: []
      },
      {
        month: '2026-04',
        depreciation: '100.00',
        recurring: '145.00',
        fromChanges: '30.00',
        cost: '275.00',
        changes: [{ changeId: c.c1!.id, number: n1, amount: '30.00' }]
      },
      {
        month: '2026-05',
        depreciation: '100.00',
        recurring: '140.00',
        fromChanges: '50.00',
        cost: '290.00',
        changes: [
          { changeId: c.c1!.id, number: n1, amount: '190.00' },
          { changeId: c.c2!.id, number: n2, amount: '-140.00' }
        ]
      },
      {
        month: '2026-06',
        depreciation: '100.00',
        recurring: '140.00',
        fromChanges: '-110.00',
        cost: '130.00',
        changes: [
          { changeId: c.c1!.id, number: n1, amount: '30.00' },
          { changeId: c.c2!.id, number: n2, amount: '-140.00' }
        ]
      }
    ]
    const url = '/api/v1/reports/finance/forecast?from=2026-03&months=4'
    const res = await t.api('GET', url, { token: finance.token })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json()).toMatchObject({ from: '2026-03', to: '2026-06', currency: 'EUR', total: '940.00' })
    expect(res.json().items).toEqual(expected)

    const csv = await t.api('GET', url, { token: finance.token, headers: { accept: 'text/csv' } })
    expect(csv.statusCode).toBe(200)
    expect(parseCsv(csv.body)).toEqual(
      expected.map(({ fromChanges, changes, ...r }) => ({
        ...r,
        from_changes: fromChanges,
        changes: changes.map(ch => `${ch.number}=${ch.amount}`).join(' ')
      }))
    )
    expect(csv.body.split('\r\n')[0]).toBe('month,depreciation,recurring,from_changes,cost,changes')

    const { body } = await t.gql(
      `{ costForecast(from: "2026-03", months: 4) {
          total items { month depreciation recurring fromChanges cost changes { changeId number amount } }
        } }`,
      {},
      finance.token
    )
    expect(body.errors).toBeUndefined()
    expect(body.data!.costForecast).toEqual({ total: '940.00', items: expected })

    // Every field over GraphQL, the deltas and the forecast with its contributing changes
    const schema = loadSchema()
    const every = await t.gql(
      `query($id: ID!) { changeCostDeltas(id: $id) ${selectAll(schema, 'ChangeCostDeltaConnection')}
        costForecast(from: "2026-05", months: 1) ${selectAll(schema, 'ForecastReport')} }`,
      { id: c.c1!.id },
      finance.token
    )
    expect(every.body.errors).toBeUndefined()
    const allowNull = ['PageInfo.endCursor', 'ForecastReport.replicaLagSeconds', 'ChangeCostDelta.ciId']
    allowNull.push('ChangeCostDelta.costCentreId', 'ChangeCostDelta.serviceId')
    for (const [name, type] of [
      ['changeCostDeltas', 'ChangeCostDeltaConnection'],
      ['costForecast', 'ForecastReport']
    ]) {
      expect(shapeProblems(schema, type!, every.body.data![name!], { strict: true, allowNull })).toEqual([])
    }
    expect(every.body.data!.changeCostDeltas.edges).toHaveLength(2)
    expect(every.body.data!.costForecast.items[0].changes).toHaveLength(2)

    // Cancelled, a change's deltas stop counting
    await move(t, c.c1!.id, 'cancelled')
    const after = (await t.api('GET', url, { token: finance.token })).json()
    expect(after.items.map((i: Json) => i.fromChanges)).toEqual(['0.00', '0.00', '-140.00', '-140.00'])
    expect(after.total).toBe('690.00')
  })
})
