import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, PASSWORD, type TestApp } from '../helpers/app.js'
import { makeIncident, makeOrganisation, makeTeam, makeUser } from '../helpers/factories.js'
import { expectProblem } from '../helpers/problem.js'

type User = Awaited<ReturnType<typeof makeUser>>

describe('authorisation by role', () => {
  let t: TestApp
  let tech: User
  let customer: User
  let finance: User
  let team: { id: string }

  beforeAll(async () => {
    t = await buildTestApp()
    const org = await makeOrganisation(t)
    tech = await makeUser(t, ['technician'])
    customer = await makeUser(t, ['customer'], { organisationId: org.id })
    finance = await makeUser(t, ['finance'])
    team = await makeTeam(t)
  })
  afterAll(async () => t?.close())

  const newUser = (username: string) => ({ username, displayName: username, roles: ['admin'], password: PASSWORD })

  it('a technician cannot create users, and nothing is created', async () => {
    const res = await t.api('POST', '/api/v1/users', { token: tech.token, body: newUser('tech-made-admin') })
    const body = expectProblem(res, 403, 'FORBIDDEN')
    expect(body.detail).toContain('user.manage')
    expect((await t.api('GET', '/api/v1/users?q=tech-made-admin')).json().items).toEqual([])
  })

  it('a technician cannot change users, even themselves into an admin', async () => {
    const res = await t.api('PATCH', `/api/v1/users/${tech.id}`, { token: tech.token, body: { roles: ['admin'] } })
    expectProblem(res, 403)
    expect((await t.api('GET', `/api/v1/users/${tech.id}`)).json().roles).toEqual(['technician'])
  })

  it('a technician cannot create or change teams and organisations', async () => {
    const token = tech.token
    expectProblem(await t.api('POST', '/api/v1/teams', { token, body: { name: 'Tech team' } }), 403)
    expectProblem(await t.api('PATCH', `/api/v1/teams/${team.id}`, { token, body: { name: 'Hijacked' } }), 403)
    expectProblem(
      await t.api('POST', `/api/v1/teams/${team.id}/members`, { token, body: { userId: tech.id, level: 1 } }),
      403
    )
    expectProblem(await t.api('POST', '/api/v1/organisations', { token, body: { name: 'Tech org' } }), 403)
    expect((await t.api('GET', '/api/v1/teams?q=Tech%20team')).json().items).toEqual([])
    expect((await t.api('GET', '/api/v1/organisations?q=Tech%20org')).json().items).toEqual([])
  })

  it('a technician may read the directory', async () => {
    const token = tech.token
    expect((await t.api('GET', '/api/v1/users', { token })).statusCode).toBe(200)
    expect((await t.api('GET', '/api/v1/teams', { token })).statusCode).toBe(200)
    expect((await t.api('GET', `/api/v1/teams/${team.id}`, { token })).statusCode).toBe(200)
    expect((await t.api('GET', '/api/v1/organisations', { token })).statusCode).toBe(200)
  })

  it('a customer cannot list users, teams or organisations; an admin can', async () => {
    const token = customer.token
    expectProblem(await t.api('GET', '/api/v1/users', { token }), 403, 'FORBIDDEN')
    expectProblem(await t.api('GET', '/api/v1/teams', { token }), 403)
    expectProblem(await t.api('GET', `/api/v1/teams/${team.id}`, { token }), 403)
    expectProblem(await t.api('GET', '/api/v1/organisations', { token }), 403)

    const users = await t.api('GET', '/api/v1/users?limit=500')
    expect(users.statusCode).toBe(200)
    const ids = users.json().items.map((u: { id: string }) => u.id)
    expect(ids).toEqual(expect.arrayContaining([tech.id, customer.id, finance.id]))
    expect(users.body).not.toMatch(/passwordHash|scrypt\$/)
  })

  it('a customer may still read and raise their own tickets', async () => {
    const created = await t.api('POST', '/api/v1/incidents', { token: customer.token, body: { title: 'Printer jam' } })
    expect(created.statusCode).toBe(201)
    expect(created.json().requesterId).toBe(customer.id)
    expect((await t.api('GET', '/api/v1/incidents', { token: customer.token })).statusCode).toBe(200)
  })

  it('a finance user cannot read or create incidents', async () => {
    const incident = await makeIncident(t)
    const token = finance.token
    expectProblem(await t.api('GET', '/api/v1/incidents', { token }), 403, 'FORBIDDEN')
    expectProblem(await t.api('GET', `/api/v1/incidents/${incident.id}`, { token }), 403)
    expectProblem(await t.api('POST', '/api/v1/incidents', { token, body: { title: 'Budget' } }), 403)
  })

  it('a user with several roles may use all of them at once', async () => {
    const both = await makeUser(t, ['finance', 'technician'])
    expect((await t.api('GET', '/api/v1/incidents', { token: both.token })).statusCode).toBe(200)
    expect((await t.api('GET', '/api/v1/users', { token: both.token })).statusCode).toBe(200)
    expectProblem(await t.api('POST', '/api/v1/users', { token: both.token, body: newUser('both-made') }), 403)
  })

  it('an admin can create users, teams and organisations', async () => {
    expect((await t.api('POST', '/api/v1/users', { body: newUser('second-admin') })).statusCode).toBe(201)
    expect((await t.api('POST', '/api/v1/teams', { body: { name: 'Admin team' } })).statusCode).toBe(201)
    expect((await t.api('POST', '/api/v1/organisations', { body: { name: 'Admin org' } })).statusCode).toBe(201)
  })
})
