import { sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeIncident, makeOrganisation, makeService, makeUser } from '../helpers/factories.js'
import { loadSchema, selectAll, shapeProblems } from '../helpers/graphql.js'
import { expectProblem, fieldsOf } from '../helpers/problem.js'

const PERIOD = 'from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z'

describe('SLA reports', () => {
  let t: TestApp
  let a: Awaited<ReturnType<typeof makeService>>
  let b: Awaited<ReturnType<typeof makeService>>
  let orgId: string

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
    orgId = (await makeOrganisation(t)).id
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
      inProgress: 1
    })
    expect(byKey[b.id]).toEqual({
      key: b.id,
      name: b.name,
      met: 0,
      breached: 1,
      total: 1,
      percentMet: 0,
      inProgress: 0
    })
    expect(rows).toHaveLength(2)
  })

  it('groups by the priority the clock was taken for', async () => {
    const res = await t.api('GET', `/api/v1/reports/sla/compliance?${PERIOD}&groupBy=priority`)
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json().rows).toEqual([
      { key: '2', name: null, met: 1, breached: 2, total: 3, percentMet: 33.33, inProgress: 0 },
      { key: '3', name: null, met: 1, breached: 0, total: 1, percentMet: 100, inProgress: 1 }
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
      { key: b.id, name: b.name, met: 0, breached: 1, total: 1, percentMet: 0, inProgress: 0 }
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
})
