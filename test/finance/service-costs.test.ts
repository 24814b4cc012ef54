import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeUser, suffix } from '../helpers/factories.js'
import { expectProblem, fieldsOf } from '../helpers/problem.js'

type Json = Record<string, any>

/** RFC 4180 back into rows (quoted cells, doubled quotes, CRLF lines). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let cell = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"'
        i++
      } else if (ch === '"') quoted = false
      else cell += ch
    } else if (ch === '"') quoted = true
    else if (ch === ',') {
      row.push(cell)
      cell = ''
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(cell)
      rows.push(row)
      row = []
      cell = ''
      i++
    } else cell += ch
  }
  return rows
}

/**
 * A small CMDB, figures for March 2026 (31 days) worked by hand, reporting currency EUR:
 * - shared: S1 and S2 both depend on SRV (100.00/month) → 50.00 each; S1 has 10.00 of its own;
 *   SRV's 1000.00 from April is outside March.
 * - chain: S3 → APP (30.00) → VM (20.00) → HOST, and APP → HOST directly too (HOST counted once).
 *   HOST: capital 12000 bought 2026-01-15, 36 months, residual 1200 → 10800 / 36 = 300.00 a month;
 *   and 300 <FX> a quarter = 100 <FX> a month at 1.1 (1.5 only from April) = 110.00.
 *   S3 = 30 + 20 + 300 + 110 = 460.00 over 3 CIs.
 * - cycle: S4 → A (7.00) → B (5.00) → A and B → S4; S4 has 1.00 of its own → 13.00 over 2 CIs.
 * - mid-month: S5's own 62.00/month ends 10 March → 62 × 10 / 31 = 20.00; S5 → D, D costs 310 <FX2> a
 *   month at 1 until 16 March and 2 from 17 March → 310 × (16 × 1 + 15 × 2) / 31 = 460.00; D's 5 <FX3>
 *   has no rate: left out and named in missingRates.
 */
