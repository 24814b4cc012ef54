import { sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeIncident, makeOrganisation, makeService, makeTeam, makeUser } from '../helpers/factories.js'
import { loadSchema, selectAll, shapeProblems } from '../helpers/graphql.js'
import { expectProblem, fieldsOf } from '../helpers/problem.js'
import { makeOffering, makeRequest } from '../helpers/requests.js'

/**
 * Fixture (every timestamp written directly; "now" is the SLA clock's, 2026-03-01T12:00Z). All in one
 * fresh organisation, which every staff report filters on (filter=organisationId==…):
 *   T1 incident, team A, P2, created 02-10 09:00, open; resolution clock breached 02-20 12:00 (9 days
 *      past due); response clock stopped at 30 business minutes; escalated layer 1→2 on 02-11 12:00
 *   T2 incident, team A, P2, created 02-10 23:30 (02-11 00:30 in Paris), resolved 02-12 23:30 (2.0 days);
 *      no clocks; first public note by a technician 02-11 00:30 (60 wall minutes); reopened once
 *   T3 incident, team B, P3, created 02-11 10:00, resolved 02-11 16:00 (0.25 days); clocks stopped at
 *      15 (response) and 120 (resolution) business minutes
 *   T4 incident, team B, P3, created 2025-12-15 12:00 (76 days old), open; resolution clock running,
 *      due 02-28 12:00 (1.0 day past due); escalated layer 2→3 on 02-12 00:00
 *   T5 incident, team A, P2, created 2025-11-01 12:00 (120 days old), closed 2026-01-15 12:00 without a
 *      resolution (75 days to close); escalated 1→2 on 01-10 (before every period below)
 *   T6 request, no team, P4, created 02-15 08:00 (14.2 days old), open, no clocks
 */
const NOW = '2026-03-01T12:00:00.000Z'
const FEB = 'from=2026-02-01T00:00:00Z&to=2026-03-01T00:00:00Z'

/** RFC 4180 rows (quoted cells with doubled quotes), as a spreadsheet reads them. */
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

