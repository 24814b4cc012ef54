import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeOrganisation, makeUser } from '../helpers/factories.js'
import { expectProblem } from '../helpers/problem.js'

describe('who raises which kind', () => {
  let t: TestApp
  let customer: Awaited<ReturnType<typeof makeUser>>
  let tech: Awaited<ReturnType<typeof makeUser>>

  beforeAll(async () => {
    t = await buildTestApp()
    customer = await makeUser(t, ['customer'], { organisationId: (await makeOrganisation(t)).id })
    tech = await makeUser(t, ['technician'])
  })
  afterAll(() => t.close())

  it('customers report incidents but raise no problems, changes or releases (403, nothing written)', async () => {
    const incident = await t.api('POST', '/api/v1/incidents', { token: customer.token, body: { title: 'Printer' } })
    expect(incident.statusCode).toBe(201)
    for (const [path, body] of [
      ['/api/v1/problems', { title: 'Printers keep jamming' }],
      ['/api/v1/changes', { title: 'Replace printers', type: 'normal' }],
      ['/api/v1/releases', { title: 'Printer drivers 2.0', releaseVersion: '2.0', managerId: tech.id }]
    ] as const) {
      const res = expectProblem(await t.api('POST', path, { token: customer.token, body }), 403)
      expect(res.detail).toMatch(/only staff/)
    }
    const gql = await t.gql('mutation { createProblem(input: { title: "x" }) { id } }', {}, customer.token)
    expect(gql.body.errors![0].extensions.code).toBe('FORBIDDEN')
    const total = (await t.api('GET', '/api/v1/tickets?includeTotal=true')).json().total
    expect(total).toBe(1)
    // Staff may
    const problem = await t.api('POST', '/api/v1/problems', { token: tech.token, body: { title: 'Jams' } })
    expect(problem.statusCode, problem.body).toBe(201)
    expect(problem.json().number).toMatch(/^PRB-\d{6}$/)
  })

  it('numbers run per kind and every kind is found by number', async () => {
    const change = await t.api('POST', '/api/v1/changes', { token: tech.token, body: { title: 'x', type: 'normal' } })
    expect(change.json().number).toBe('CHG-000001')
    const byNumber = await t.api('GET', '/api/v1/tickets/chg-000001')
    expect(byNumber.statusCode).toBe(200)
    expect(byNumber.json()).toMatchObject({ id: change.json().id, kind: 'change', type: 'normal' })
    expectProblem(await t.api('GET', `/api/v1/problems/${change.json().id}`), 404)
  })
})