describe('cost per service over the CMDB', () => {
  let t: TestApp
  let finance: { id: string; token: string }
  let technician: { id: string; token: string }
  const fx = `Q${String.fromCharCode(65 + Math.floor(Math.random() * 26))}${String.fromCharCode(65 + Math.floor(Math.random() * 26))}`
  const fx2 = `R${fx.slice(1)}`
  const fx3 = `S${fx.slice(1)}`
  const ids: Record<string, string> = {}
  const name = (key: string) => `sc-${key}-${tag}`
  const tag = suffix()

  const ci = async (key: string, cls: string) => {
    const res = await t.api('POST', '/api/v1/cis', { body: { name: name(key), class: cls } })
    expect(res.statusCode, res.body).toBe(201)
    ids[key] = res.json().id
  }
  const relate = async (from: string, to: string, type = 'depends_on') => {
    const res = await t.api('POST', `/api/v1/cis/${ids[from]}/relationships`, { body: { targetId: ids[to], type } })
    expect(res.statusCode, res.body).toBe(201)
  }
  const monthly = async (key: string, amount: string, extra: Json = {}) => {
    const res = await t.api('POST', `/api/v1/cis/${ids[key]}/costs`, {
      token: finance.token,
      body: { kind: 'recurring', category: 'hosting', amount, period: 'month', startDate: '2026-01-01', ...extra }
    })
    expect(res.statusCode, res.body).toBe(201)
  }

  beforeAll(async () => {
    t = await buildTestApp()
    finance = await makeUser(t, ['finance'])
    technician = await makeUser(t, ['technician'])
    for (const k of ['S1', 'S2', 'S4', 'S5']) await ci(k, 'business_service')
    await ci('S3', 'service')
    for (const k of ['SRV', 'APP', 'VM', 'HOST', 'A', 'B', 'D']) await ci(k, 'generic')
    await relate('S5', 'D')
    await monthly('S5', '62', { endDate: '2026-03-10' })
    await monthly('D', '310', { currency: fx2 })
    await monthly('D', '5', { currency: fx3 })
    await relate('S1', 'SRV')
    await relate('S2', 'SRV')
    await relate('S3', 'APP')
    await relate('APP', 'VM', 'runs_on')
    await relate('VM', 'HOST', 'runs_on')
    await relate('APP', 'HOST')
    await relate('S4', 'A')
    await relate('A', 'B')
    await relate('B', 'A')
    await relate('B', 'S4')
    await monthly('SRV', '100')
    await monthly('SRV', '1000', { startDate: '2026-04-01' })
    await monthly('S1', '10')
    await monthly('APP', '30')
    await monthly('VM', '20')
    await monthly('A', '7')
    await monthly('B', '5')
    await monthly('S4', '1')
    const capital = await t.api('POST', `/api/v1/cis/${ids.HOST}/costs`, {
      token: finance.token,
      body: {
        kind: 'capital',
        category: 'hardware',
        amount: '12000',
        purchaseDate: '2026-01-15',
        depreciationMonths: 36,
        residualValue: '1200'
      }
    })
    expect(capital.statusCode, capital.body).toBe(201)
    await monthly('HOST', '300', { currency: fx, period: 'quarter' })
    for (const [currency, validFrom, rate] of [
      [fx, '2026-01-01', '1.1'],
      [fx, '2026-04-01', '1.5'],
      [fx2, '2026-03-01', '1'],
      [fx2, '2026-03-17', '2']
    ]) {
      const res = await t.api('POST', '/api/v1/exchange-rates', {
        token: finance.token,
        body: { currency, validFrom, rate }
      })
      expect(res.statusCode, res.body).toBe(201)
    }
  })
  afterAll(async () => t?.close())

  const mine = (items: Json[]) =>
    Object.fromEntries(items.filter(i => Object.values(ids).includes(i.serviceId)).map(i => [i.name, i]))

  const expected = () => ({
    [name('S1')]: { ownCost: '10.00', sharedCost: '50.00', totalCost: '60.00', ciCount: 1 },
    [name('S2')]: { ownCost: '0.00', sharedCost: '50.00', totalCost: '50.00', ciCount: 1 },
    [name('S3')]: { ownCost: '0.00', sharedCost: '460.00', totalCost: '460.00', ciCount: 3 },
    [name('S4')]: { ownCost: '1.00', sharedCost: '12.00', totalCost: '13.00', ciCount: 2 },
    [name('S5')]: { ownCost: '20.00', sharedCost: '460.00', totalCost: '480.00', ciCount: 1 }
  })

  it('splits a shared CI evenly, flows a chain up, converts currencies and ends cycles (REST)', async () => {
    const res = await t.api('GET', '/api/v1/reports/service-costs?period=2026-03', { token: finance.token })
    expect(res.statusCode, res.body).toBe(200)
    const body = res.json()
    expect(body).toMatchObject({ period: '2026-03', currency: 'EUR' })
    expect(body.missingRates).not.toContain(fx)
    expect(body.missingRates).not.toContain(fx2)
    expect(body.missingRates).toContain(fx3)
    const got = mine(body.items)
    expect(Object.keys(got).sort()).toEqual(Object.keys(expected()).sort())
    for (const [n, want] of Object.entries(expected())) expect(got[n], n).toMatchObject(want)
    expect(got[name('S3')]).toMatchObject({ serviceId: ids.S3, class: 'service', costCentreId: null })
  })

  it('takes the rate in force in the month reported (April: the SRV cost from April and 1.5)', async () => {
    const res = await t.api('GET', '/api/v1/reports/service-costs?period=2026-04', { token: finance.token })
    const got = mine(res.json().items)
    // SRV 1100 / 2 = 550; HOST 300 + 100 × 1.5 = 450 → S3 = 30 + 20 + 450 = 500
    expect(got[name('S1')]).toMatchObject({ sharedCost: '550.00', totalCost: '560.00' })
    expect(got[name('S3')]).toMatchObject({ totalCost: '500.00' })
  })

  it('answers CSV on Accept: text/csv, parsed back to the same figures', async () => {
    const res = await t.api('GET', '/api/v1/reports/service-costs?period=2026-03', {
      token: finance.token,
      headers: { accept: 'text/csv' }
    })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.headers['content-type']).toMatch(/^text\/csv/)
    expect(res.headers['content-disposition']).toContain('service-costs-2026-03.csv')
    const [header, ...rows] = parseCsv(res.body)
    expect(header).toEqual([
      'serviceId',
      'name',
      'class',
      'costCentreId',
      'ownCost',
      'sharedCost',
      'totalCost',
      'ciCount'
    ])
    const got = Object.fromEntries(
      rows
        .filter(r => Object.values(ids).includes(r[0]!))
        .map(r => [r[1], { ownCost: r[4], sharedCost: r[5], totalCost: r[6], ciCount: Number(r[7]) }])
    )
    expect(got).toEqual(expected())
  })

  it('answers the same through GraphQL', async () => {
    const { body } = await t.gql(
      'query($p: String!) { serviceCosts(period: $p) { period currency missingRates items { serviceId name class costCentreId ownCost sharedCost totalCost ciCount } } }',
      { p: '2026-03' },
      finance.token
    )
    expect(body.errors).toBeUndefined()
    const got = mine(body.data!.serviceCosts.items)
    for (const [n, want] of Object.entries(expected())) expect(got[n], n).toMatchObject(want)
  })

  it('refuses a bad period naming it, and readers without finance', async () => {
    for (const period of ['2026-13', '2026-3', 'march']) {
      const res = await t.api('GET', `/api/v1/reports/service-costs?period=${period}`, { token: finance.token })
      const problem = expectProblem(res, 400)
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/)
      expect(fieldsOf(problem).join(' ')).toContain('period')
    }
    const gql = await t.gql('{ serviceCosts(period: "2026-00") { period } }', {}, finance.token)
    expect(JSON.stringify(gql.body.errors)).toContain('period')
    const denied = await t.api('GET', '/api/v1/reports/service-costs?period=2026-03', { token: technician.token })
    expectProblem(denied, 403)
  })
})