describe('ticket reports', () => {
  let t: TestApp
  let orgId: string
  let teamA: { id: string; name: string }
  let teamB: { id: string; name: string }
  const ids: Record<string, string> = {}
  let filter: string

  beforeAll(async () => {
    t = await buildTestApp()
    t.app.services.slaClocks.clock.now = () => new Date(NOW)
    orgId = (await makeOrganisation(t)).id
    filter = `filter=${encodeURIComponent(`organisationId==${orgId}`)}`
    teamA = { id: (await makeTeam(t, [], 'Alpha team')).id, name: 'Alpha team' }
    teamB = { id: (await makeTeam(t, [], 'Beta team')).id, name: 'Beta team' }
    const calendarId = (await makeService(t)).hoursCalendarId as string
    for (const n of ['T1', 'T2', 'T3', 'T4', 'T5']) ids[n] = (await makeIncident(t)).id
    ids.T6 = (await makeRequest(t, { offeringId: (await makeOffering(t)).id })).id
    const set = async (
      n: string,
      teamId: string | null,
      priority: number,
      createdAt: string,
      resolvedAt: string | null,
      closedAt: string | null
    ) =>
      t.db.execute(sql`
        update tickets set organisation_id = ${orgId}, team_id = ${teamId}, layer = ${teamId ? 1 : null},
          priority = ${priority}, created_at = ${createdAt}::timestamptz, resolved_at = ${resolvedAt}::timestamptz,
          closed_at = ${closedAt}::timestamptz
        where id = ${ids[n]!}`)
    await set('T1', teamA.id, 2, '2026-02-10T09:00:00Z', null, null)
    await set('T2', teamA.id, 2, '2026-02-10T23:30:00Z', '2026-02-12T23:30:00Z', null)
    await set('T3', teamB.id, 3, '2026-02-11T10:00:00Z', '2026-02-11T16:00:00Z', null)
    await set('T4', teamB.id, 3, '2025-12-15T12:00:00Z', null, null)
    await set('T5', teamA.id, 2, '2025-11-01T12:00:00Z', null, '2026-01-15T12:00:00Z')
    await set('T6', null, 4, '2026-02-15T08:00:00Z', null, null)
    await t.db.execute(sql`delete from sla_clocks`)
    const clock = (
      n: string,
      target: string,
      state: string,
      elapsed: number,
      dueAt: string | null,
      breachedAt: string | null
    ) =>
      t.db.execute(sql`
        insert into sla_clocks (id, ticket_id, agreement, target, calendar_id, priority, target_minutes, state,
                                started_at, elapsed_minutes, due_at, breached_at, stopped_at)
        values (gen_random_uuid(), ${ids[n]!}, 'sla', ${target}, ${calendarId}, 2, 60, ${state},
                '2025-01-01T00:00:00Z', ${elapsed}, ${dueAt}::timestamptz, ${breachedAt}::timestamptz,
                ${state === 'stopped' ? '2026-02-11T16:00:00Z' : null}::timestamptz)`)
    await clock('T1', 'resolution', 'running', 0, '2026-02-20T12:00:00Z', '2026-02-20T12:00:00Z')
    await clock('T1', 'response', 'stopped', 30, null, null)
    await clock('T3', 'response', 'stopped', 15, null, null)
    await clock('T3', 'resolution', 'stopped', 120, null, null)
    await clock('T4', 'resolution', 'running', 0, '2026-02-28T12:00:00Z', null)
    const technician = await makeUser(t, ['technician'])
    await t.db.execute(sql`
      insert into ticket_notes (id, ticket_id, author_id, internal, body, created_at)
      values (gen_random_uuid(), ${ids.T2!}, ${technician.id}, false, 'On it', '2026-02-11T00:30:00Z'),
             (gen_random_uuid(), ${ids.T2!}, ${technician.id}, true, 'internal, earlier', '2026-02-10T23:40:00Z')`)
    const audit = (n: string, at: string, changes: unknown) =>
      t.db.execute(sql`
        insert into audit_log (at, actor_label, entity_type, entity_id, action, changes)
        values (${at}::timestamptz, 'fixture', 'ticket', ${ids[n]!}, 'updated', ${JSON.stringify(changes)}::jsonb)`)
    await audit('T1', '2026-02-11T12:00:00Z', [{ field: 'layer', old: 1, new: 2 }])
    await audit('T2', '2026-02-11T11:00:00Z', [
      { field: 'status', old: 'resolved', new: 'in_progress' },
      { field: 'resolvedAt', old: '2026-02-11T10:00:00.000Z', new: null }
    ])
    await audit('T4', '2026-02-12T00:00:00Z', [{ field: 'layer', old: 2, new: 3 }])
    await audit('T5', '2026-01-10T00:00:00Z', [{ field: 'layer', old: 1, new: 2 }])
  }, 120_000)
  afterAll(() => t?.close())

  /** The ticket ids the drill-down link lists (admin, one page of up to 500). */
  async function drill(url: string): Promise<string[]> {
    const res = await t.api('GET', `${url}&limit=500`)
    expect(res.statusCode, res.body).toBe(200)
    return (res.json().items as { id: string }[]).map(i => i.id).sort()
  }
  const idsOf = (...names: string[]) => names.map(n => ids[n]!).sort()

  it('summary: per kind and team, tickets created in the period, open, closed and past due now', async () => {
    const res = await t.api('GET', `/api/v1/reports/summary?${FEB}&groupBy=team&${filter}`)
    expect(res.statusCode, res.body).toBe(200)
    const body = res.json()
    // Read from the primary (no DATABASE_READ_URL): as of the reports' clock, no replica lag to tell
    expect(body.asOf).toBe(NOW)
    expect(body.replicaLagSeconds).toBeNull()
    expect(res.headers['x-report-as-of']).toBe(NOW)
    expect(res.headers['x-replica-lag-seconds']).toBeUndefined()
    const figures = body.rows.map((r: Record<string, unknown>) => ({
      kind: r.kind,
      key: r.key,
      name: r.name,
      total: r.total,
      open: r.open,
      closed: r.closed,
      pastDue: r.pastDue
    }))
    // Created in February: T1, T2 (A), T3 (B), T6 (request, no team); T4 and T5 are older
    expect(figures).toEqual([
      { kind: 'incident', key: teamA.id, name: 'Alpha team', total: 2, open: 1, closed: 1, pastDue: 1 },
      { kind: 'incident', key: teamB.id, name: 'Beta team', total: 1, open: 0, closed: 1, pastDue: 0 },
      { kind: 'request', key: null, name: null, total: 1, open: 1, closed: 0, pastDue: 0 }
    ])
    const [a, b, request] = body.rows
    expect(await drill(a.tickets)).toEqual(idsOf('T1', 'T2'))
    expect(await drill(a.openTickets)).toEqual(idsOf('T1'))
    expect(await drill(a.closedTickets)).toEqual(idsOf('T2'))
    expect(await drill(a.pastDueTickets)).toEqual(idsOf('T1'))
    expect(await drill(b.tickets)).toEqual(idsOf('T3'))
    expect(await drill(b.pastDueTickets)).toEqual([])
    expect(await drill(request.tickets)).toEqual(idsOf('T6'))
  })

  it('summary: by priority, and the filter narrows as on the ticket list', async () => {
    const res = await t.api(
      'GET',
      `/api/v1/reports/summary?${FEB}&groupBy=priority&filter=${encodeURIComponent(`organisationId==${orgId};priority=le=3`)}`
    )
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json().rows.map((r: Record<string, unknown>) => [r.kind, r.key, r.total, r.open, r.pastDue])).toEqual([
      ['incident', '2', 2, 1, 1],
      ['incident', '3', 1, 0, 0]
    ])
    expect(await drill(res.json().rows[1].tickets)).toEqual(idsOf('T3'))
    // A filter the ticket list refuses is refused the same way
    const bad = expectProblem(await t.api('GET', `/api/v1/reports/summary?${FEB}&filter=colour==red`), 400)
    expect(fieldsOf(bad)).toContain('filter')
  })

  it('summary: every groupBy splits the same tickets, and each row lists exactly its total', async () => {
    for (const groupBy of ['team', 'organisation', 'service', 'priority', 'category', 'assignee']) {
      const res = await t.api('GET', `/api/v1/reports/summary?${FEB}&groupBy=${groupBy}&${filter}`)
      expect(res.statusCode, res.body).toBe(200)
      const rows = res.json().rows as { total: number; tickets: string }[]
      expect(
        rows.reduce((n, r) => n + r.total, 0),
        groupBy
      ).toBe(4)
      const listed = (await Promise.all(rows.map(r => drill(r.tickets)))).flat().sort()
      expect(listed, groupBy).toEqual(idsOf('T1', 'T2', 'T3', 'T6'))
    }
  })

  it('summary: CSV parsed back holds the JSON figures', async () => {
    const url = `/api/v1/reports/summary?${FEB}&groupBy=team&${filter}`
    const json = (await t.api('GET', url)).json()
    const res = await t.api('GET', url, { headers: { accept: 'text/csv' } })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toContain('text/csv')
    // CSV has no room for freshness: the headers say it
    expect(res.headers['x-report-as-of']).toBe(NOW)
    expect(res.headers['x-replica-lag-seconds']).toBeUndefined()
    const [header, ...rows] = parseCsv(res.body)
    expect(header).toEqual(['kind', 'key', 'name', 'total', 'open', 'closed', 'past_due', 'tickets'])
    expect(rows).toEqual([
      ['incident', teamA.id, 'Alpha team', '2', '1', '1', '1', json.rows[0].tickets],
      ['incident', teamB.id, 'Beta team', '1', '0', '1', '0', json.rows[1].tickets],
      ['request', '', '', '1', '1', '0', '0', json.rows[2].tickets]
    ])
  })

  it('ageing: open by age, issued and closed per age, resolution times, past due by days', async () => {
    const res = await t.api('GET', `/api/v1/reports/ageing?${filter}`)
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json()).toMatchObject({ asOf: NOW, replicaLagSeconds: null })
    expect(res.headers['x-report-as-of']).toBe(NOW)
    expect(res.headers['x-replica-lag-seconds']).toBeUndefined()
    const rows = res.json().rows as Record<string, unknown>[]
    const figures = rows.map(r => [r.section, r.fromDays, r.toDays, r.count, r.issued, r.closed])
    expect(figures).toEqual([
      // Ages: T1 19.1, T2 18.5, T3 18.1, T6 14.2 days; T4 76; T5 120
      ['age', 0, 30, 2, 4, 2],
      ['age', 30, 60, 0, 0, 0],
      ['age', 60, 90, 1, 1, 0],
      ['age', 90, null, 0, 1, 1],
      // To resolve: T3 0.25, T2 exactly 2.0 (counts from 2), T5 75 days
      ['resolution', 0, 2, 1, null, null],
      ['resolution', 2, 7, 1, null, null],
      ['resolution', 7, 30, 0, null, null],
      ['resolution', 30, 60, 0, null, null],
      ['resolution', 60, null, 1, null, null],
      // Past due: T4 exactly 1.0 day, T1 9 days
      ['pastDue', 0, 1, 0, null, null],
      ['pastDue', 1, 7, 1, null, null],
      ['pastDue', 7, 30, 1, null, null],
      ['pastDue', 30, null, 0, null, null]
    ])
    expect(await drill(rows[0]!.tickets as string)).toEqual(idsOf('T1', 'T6'))
    expect(await drill(rows[2]!.tickets as string)).toEqual(idsOf('T4'))
    expect(await drill(rows[4]!.tickets as string)).toEqual(idsOf('T3'))
    expect(await drill(rows[5]!.tickets as string)).toEqual(idsOf('T2'))
    expect(await drill(rows[8]!.tickets as string)).toEqual(idsOf('T5'))
    expect(await drill(rows[10]!.tickets as string)).toEqual(idsOf('T4'))
    expect(await drill(rows[11]!.tickets as string)).toEqual(idsOf('T1'))
  })

  it('ageing: edges are parameters; CSV; bad edges are a 400 naming the parameter', async () => {
    const url = `/api/v1/reports/ageing?edges=19,100&resolutionEdges=1&pastDueEdges=5&${filter}`
    const res = await t.api('GET', url)
    expect(res.statusCode, res.body).toBe(200)
    const rows = res.json().rows as Record<string, unknown>[]
    expect(rows.map(r => [r.section, r.fromDays, r.toDays, r.count, r.issued, r.closed])).toEqual([
      ['age', 0, 19, 1, 3, 2],
      ['age', 19, 100, 2, 2, 0],
      ['age', 100, null, 0, 1, 1],
      ['resolution', 0, 1, 1, null, null],
      ['resolution', 1, null, 2, null, null],
      ['pastDue', 0, 5, 1, null, null],
      ['pastDue', 5, null, 1, null, null]
    ])
    expect(await drill(rows[1]!.tickets as string)).toEqual(idsOf('T1', 'T4'))
    const csv = await t.api('GET', `${url}&format=csv`)
    expect(csv.headers['x-report-as-of']).toBe(NOW)
    const [header, first] = parseCsv(csv.body)
    expect(header).toEqual(['section', 'from_days', 'to_days', 'count', 'issued', 'closed', 'tickets'])
    expect(first).toEqual(['age', '0', '19', '1', '3', '2', rows[0]!.tickets])
    const bad = expectProblem(await t.api('GET', '/api/v1/reports/ageing?edges=60,30'), 400)
    expect(fieldsOf(bad)).toContain('edges')
  })

  it('trends: created, resolved and backlog per UTC day', async () => {
    const res = await t.api(
      'GET',
      `/api/v1/reports/trends?from=2026-02-10T00:00:00Z&to=2026-02-13T00:00:00Z&interval=day&${filter}`
    )
    expect(res.statusCode, res.body).toBe(200)
    const buckets = res.json().buckets as Record<string, unknown>[]
    // Backlog before 02-10: T4 (T5 closed in January). Created: 02-10 T1, T2; 02-11 T3. Done: 02-11 T3, 02-12 T2
    expect(buckets.map(b => [b.label, b.start, b.created, b.resolved, b.backlog])).toEqual([
      ['2026-02-10', '2026-02-10T00:00:00.000Z', 2, 0, 3],
      ['2026-02-11', '2026-02-11T00:00:00.000Z', 1, 1, 3],
      ['2026-02-12', '2026-02-12T00:00:00.000Z', 0, 1, 2]
    ])
    expect(await drill(buckets[0]!.tickets as string)).toEqual(idsOf('T1', 'T2'))
    expect(await drill(buckets[2]!.resolvedTickets as string)).toEqual(idsOf('T2'))
    expect(await drill(buckets[2]!.backlogTickets as string)).toEqual(idsOf('T1', 'T4'))
  })

  it('trends: a ticket at 23:30 UTC counts on the next day in Europe/Paris', async () => {
    const url = `/api/v1/reports/trends?from=2026-02-09T23:00:00Z&to=2026-02-12T23:00:00Z&timeZone=Europe/Paris&${filter}`
    const res = await t.api('GET', url)
    expect(res.statusCode, res.body).toBe(200)
    const buckets = res.json().buckets as Record<string, unknown>[]
    // Paris is UTC+1: T2 (02-10 23:30Z) is created on the 11th and resolved on the 13th, out of range
    expect(buckets.map(b => [b.label, b.start, b.end, b.created, b.resolved, b.backlog])).toEqual([
      ['2026-02-10', '2026-02-09T23:00:00.000Z', '2026-02-10T23:00:00.000Z', 1, 0, 2],
      ['2026-02-11', '2026-02-10T23:00:00.000Z', '2026-02-11T23:00:00.000Z', 2, 1, 3],
      ['2026-02-12', '2026-02-11T23:00:00.000Z', '2026-02-12T23:00:00.000Z', 0, 0, 3]
    ])
    expect(await drill(buckets[0]!.tickets as string)).toEqual(idsOf('T1'))
    expect(await drill(buckets[1]!.tickets as string)).toEqual(idsOf('T2', 'T3'))
    expect(await drill(buckets[1]!.resolvedTickets as string)).toEqual(idsOf('T3'))
    expect(await drill(buckets[1]!.backlogTickets as string)).toEqual(idsOf('T1', 'T2', 'T4'))
    const csv = await t.api('GET', url, { headers: { accept: 'text/csv' } })
    const [header, ...rows] = parseCsv(csv.body)
    expect(header).toEqual(['label', 'start', 'end', 'created', 'resolved', 'backlog', 'tickets'])
    expect(rows.map(r => r.slice(0, 6))).toEqual([
      ['2026-02-10', '2026-02-09T23:00:00.000Z', '2026-02-10T23:00:00.000Z', '1', '0', '2'],
      ['2026-02-11', '2026-02-10T23:00:00.000Z', '2026-02-11T23:00:00.000Z', '2', '1', '3'],
      ['2026-02-12', '2026-02-11T23:00:00.000Z', '2026-02-12T23:00:00.000Z', '0', '0', '3']
    ])
    const bad = expectProblem(await t.api('GET', `${url.replace('Europe/Paris', 'Mars/Olympus')}`), 400)
    expect(fieldsOf(bad)).toContain('timeZone')
  })

  it('trends: response and resolve times per team and priority, rates, escalations per layer', async () => {
    const res = await t.api('GET', `/api/v1/reports/trends?${FEB}&interval=month&${filter}`)
    expect(res.statusCode, res.body).toBe(200)
    const body = res.json()
    expect(body.asOf).toBe(NOW)
    expect(body.replicaLagSeconds).toBeNull()
    expect(res.headers['x-report-as-of']).toBe(NOW)
    expect(res.headers['x-replica-lag-seconds']).toBeUndefined()
    expect(body.buckets.map((b: Record<string, unknown>) => [b.label, b.created, b.resolved, b.backlog])).toEqual([
      // Backlog at 03-01: T1, T4, T6
      ['2026-02-01', 4, 2, 3]
    ])
    const timings = body.timings.map(({ tickets, ...rest }: Record<string, unknown>) => rest)
    expect(timings).toEqual([
      {
        // T1: response clock 30 business minutes; T2: no clock, first public note after 60 wall minutes.
        // Resolve: T2 only (T1 open), no clock: 2 days = 2880 wall minutes
        teamId: teamA.id,
        teamName: 'Alpha team',
        priority: 2,
        count: 2,
        responded: 2,
        responseMeanMinutes: 45,
        responseMedianMinutes: 45,
        responseBusinessTime: 1,
        resolved: 1,
        resolveMeanMinutes: 2880,
        resolveMedianMinutes: 2880,
        resolveBusinessTime: 0
      },
      {
        teamId: teamB.id,
        teamName: 'Beta team',
        priority: 3,
        count: 1,
        responded: 1,
        responseMeanMinutes: 15,
        responseMedianMinutes: 15,
        responseBusinessTime: 1,
        resolved: 1,
        resolveMeanMinutes: 120,
        resolveMedianMinutes: 120,
        resolveBusinessTime: 1
      },
      {
        teamId: null,
        teamName: null,
        priority: 4,
        count: 1,
        responded: 0,
        responseMeanMinutes: null,
        responseMedianMinutes: null,
        responseBusinessTime: 0,
        resolved: 0,
        resolveMeanMinutes: null,
        resolveMedianMinutes: null,
        resolveBusinessTime: 0
      }
    ])
    expect(await drill(body.timings[0].tickets)).toEqual(idsOf('T1', 'T2'))
    // Done in February: T2 (reopened once) and T3 (never handed off): one first-contact resolution
    const { tickets, ...rates } = body.rates
    expect(rates).toEqual({ resolved: 2, firstContact: 1, firstContactRate: 50, reopened: 1, reopenRate: 50 })
    expect(await drill(tickets)).toEqual(idsOf('T2', 'T3'))
    // T1 1→2 and T4 2→3 in February; T5's January move is outside
    expect(body.escalations).toEqual([
      { layer: 2, escalations: 1 },
      { layer: 3, escalations: 1 }
    ])
    const csv = await t.api('GET', `/api/v1/reports/trends?${FEB}&interval=month&table=timings&format=csv&${filter}`)
    const [header, first] = parseCsv(csv.body)
    expect(header?.slice(0, 6)).toEqual([
      'team_id',
      'team_name',
      'priority',
      'count',
      'responded',
      'response_mean_minutes'
    ])
    expect(first?.slice(0, 6)).toEqual([teamA.id, 'Alpha team', '2', '2', '2', '45'])
  })

  it('every report over GraphQL answers what REST does, every field', async () => {
    const schema = loadSchema()
    const f = JSON.stringify(`organisationId==${orgId}`)
    const res = await t.gql(`query {
      reportSummary(from: "2026-02-01T00:00:00Z", to: "2026-03-01T00:00:00Z", groupBy: "team", filter: ${f}) ${selectAll(schema, 'ReportSummary')}
      reportAgeing(filter: ${f}) ${selectAll(schema, 'ReportAgeing')}
      reportTrends(from: "2026-02-01T00:00:00Z", to: "2026-03-01T00:00:00Z", interval: "month", filter: ${f}) ${selectAll(schema, 'ReportTrends')}
      reportSettings ${selectAll(schema, 'ReportSettings')}
    }`)
    expect(res.body.errors).toBeUndefined()
    const data = res.body.data!
    const rest = async (url: string) => (await t.api('GET', url)).json()
    expect(data.reportSummary).toEqual(await rest(`/api/v1/reports/summary?${FEB}&groupBy=team&${filter}`))
    expect(data.reportAgeing).toEqual(await rest(`/api/v1/reports/ageing?${filter}`))
    expect(data.reportTrends).toEqual(await rest(`/api/v1/reports/trends?${FEB}&interval=month&${filter}`))
    // Read from the primary: no replica lag to tell
    const allowNull = [
      'ReportSummary.replicaLagSeconds',
      'ReportAgeing.replicaLagSeconds',
      'ReportTrends.replicaLagSeconds',
      'ReportSummaryRow.key',
      'ReportSummaryRow.name',
      'ReportAgeingRow.toDays',
      'ReportAgeingRow.issued',
      'ReportAgeingRow.closed',
      'ReportTimingRow.teamId',
      'ReportTimingRow.teamName',
      'ReportTimingRow.responseMeanMinutes',
      'ReportTimingRow.responseMedianMinutes',
      'ReportTimingRow.resolveMeanMinutes',
      'ReportTimingRow.resolveMedianMinutes'
    ]
    for (const [type, value] of [
      ['ReportSummary', data.reportSummary],
      ['ReportAgeing', data.reportAgeing],
      ['ReportTrends', data.reportTrends],
      ['ReportSettings', data.reportSettings]
    ] as const) {
      expect(shapeProblems(schema, type, value, { strict: true, allowNull })).toEqual([])
    }
  })

  it('customers: 403 while reports.customerAccess is off; then their own organisation only, summary and SLA compliance only', async () => {
    const customer = await makeUser(t, ['customer'], { organisationId: orgId })
    const summaryUrl = `/api/v1/reports/summary?${FEB}&groupBy=team`
    const compliance = `/api/v1/reports/sla/compliance?${FEB}&groupBy=service`
    expectProblem(await t.api('GET', summaryUrl, { token: customer.token }), 403)
    expectProblem(await t.api('GET', compliance, { token: customer.token }), 403)
    const settings = await t.api('GET', '/api/v1/report-settings')
    expect(settings.json()).toEqual({ customerAccess: false, version: 0 })
    const on = await t.api('PUT', '/api/v1/report-settings', { body: { customerAccess: true, version: 0 } })
    expect(on.statusCode, on.body).toBe(200)
    expect(on.json()).toEqual({ customerAccess: true, version: 1 })

    // Another organisation's ticket, created in February: the customer never counts it
    const other = await makeOrganisation(t)
    const elsewhere = await makeIncident(t)
    await t.db.execute(sql`
      update tickets set organisation_id = ${other.id}, created_at = '2026-02-20T00:00:00Z' where id = ${elsewhere.id}`)
    const mine = await t.api('GET', summaryUrl, { token: customer.token })
    expect(mine.statusCode, mine.body).toBe(200)
    const staffView = await t.api('GET', `${summaryUrl}&${filter}`)
    const figures = (body: { rows: Record<string, unknown>[] }) =>
      body.rows.map(r => [r.kind, r.key, r.total, r.open, r.closed, r.pastDue])
    expect(figures(mine.json())).toEqual(figures(staffView.json()))
    expect(figures(mine.json())).toEqual([
      ['incident', teamA.id, 2, 1, 1, 1],
      ['incident', teamB.id, 1, 0, 1, 0],
      ['request', null, 1, 1, 0, 0]
    ])
    // Filtering on another organisation cannot widen it
    const widened = await t.api('GET', `${summaryUrl}&filter=${encodeURIComponent(`organisationId==${other.id}`)}`, {
      token: customer.token
    })
    expect(widened.statusCode).toBe(200)
    expect(widened.json().rows).toEqual([])
    // The customer's drill-down lists their tickets
    const ticketsOfMine = await t.api('GET', `${mine.json().rows[0].tickets}&limit=500`, { token: customer.token })
    expect((ticketsOfMine.json().items as { id: string }[]).map(i => i.id).sort()).toEqual(idsOf('T1', 'T2'))
    expect((await t.api('GET', compliance, { token: customer.token })).statusCode).toBe(200)
    // Nothing else
    expectProblem(await t.api('GET', '/api/v1/reports/ageing', { token: customer.token }), 403)
    expectProblem(await t.api('GET', `/api/v1/reports/trends?${FEB}`, { token: customer.token }), 403)
    expectProblem(await t.api('GET', `/api/v1/reports/sla/breaches?${FEB}`, { token: customer.token }), 403)
    const gql = await t.gql('{ reportAgeing { asOf } }', {}, customer.token)
    expect(gql.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN')
    // Customers without an organisation, and finance-only users, read none
    const loner = await makeUser(t, ['customer'])
    expectProblem(await t.api('GET', summaryUrl, { token: loner.token }), 403)
    const finance = await makeUser(t, ['finance'])
    expectProblem(await t.api('GET', summaryUrl, { token: finance.token }), 403)
    // Staff read everything
    const technician = await makeUser(t, ['technician'])
    expect((await t.api('GET', `/api/v1/reports/ageing?${filter}`, { token: technician.token })).statusCode).toBe(200)
    // Only admins change the setting; switched off, customers are refused again
    expectProblem(
      await t.api('PUT', '/api/v1/report-settings', {
        token: technician.token,
        body: { customerAccess: false, version: 1 }
      }),
      403
    )
    const off = await t.api('PUT', '/api/v1/report-settings', { body: { customerAccess: false, version: 1 } })
    expect(off.statusCode, off.body).toBe(200)
    expectProblem(await t.api('GET', summaryUrl, { token: customer.token }), 403)
    // The GraphQL door shares the setting
    const set = await t.gql(
      'mutation { setReportSettings(input: { customerAccess: true }, version: 2) { customerAccess version } }'
    )
    expect(set.body.data?.setReportSettings).toEqual({ customerAccess: true, version: 3 })
    const viaGql = await t.gql(
      '{ reportSummary(from: "2026-02-01T00:00:00Z", to: "2026-03-01T00:00:00Z") { rows { kind total } } }',
      {},
      customer.token
    )
    expect(viaGql.body.data?.reportSummary.rows).toEqual([
      { kind: 'incident', total: 3 },
      { kind: 'request', total: 1 }
    ])
  })

  it('answers 400 naming the field for bad periods and groupBy', async () => {
    const bad = async (url: string, field: string) => {
      const body = expectProblem(await t.api('GET', url), 400)
      expect(fieldsOf(body).join(' ')).toContain(field)
    }
    await bad('/api/v1/reports/summary?from=2026-03-01T00:00:00Z&to=2026-02-01T00:00:00Z', 'to')
    await bad(`/api/v1/reports/summary?${FEB}&groupBy=colour`, 'groupBy')
    await bad(`/api/v1/reports/trends?${FEB}&interval=hour`, 'interval')
    await bad('/api/v1/reports/trends?from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z', 'to')
  })
})
