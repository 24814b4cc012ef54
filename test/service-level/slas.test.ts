import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { calendars } from '../../src/db/schema/index.js'
import { uuidv7 } from '../../src/lib/ids.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeOrganisation, makeTeam, makeUser, suffix } from '../helpers/factories.js'
import { expectProblem, fieldsOf } from '../helpers/problem.js'

type Json = Record<string, any>

describe('SLAs, OLAs and simulate', () => {
  let t: TestApp
  let calendarId: string
  let service: Json
  let org: { id: string }
  let team: { id: string }
  const ghost = '00000000-0000-7000-8000-000000000000'
  const targets = [{ priority: 2, responseMinutes: 60, resolutionMinutes: 480 }]
  async function sla(body: Json) {
    const res = await t.api('POST', '/api/v1/slas', { body: { name: `SLA ${suffix()}`, calendarId, targets, ...body } })
    expect(res.statusCode, res.body).toBe(201)
    return res.json() as Json
  }
  const simulate = (body: Json, token?: string) =>
    t.api('POST', '/api/v1/slas/simulate', { body, ...(token ? { token } : {}) })

  beforeAll(async () => {
    t = await buildTestApp()
    calendarId = uuidv7()
    // Weekdays 09:00-17:00 in Paris
    const day = [['09:00', '17:00']]
    await t.db.insert(calendars).values({
      id: calendarId,
      name: `Paris ${suffix()}`,
      timeZone: 'Europe/Paris',
      hours: { mon: day, tue: day, wed: day, thu: day, fri: day, sat: [], sun: [] }
    })
    org = await makeOrganisation(t)
    team = await makeTeam(t)
    service = (await t.api('POST', '/api/v1/services', { body: { name: `Mail ${suffix()}` } })).json()
  })
  afterAll(async () => t?.close())

  it('picks the most specific matching SLA, ties by order, and due times across a weekend', async () => {
    const general = await sla({ order: 5 })
    const byKind = await sla({ order: 9, conditions: { kind: 'incident' } })
    const byKindToo = await sla({ order: 1, conditions: { priority: 2 } })
    const specific = await sla({ order: 50, conditions: { kind: 'incident', serviceId: service.id } })
    // Friday 16:30 Paris (15:30Z): 30 minutes Friday, 30 on Monday from 09:00
    const createdAt = '2026-12-04T15:30:00.000Z'
    const res = await simulate({ kind: 'incident', priority: 2, serviceId: service.id, createdAt })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json().sla).toMatchObject({
      id: specific.id,
      responseDueAt: '2026-12-07T08:30:00.000Z',
      // 480 minutes: 30 Friday, then 450 Monday from 09:00 CET (08:00Z) ends 16:30 CET
      resolutionDueAt: '2026-12-07T15:30:00.000Z'
    })
    // kind and priority both one condition: the lower order wins the tie
    const tie = await simulate({ kind: 'incident', priority: 2, createdAt })
    expect(tie.json().sla.id).toBe(byKindToo.id)
    expect(byKind.id).not.toBe(byKindToo.id)
    // A problem of priority 3: only the general one could, but it has no priority 3 target
    expect((await simulate({ kind: 'problem', priority: 3, createdAt })).json().sla).toBeNull()
    const p2 = await simulate({ kind: 'problem', priority: 2, organisationId: org.id, createdAt })
    expect([general.id, byKindToo.id]).toContain(p2.json().sla.id)
    expect(p2.json().sla.id).toBe(byKindToo.id)
  })

  it('answers warnings when OLAs on an SLA do not fit inside it, and the OLA in simulate', async () => {
    const s = await sla({ conditions: { organisationId: org.id, kind: 'request' } })
    const first = await t.api('POST', '/api/v1/olas', {
      body: {
        name: `OLA ${suffix()}`,
        teamId: team.id,
        calendarId,
        targets: [{ priority: 2, responseMinutes: 40, resolutionMinutes: 300 }],
        slaIds: [s.id]
      }
    })
    expect(first.statusCode, first.body).toBe(201)
    expect(first.json().warnings).toEqual([])
    const other = await makeTeam(t)
    const second = await t.api('POST', '/api/v1/olas', {
      body: {
        name: `OLA ${suffix()}`,
        teamId: other.id,
        calendarId,
        targets: [{ priority: 2, responseMinutes: 30, resolutionMinutes: 100 }],
        slaIds: [s.id]
      }
    })
    expect(second.statusCode, second.body).toBe(201)
    expect(second.json().warnings).toEqual([
      expect.objectContaining({ slaId: s.id, priority: 2, target: 'response', slaMinutes: 60, olaMinutes: 70 })
    ])
    const read = (await t.api('GET', `/api/v1/slas/${s.id}`)).json()
    expect(read.warnings).toHaveLength(1)
    // Raising the SLA's response target clears it
    const widened = await t.api('PATCH', `/api/v1/slas/${s.id}`, {
      body: { targets: [{ priority: 2, responseMinutes: 90, resolutionMinutes: 480 }], version: 1 }
    })
    expect(widened.json().warnings).toEqual([])

    const sim = await simulate({
      kind: 'request',
      priority: 2,
      organisationId: org.id,
      teamId: team.id,
      createdAt: '2026-12-07T08:00:00.000Z'
    })
    expect(sim.json().sla.id).toBe(s.id)
    expect(sim.json().ola).toMatchObject({ id: first.json().id, responseDueAt: '2026-12-07T08:40:00.000Z' })
  })

  it('refuses bad input naming the field, and lets only admins write and staff simulate', async () => {
    const bad = await t.api('POST', '/api/v1/slas', {
      body: {
        name: 'Bad',
        calendarId: ghost,
        conditions: { serviceId: ghost, priority: 1 },
        targets: [
          { priority: 2, responseMinutes: 60, resolutionMinutes: 30 },
          { priority: 2, responseMinutes: 60, resolutionMinutes: 90 }
        ]
      }
    })
    expect(fieldsOf(expectProblem(bad, 422)).sort()).toEqual(
      ['calendarId', 'conditions.serviceId', 'targets', 'targets.0.resolutionMinutes', 'targets.1.priority'].sort()
    )
    expectProblem(await simulate({ kind: 'incident', priority: 9 }), 400)
    const olaBad = await t.api('POST', '/api/v1/olas', {
      body: { name: 'x', teamId: ghost, calendarId, targets, slaIds: [ghost] }
    })
    expect(fieldsOf(expectProblem(olaBad, 422)).sort()).toEqual(['slaIds.0', 'teamId'])
    const tech = await makeUser(t, ['technician'])
    const customer = await makeUser(t, ['customer'])
    expectProblem(
      await t.api('POST', '/api/v1/slas', { token: tech.token, body: { name: 'T', calendarId, targets } }),
      403
    )
    expect((await simulate({ kind: 'incident', priority: 2 }, tech.token)).statusCode).toBe(200)
    expectProblem(await simulate({ kind: 'incident', priority: 2 }, customer.token), 403)
    expectProblem(await t.api('GET', '/api/v1/slas', { token: customer.token }), 403)
  })

  it('GraphQL: the same SLAs and OLAs, version on update and delete, simulateSla, errors naming the field', async () => {
    const created = await t.gql(
      `mutation($input: CreateSlaInput!) { createSla(input: $input) { id version order warnings { target } conditions { kind priority } } }`,
      { input: { name: `GQL ${suffix()}`, calendarId, targets, order: 7, conditions: { kind: 'change', priority: 2 } } }
    )
    expect(created.body.errors).toBeUndefined()
    const id = created.body.data!.createSla.id
    expect(created.body.data!.createSla).toMatchObject({
      version: 1,
      order: 7,
      warnings: [],
      conditions: { kind: 'change' }
    })
    // The REST door reads what GraphQL wrote
    expect((await t.api('GET', `/api/v1/slas/${id}`)).json()).toMatchObject({ id, order: 7 })
    const noVersion = await t.gql(`mutation($id: ID!) { updateSla(id: $id, input: { order: 8 }) { id } }`, { id })
    expect(noVersion.body.errors?.[0]?.extensions?.code).toBe('PRECONDITION_REQUIRED')
    const stale = await t.gql(`mutation($id: ID!) { updateSla(id: $id, input: { order: 8 }, version: 9) { id } }`, {
      id
    })
    expect(stale.body.errors?.[0]?.extensions?.code).toBe('PRECONDITION_FAILED')
    const updated = await t.gql(
      `mutation($id: ID!) { updateSla(id: $id, input: { order: 8 }, version: 1) { order version } }`,
      { id }
    )
    expect(updated.body.data!.updateSla).toEqual({ order: 8, version: 2 })
    const bad = await t.gql(`mutation($input: CreateSlaInput!) { createSla(input: $input) { id } }`, {
      input: { name: 'Bad', calendarId: ghost, targets }
    })
    expect(bad.body.errors?.[0]?.extensions?.code).toBe('VALIDATION_FAILED')
    expect(JSON.stringify(bad.body.errors?.[0]?.extensions)).toContain('calendarId')

    const ola = await t.gql(
      `mutation($input: CreateOlaInput!) { createOla(input: $input) { id warnings { olaMinutes } } }`,
      {
        input: {
          name: `GQL OLA ${suffix()}`,
          teamId: team.id,
          calendarId,
          targets: [{ priority: 2, responseMinutes: 90, resolutionMinutes: 100 }],
          slaIds: [id]
        }
      }
    )
    expect(ola.body.data!.createOla.warnings).toEqual([{ olaMinutes: 90 }])
    const olaId = ola.body.data!.createOla.id
    const listed = await t.gql(`query($s: ID!) { olas(slaId: $s) { edges { node { id } } } }`, { s: id })
    expect(listed.body.data!.olas.edges.map((e: Json) => e.node.id)).toEqual([olaId])
    const slas = await t.gql(`{ slas(first: 500) { edges { cursor node { id } } } }`)
    expect(slas.body.data!.slas.edges.map((e: Json) => e.node.id)).toContain(id)

    const sim = await t.gql(
      `query($input: SimulateSlaInput!) { simulateSla(input: $input) { startsAt sla { id responseDueAt } ola { id } } }`,
      { input: { kind: 'change', priority: 2, teamId: team.id, createdAt: '2026-12-04T15:30:00.000Z' } }
    )
    expect(sim.body.data!.simulateSla).toEqual({
      startsAt: '2026-12-04T15:30:00.000Z',
      sla: { id, responseDueAt: '2026-12-07T08:30:00.000Z' },
      ola: { id: olaId }
    })
    const badSim = await t.gql(`query { simulateSla(input: { kind: incident, priority: 9 }) { startsAt } }`)
    expect(badSim.body.errors?.[0]?.extensions?.code).toBe('VALIDATION_FAILED')

    // The SLA is underpinned: 409 until the OLA goes
    const refused = await t.gql(`mutation($id: ID!) { deleteSla(id: $id, version: 2) }`, { id })
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('CONFLICT')
    const olaGone = await t.gql(`mutation($id: ID!) { deleteOla(id: $id, version: 1) }`, { id: olaId })
    expect(olaGone.body.data).toEqual({ deleteOla: true })
    expect((await t.gql(`mutation($id: ID!) { deleteSla(id: $id, version: 2) }`, { id })).body.data).toEqual({
      deleteSla: true
    })
    expectProblem(await t.api('GET', `/api/v1/slas/${id}`), 404)
    // REST deletes too
    const rest = await sla({})
    expect((await t.api('DELETE', `/api/v1/slas/${rest.id}`)).statusCode).toBe(204)
    const tech = await makeUser(t, ['technician'])
    const denied = await t.gql(`mutation { deleteOla(id: "${ghost}") }`, {}, tech.token)
    expect(denied.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN')
  })
})
