import { sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeIncident, makeOrganisation, makeService, makeTeam, makeUser } from '../helpers/factories.js'
import { loadSchema, selectAll, shapeProblems } from '../helpers/graphql.js'
import { expectProblem, fieldsOf } from '../helpers/problem.js'

const PERIOD = 'from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z'
const LINK = expect.stringMatching(/^\/api\/v1\/tickets\?filter=/)
const LINKS = { met: LINK, breached: LINK, inProgress: LINK }
type Json = Record<string, any>

describe('SLA reports', () => {
  let t: TestApp
  let a: Awaited<ReturnType<typeof makeService>>
  let b: Awaited<ReturnType<typeof makeService>>
  let orgId: string
  let orgName: string
  const name: Record<string, string> = {}
  const idOf = (n: string) => Object.entries(name).find(([, v]) => v === n)![0]
  const a1Id = () => idOf('a1')
  const a2Id = () => idOf('a2')
  const b1Id = () => idOf('b1')
  /** The ticket list behind a link, every ticket named (a1…b2), in number order. */
  const follow = async (link: string, token?: string) => {
    const res = await t.api('GET', `${link}&sort=number&limit=100`, token ? { token } : {})
    expect(res.statusCode, res.body).toBe(200)
    return (res.json().items as Json[]).map(i => name[i.id] ?? i.id)
  }

  beforeAll(async () => {
    t = await buildTestApp()
    a = await makeService(t)
    b = await makeService(t)
    const calendarId = a.hoursCalendarId as string
    const [a1, a2, a3, a4] = [
      await makeIncident(t, { serviceId: a.id }),
      await makeIncident(t, { serviceId: a.id }),
      await makeIncident(t, { serviceId: a.id }),
      await makeIncident(t, { serviceId: a.id })
    ]
    const [b1, b2] = [await makeIncident(t, { serviceId: b.id }), await makeIncident(t, { serviceId: b.id })]
    const org = await makeOrganisation(t)
    orgId = org.id
    orgName = org.name
    Object.assign(name, {
      [a1!.id]: 'a1',
      [a2!.id]: 'a2',
      [a3!.id]: 'a3',
      [a4!.id]: 'a4',
      [b1!.id]: 'b1',
      [b2!.id]: 'b2'
    })
    await t.db.execute(sql`update tickets set organisation_id = ${orgId} where id in (${b1!.id}, ${b2!.id})`)
    await t.db.execute(sql`delete from sla_clocks`)
    // Clock states set directly: the period rule is what is under test, not the timers
    const clock = (
      ticketId: string,
      target: string,
      priority: number,
      state: string,
      startedAt: string,
      breachedAt: string | null,
      stoppedAt: string | null
    ) =>
      t.db.execute(sql`
        insert into sla_clocks (id, ticket_id, agreement, target, calendar_id, priority, target_minutes, state,
                                started_at, breached_at, stopped_at)
        values (gen_random_uuid(), ${ticketId}, 'sla', ${target}, ${calendarId}, ${priority}, 60, ${state},
                ${startedAt}::timestamptz, ${breachedAt}::timestamptz, ${stoppedAt}::timestamptz)`)
    await clock(a1!.id, 'resolution', 2, 'stopped', '2026-01-09T00:00:00Z', null, '2026-01-10T00:00:00Z') // met
    await clock(
      a2!.id,
      'resolution',
      2,
      'stopped',
      '2026-01-14T00:00:00Z',
      '2026-01-15T00:00:00Z',
      '2026-01-20T00:00:00Z'
    ) // breached
    await clock(a3!.id, 'resolution', 3, 'stopped', '2026-01-04T00:00:00Z', null, '2026-01-05T00:00:00Z') // met
    await clock(a4!.id, 'resolution', 3, 'running', '2026-01-25T00:00:00Z', null, null) // in progress
    await clock(a4!.id, 'response', 3, 'stopped', '2025-12-29T00:00:00Z', null, '2025-12-30T00:00:00Z') // before the period
    await clock(b1!.id, 'resolution', 2, 'running', '2026-01-30T00:00:00Z', '2026-01-31T23:59:00Z', null) // breached
    await clock(b2!.id, 'resolution', 3, 'stopped', '2026-01-30T00:00:00Z', null, '2026-02-01T00:00:00Z') // met at `to`: out
  }, 60_000)
  afterAll(() => t?.close())

  it('counts met and breached per service in the period, percent met, in progress apart', async () => {
    const res = await t.api('GET', `/api/v1/reports/sla/compliance?${PERIOD}&groupBy=service`)
    expect(res.statusCode, res.body).toBe(200)
    const rows = res.json().rows as Record<string, unknown>[]
    const byKey = Object.fromEntries(rows.map(r => [r.key, r]))
    expect(byKey[a.id]).toEqual({
      key: a.id,
      name: a.name,
      met: 2,
      breached: 1,
      total: 3,
      percentMet: 66.67,
      inProgress: 1,
      tickets: LINKS
    })
    expect(byKey[b.id]).toEqual({
      key: b.id,
      name: b.name,
      met: 0,
      breached: 1,
      total: 1,
      percentMet: 0,
      inProgress: 0,
      tickets: LINKS
    })
    expect(rows).toHaveLength(2)
  })

  it('groups by the priority the clock was taken for', async () => {
    const res = await t.api('GET', `/api/v1/reports/sla/compliance?${PERIOD}&groupBy=priority`)
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json().rows).toEqual([
      { key: '2', name: null, met: 1, breached: 2, total: 3, percentMet: 33.33, inProgress: 0, tickets: LINKS },
      { key: '3', name: null, met: 1, breached: 0, total: 1, percentMet: 100, inProgress: 1, tickets: LINKS }
    ])
  })

  it('answers the rows as CSV when asked', async () => {
    const res = await t.api('GET', `/api/v1/reports/sla/compliance?${PERIOD}&groupBy=priority`, {
      headers: { accept: 'text/csv' }
    })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.headers['content-type']).toMatch(/^text\/csv/)
    const lines = res.body
      .trimEnd()
      .split('\r\n')
      .map(l => l.split(','))
    expect(lines).toEqual([
      ['key', 'name', 'met', 'breached', 'total', 'percent_met', 'in_progress'],
      ['2', '', '1', '2', '3', '33.33', '0'],
      ['3', '', '1', '0', '1', '100', '1']
    ])
  })

  it('answers a breaches page as CSV too', async () => {
    const res = await t.api('GET', `/api/v1/reports/sla/breaches?${PERIOD}&serviceId=${b.id}&format=csv`)
    expect(res.statusCode, res.body).toBe(200)
    expect(res.headers['content-type']).toMatch(/^text\/csv/)
    const [header, ...rows] = res.body.trimEnd().split('\r\n')
    expect(header!.split(',')).toEqual([
      'ticket_number',
      'kind',
      'title',
      'agreement',
      'target',
      'priority',
      'service_id',
      'team_id',
      'organisation_id',
      'due_at',
      'breached_at',
      'stopped_at',
      'overdue_minutes'
    ])
    expect(rows).toHaveLength(1)
    const cells = rows[0]!.split(',')
    expect(cells.slice(3, 7)).toEqual(['sla', 'resolution', '2', b.id])
    expect(cells.slice(-3, -1)).toEqual(['2026-01-31T23:59:00.000Z', ''])
  })

  it('narrows a customer to their organisation once reports are shared; refuses customers without one and finance-only users', async () => {
    const customer = await makeUser(t, ['customer'], { organisationId: orgId })
    // reports.customerAccess is off by default: customers read no report
    expectProblem(
      await t.api('GET', `/api/v1/reports/sla/compliance?${PERIOD}&groupBy=service`, { token: customer.token }),
      403
    )
    const shared = await t.api('PUT', '/api/v1/report-settings', { body: { customerAccess: true, version: 0 } })
    expect(shared.statusCode, shared.body).toBe(200)
    // Breaches are staff-only whatever the setting
    expectProblem(await t.api('GET', `/api/v1/reports/sla/breaches?${PERIOD}`, { token: customer.token }), 403)
    const res = await t.api('GET', `/api/v1/reports/sla/compliance?${PERIOD}&groupBy=service`, {
      token: customer.token
    })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json().rows).toEqual([
      { key: b.id, name: b.name, met: 0, breached: 1, total: 1, percentMet: 0, inProgress: 0, tickets: LINKS }
    ])
    const loner = await makeUser(t, ['customer'])
    expectProblem(
      await t.api('GET', `/api/v1/reports/sla/compliance?${PERIOD}&groupBy=service`, { token: loner.token }),
      403
    )
    const finance = await makeUser(t, ['finance'])
    expectProblem(
      await t.api('GET', `/api/v1/reports/sla/compliance?${PERIOD}&groupBy=service`, { token: finance.token }),
      403
    )
  })

  it('answers 400 naming the field for a bad from, to, groupBy, or from not before to', async () => {
    const bad = async (query: string, field: string) => {
      const body = expectProblem(await t.api('GET', `/api/v1/reports/sla/compliance?${query}`), 400)
      expect(fieldsOf(body).join(' ')).toContain(field)
    }
    await bad('from=yesterday&to=2026-02-01T00:00:00Z&groupBy=service', 'from')
    await bad('from=2026-01-01T00:00:00Z&to=soon&groupBy=service', 'to')
    await bad(`${PERIOD}&groupBy=colour`, 'groupBy')
    await bad('from=2026-02-01T00:00:00Z&to=2026-02-01T00:00:00Z&groupBy=service', 'to')
    const gql = await t.gql(
      'query { slaCompliance(from: "2026-02-01T00:00:00Z", to: "2026-01-01T00:00:00Z", groupBy: "service") { groupBy } }'
    )
    expect(gql.body.errors?.[0]?.extensions?.code).toBe('VALIDATION_FAILED')
  })

  it('lists the breaches oldest first, a page at a time, with the minutes overdue', async () => {
    const first = await t.api('GET', `/api/v1/reports/sla/breaches?${PERIOD}&limit=1`)
    expect(first.statusCode, first.body).toBe(200)
    const page1 = first.json()
    expect(page1.items).toHaveLength(1)
    expect(page1.items[0]).toMatchObject({
      serviceId: a.id,
      breachedAt: '2026-01-15T00:00:00.000Z',
      stoppedAt: '2026-01-20T00:00:00.000Z',
      overdueMinutes: 5 * 24 * 60
    })
    expect(page1.nextCursor).toEqual(expect.any(String))
    const second = await t.api('GET', `/api/v1/reports/sla/breaches?${PERIOD}&limit=1&cursor=${page1.nextCursor}`)
    expect(second.statusCode, second.body).toBe(200)
    expect(second.json().items.map((i: { serviceId: string }) => i.serviceId)).toEqual([b.id])
    expect(second.json().nextCursor).toBeNull()
    const filtered = await t.api('GET', `/api/v1/reports/sla/breaches?${PERIOD}&serviceId=${b.id}`)
    expect(filtered.json().items.map((i: { breachedAt: string }) => i.breachedAt)).toEqual(['2026-01-31T23:59:00.000Z'])
  })

  it('answers the same through GraphQL', async () => {
    const res = await t.gql(`query {
      slaCompliance(from: "2026-01-01T00:00:00Z", to: "2026-02-01T00:00:00Z", groupBy: "priority") {
        rows { key met breached total percentMet inProgress }
      }
      slaBreaches(from: "2026-01-01T00:00:00Z", to: "2026-02-01T00:00:00Z", first: 1) {
        edges { node { serviceId overdueMinutes } }
        pageInfo { hasNextPage }
      }
    }`)
    expect(res.body.errors).toBeUndefined()
    expect(res.body.data?.slaCompliance.rows).toEqual([
      { key: '2', met: 1, breached: 2, total: 3, percentMet: 33.33, inProgress: 0 },
      { key: '3', met: 1, breached: 0, total: 1, percentMet: 100, inProgress: 1 }
    ])
    expect(res.body.data?.slaBreaches).toEqual({
      edges: [{ node: { serviceId: a.id, overdueMinutes: 7200 } }],
      pageInfo: { hasNextPage: true }
    })
  })

  it('answers every field over GraphQL', async () => {
    const schema = loadSchema()
    const res = await t.gql(`query {
      slaCompliance(from: "2026-01-01T00:00:00Z", to: "2026-02-01T00:00:00Z", groupBy: "service") ${selectAll(schema, 'SlaComplianceReport')}
      slaBreaches(from: "2026-01-01T00:00:00Z", to: "2026-02-01T00:00:00Z", serviceId: "${a.id}") ${selectAll(schema, 'SlaBreachConnection')}
    }`)
    expect(res.body.errors).toBeUndefined()
    // The fixture's tickets have no team or organisation on service A, and a breach still open has no stop
    // Read from the primary (no DATABASE_READ_URL): no replica lag to tell
    const allowNull = [
      'PageInfo.endCursor',
      'SlaBreach.teamId',
      'SlaBreach.organisationId',
      'SlaBreach.dueAt',
      'SlaComplianceReport.replicaLagSeconds',
      'SlaBreachConnection.replicaLagSeconds'
    ]
    const rows = res.body.data!.slaCompliance.rows.filter((r: { key: string | null }) => r.key === a.id)
    expect(
      shapeProblems(
        schema,
        'SlaComplianceReport',
        { ...res.body.data!.slaCompliance, rows },
        { strict: true, allowNull }
      )
    ).toEqual([])
    expect(
      shapeProblems(schema, 'SlaBreachConnection', res.body.data!.slaBreaches, { strict: true, allowNull })
    ).toEqual([])
  })

  it('links every figure to the ticket list behind it (sla.* RSQL), for staff and customers', async () => {
    const res = await t.api('GET', `/api/v1/reports/sla/compliance?${PERIOD}&groupBy=service`)
    const byKey = Object.fromEntries((res.json().rows as Json[]).map(r => [r.key, r.tickets]))
    // A: a1 and a3 met, a2 breached, a4's resolution still running (its response was met before the period)
    expect(await follow(byKey[a.id].met)).toEqual(['a1', 'a3'])
    expect(await follow(byKey[a.id].breached)).toEqual(['a2'])
    expect(await follow(byKey[a.id].inProgress)).toEqual(['a4'])
    // B: b1 breached (still running: not in progress); b2 met at `to`, outside the period
    expect(await follow(byKey[b.id].met)).toEqual([])
    expect(await follow(byKey[b.id].breached)).toEqual(['b1'])
    expect(await follow(byKey[b.id].inProgress)).toEqual([])
    // The breaches list links to its tickets, with its filters
    const breaches = await t.api('GET', `/api/v1/reports/sla/breaches?${PERIOD}&limit=1`)
    expect(await follow(breaches.json().tickets)).toEqual(['a2', 'b1'])
    const ofB = await t.api('GET', `/api/v1/reports/sla/breaches?${PERIOD}&serviceId=${b.id}`)
    expect(await follow(ofB.json().tickets)).toEqual(['b1'])
    const responses = await t.api('GET', `/api/v1/reports/sla/breaches?${PERIOD}&target=response`)
    expect(responses.json().items).toEqual([])
    expect(await follow(responses.json().tickets)).toEqual([])
    // A customer's links, followed as the customer, stay in their organisation
    const customer = await makeUser(t, ['customer'], { organisationId: orgId })
    const theirs = await t.api('GET', `/api/v1/reports/sla/compliance?${PERIOD}&groupBy=service`, {
      token: customer.token
    })
    expect(await follow(theirs.json().rows[0].tickets.breached, customer.token)).toEqual(['b1'])
    expect(await follow(byKey[a.id].met, customer.token)).toEqual([])
  })

  it('groups by organisation: the tickets without one in a row of their own, last', async () => {
    const res = await t.api('GET', `/api/v1/reports/sla/compliance?${PERIOD}&groupBy=organisation`)
    expect(res.statusCode, res.body).toBe(200)
    const rows = res.json().rows as Json[]
    // b1 (breached) is the organisation's; a1, a3 met, a2 breached, a4 in progress have none
    expect(rows.map(({ tickets: _, ...r }) => r)).toEqual([
      { key: orgId, name: orgName, met: 0, breached: 1, total: 1, percentMet: 0, inProgress: 0 },
      { key: null, name: null, met: 2, breached: 1, total: 3, percentMet: 66.67, inProgress: 1 }
    ])
    expect(await follow(rows[0]!.tickets.breached)).toEqual(['b1'])
    expect(await follow(rows[1]!.tickets.met)).toEqual(['a1', 'a3'])
  })

  it("groups SLA clocks by the ticket's team", async () => {
    const team = await makeTeam(t, [], `Aa team ${Date.now()}`)
    await t.db.execute(sql`update tickets set team_id = ${team.id} where id in (${a1Id()}, ${a2Id()})`)
    const res = await t.api('GET', `/api/v1/reports/sla/compliance?${PERIOD}&groupBy=team`)
    expect(res.statusCode, res.body).toBe(200)
    const rows = res.json().rows as Json[]
    // The team: a1 met, a2 breached; no team: a3 met, b1 breached, a4 in progress (b2 out of the period)
    expect(rows.map(({ tickets: _, ...r }) => r)).toEqual([
      {
        key: team.id,
        name: expect.stringMatching(/^Aa team/),
        met: 1,
        breached: 1,
        total: 2,
        percentMet: 50,
        inProgress: 0
      },
      { key: null, name: null, met: 1, breached: 1, total: 2, percentMet: 50, inProgress: 1 }
    ])
    expect(await follow(rows[0]!.tickets.met)).toEqual(['a1'])
    expect(await follow(rows[1]!.tickets.breached)).toEqual(['b1'])
    expect(await follow(rows[1]!.tickets.inProgress)).toEqual(['a4'])
    const ofTeam = await t.api('GET', `/api/v1/reports/sla/breaches?${PERIOD}&teamId=${team.id}`)
    expect(ofTeam.json().items.map((i: Json) => name[i.ticketId])).toEqual(['a2'])
    expect(await follow(ofTeam.json().tickets)).toEqual(['a2'])
  })

  it('reports OLA clocks per their own team, apart from the SLA, without ticket links', async () => {
    const first = await makeTeam(t, [], `Ab first ${Date.now()}`)
    const second = await makeTeam(t, [], `Ac second ${Date.now()}`)
    const ola = (
      ticketId: string,
      teamId: string,
      target: string,
      state: string,
      breachedAt: string | null,
      stoppedAt: string | null
    ) =>
      t.db.execute(sql`
        insert into sla_clocks (id, ticket_id, agreement, target, team_id, calendar_id, priority, target_minutes, state,
                                started_at, breached_at, stopped_at)
        values (gen_random_uuid(), ${ticketId}, 'ola', ${target}, ${teamId}, ${a.hoursCalendarId as string}, 2, 30,
                ${state}, '2026-01-10T00:00:00Z'::timestamptz, ${breachedAt}::timestamptz, ${stoppedAt}::timestamptz)`)
    await ola(a1Id(), first.id, 'resolution', 'stopped', null, '2026-01-11T00:00:00Z') // met
    await ola(a1Id(), second.id, 'resolution', 'stopped', '2026-01-12T00:00:00Z', '2026-01-13T00:00:00Z') // breached
    await ola(b1Id(), second.id, 'response', 'running', null, null) // in progress
    await ola(b1Id(), first.id, 'response', 'stopped', null, '2026-02-02T00:00:00Z') // met after the period
    const res = await t.api('GET', `/api/v1/reports/sla/compliance?${PERIOD}&groupBy=team&agreement=ola`)
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json()).toMatchObject({ agreement: 'ola', groupBy: 'team' })
    // a1's ticket team is the SLA's business: the OLA clocks count for their own teams
    expect(res.json().rows).toEqual([
      {
        key: first.id,
        name: expect.stringMatching(/^Ab first/),
        met: 1,
        breached: 0,
        total: 1,
        percentMet: 100,
        inProgress: 0,
        tickets: null
      },
      {
        key: second.id,
        name: expect.stringMatching(/^Ac second/),
        met: 0,
        breached: 1,
        total: 1,
        percentMet: 0,
        inProgress: 1,
        tickets: null
      }
    ])
    const byService = await t.api('GET', `/api/v1/reports/sla/compliance?${PERIOD}&groupBy=service&agreement=ola`)
    const olaByService = Object.fromEntries((byService.json().rows as Json[]).map(r => [r.key, r]))
    expect(Object.keys(olaByService).sort()).toEqual([a.id, b.id].sort())
    // a1's two OLA clocks (met, breached); b1's running one (its met one is after the period)
    expect(olaByService[a.id]).toMatchObject({
      met: 1,
      breached: 1,
      total: 2,
      percentMet: 50,
      inProgress: 0,
      tickets: null
    })
    expect(olaByService[b.id]).toMatchObject({ met: 0, breached: 0, total: 0, percentMet: null, inProgress: 1 })
    const breaches = await t.api('GET', `/api/v1/reports/sla/breaches?${PERIOD}&agreement=ola`)
    expect(breaches.json()).toMatchObject({ tickets: null, nextCursor: null })
    expect(breaches.json().items.map((i: Json) => [name[i.ticketId], i.teamId, i.breachedAt])).toEqual([
      ['a1', second.id, '2026-01-12T00:00:00.000Z']
    ])
    // The SLA figures did not move
    const sla = await t.api('GET', `/api/v1/reports/sla/compliance?${PERIOD}&groupBy=service`)
    const slaA = (sla.json().rows as Json[]).find(r => r.key === a.id)!
    expect([slaA.met, slaA.breached, slaA.inProgress]).toEqual([2, 1, 1])
  })
})
