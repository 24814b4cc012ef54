import { eq, sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { notificationOutbox, slaEscalationFirings } from '../../src/db/schema/index.js'
import { uuidv7 } from '../../src/lib/ids.js'
import type { DueThreshold } from '../../src/modules/sla-escalations/escalations.apply.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { historyOf, makeIncident, makeTeam, makeUser, suffix } from '../helpers/factories.js'
import { expectProblem, fieldsOf } from '../helpers/problem.js'

type Json = Record<string, any>

describe('SLA escalation thresholds', () => {
  let t: TestApp
  let calendarId: string
  const targets = [{ priority: 3, responseMinutes: 60, resolutionMinutes: 480 }]
  const ghost = '00000000-0000-7000-8000-000000000000'

  beforeAll(async () => {
    t = await buildTestApp()
    const day = [['09:00', '17:00']]
    const cal = await t.api('POST', '/api/v1/calendars', {
      body: {
        name: `Cal ${suffix()}`,
        timeZone: 'Europe/Paris',
        hours: { mon: day, tue: day, wed: day, thu: day, fri: day, sat: [], sun: [] }
      }
    })
    expect(cal.statusCode, cal.body).toBe(201)
    calendarId = cal.json().id
  })
  afterAll(async () => t?.close())

  const createSla = (body: Json) =>
    t.api('POST', '/api/v1/slas', { body: { name: `SLA ${suffix()}`, calendarId, targets, ...body } })

  it('saves thresholds sorted by clock and percent, normalised, and answers them on reads and PATCH', async () => {
    const user = await makeUser(t, ['technician'])
    const team = await makeTeam(t)
    const res = await createSla({
      escalations: [
        { percent: 100, clock: 'resolution', actions: [{ type: 'next_layer' }, { type: 'raise_priority', steps: 2 }] },
        { percent: 50, clock: 'resolution', actions: [{ type: 'notify', audience: 'assignee' }] },
        {
          percent: 75,
          clock: 'response',
          actions: [
            { type: 'notify', audience: 'users', userIds: [user.id.toUpperCase(), user.id] },
            { type: 'reassign', teamId: team.id }
          ]
        }
      ]
    })
    expect(res.statusCode, res.body).toBe(201)
    const sla = res.json()
    expect(sla.escalations).toEqual([
      {
        percent: 75,
        clock: 'response',
        actions: [
          { type: 'notify', audience: 'users', userIds: [user.id] },
          { type: 'reassign', teamId: team.id }
        ]
      },
      { percent: 50, clock: 'resolution', actions: [{ type: 'notify', audience: 'assignee' }] },
      { percent: 100, clock: 'resolution', actions: [{ type: 'next_layer' }, { type: 'raise_priority', steps: 2 }] }
    ])
    const read = await t.api('GET', `/api/v1/slas/${sla.id}`)
    expect(read.json().escalations).toEqual(sla.escalations)
    const patched = await t.edit(`/api/v1/slas/${sla.id}`, {
      body: { escalations: [{ percent: 90, clock: 'response', actions: [{ type: 'raise_priority' }] }] }
    })
    expect(patched.statusCode, patched.body).toBe(200)
    expect(patched.json().escalations).toEqual([
      { percent: 90, clock: 'response', actions: [{ type: 'raise_priority', steps: 1 }] }
    ])
    // An SLA created without them has none
    const plain = await createSla({})
    expect(plain.json().escalations).toEqual([])
  })

  it('answers 422 naming every bad threshold and action field, and 400 against the schema', async () => {
    const res = await createSla({
      escalations: [
        { percent: 50, clock: 'resolution', actions: [{ type: 'notify' }] },
        { percent: 50, clock: 'resolution', actions: [{ type: 'reassign' }] },
        { percent: 80, clock: 'response', actions: [{ type: 'notify', audience: 'users' }] },
        { percent: 90, clock: 'response', actions: [{ type: 'notify', audience: 'assignee', userIds: [ghost] }] },
        { percent: 95, clock: 'response', actions: [{ type: 'next_layer', teamId: ghost }] },
        { percent: 99, clock: 'response', actions: [{ type: 'notify', audience: 'users', userIds: [ghost] }] },
        { percent: 120, clock: 'response', actions: [{ type: 'reassign', teamId: ghost }] }
      ]
    })
    const body = expectProblem(res, 422)
    expect(fieldsOf(body).sort()).toEqual(
      [
        'escalations.0.actions.0.audience',
        'escalations.1.percent',
        'escalations.1.actions.0.teamId',
        'escalations.2.actions.0.userIds',
        'escalations.3.actions.0.userIds',
        'escalations.4.actions.0.teamId',
        'escalations.5.actions.0.userIds',
        'escalations.6.actions.0.teamId'
      ].sort()
    )
    const byField = new Map(body.errors!.map(e => [e.field, e.message]))
    expect(byField.get('escalations.5.actions.0.userIds')).toBe('no such user')
    expect(byField.get('escalations.6.actions.0.teamId')).toBe('no such team')
    expect(byField.get('escalations.4.actions.0.teamId')).toBe('not taken by next_layer')

    for (const bad of [
      { percent: 0, clock: 'resolution', actions: [{ type: 'next_layer' }] },
      { percent: 50, clock: 'wall', actions: [{ type: 'next_layer' }] },
      { percent: 50, clock: 'resolution', actions: [] },
      { percent: 50, clock: 'resolution', actions: [{ type: 'page_the_ceo' }] }
    ]) {
      const r = await createSla({ escalations: [bad] })
      expect(r.statusCode, r.body).toBe(400)
      expect(r.body).toContain('escalations')
    }
    // Only admins configure them
    const tech = await makeUser(t, ['technician'])
    const denied = await t.api('POST', '/api/v1/slas', {
      token: tech.token,
      body: { name: `SLA ${suffix()}`, calendarId, targets, escalations: [] }
    })
    expect(denied.statusCode).toBe(403)
  })

  it('reads and writes thresholds over GraphQL through the same service, with the same field errors', async () => {
    const team = await makeTeam(t)
    const created = await t.gql(
      `mutation($input: CreateSlaInput!) { createSla(input: $input) { id version escalations { percent clock actions { type audience userIds teamId steps } } } }`,
      {
        input: {
          name: `SLA ${suffix()}`,
          calendarId,
          targets,
          escalations: [
            { percent: 100, clock: 'resolution', actions: [{ type: 'reassign', teamId: team.id }] },
            { percent: 50, clock: 'response', actions: [{ type: 'notify', audience: 'team_lead' }] }
          ]
        }
      }
    )
    expect(created.body.errors).toBeUndefined()
    const sla = created.body.data!.createSla
    expect(sla.escalations).toEqual([
      {
        percent: 50,
        clock: 'response',
        actions: [{ type: 'notify', audience: 'team_lead', userIds: null, teamId: null, steps: null }]
      },
      {
        percent: 100,
        clock: 'resolution',
        actions: [{ type: 'reassign', audience: null, userIds: null, teamId: team.id, steps: null }]
      }
    ])
    const read = await t.api('GET', `/api/v1/slas/${sla.id}`)
    expect(read.json().escalations[1].actions[0].teamId).toBe(team.id)
    const bad = await t.gql(
      `mutation($id: ID!, $v: Int) { updateSla(id: $id, version: $v, input: { escalations: [{ percent: 60, clock: response, actions: [{ type: reassign }] }] }) { id } }`,
      { id: sla.id, v: sla.version }
    )
    expect(bad.body.errors?.[0]?.extensions?.code).toBe('VALIDATION_FAILED')
    expect(JSON.stringify(bad.body.errors?.[0]?.extensions)).toContain('escalations.0.actions.0.teamId')
  })

  it('applies each threshold once per clock run: actions through the ticket writer, history, outbox', async () => {
    const lead = await makeUser(t, ['supervisor'])
    const first = await makeUser(t, ['technician'])
    const second = await makeUser(t, ['technician'])
    const watcher = await makeUser(t, ['technician'])
    const team = await makeTeam(t, [
      { userId: first.id, level: 1 },
      { userId: second.id, level: 2 }
    ])
    expect((await t.api('PATCH', `/api/v1/teams/${team.id}`, { body: { managerId: lead.id } })).statusCode).toBe(200)
    const incident = await makeIncident(t, { impact: 3, urgency: 3, teamId: team.id, assigneeId: first.id })
    expect(incident.priority).toBe(5)
    const clockId = uuidv7()
    const due = (percent: number, actions: DueThreshold['actions'], run = 1): DueThreshold => ({
      clockId,
      run,
      clock: 'resolution',
      ticketId: incident.id,
      slaId: null,
      percent,
      actions
    })
    const escalations = t.app.services.slaEscalations

    const fired = await escalations.applyNow([
      due(50, [
        { type: 'notify', audience: 'assignee' },
        { type: 'notify', audience: 'team_lead' }
      ]),
      due(75, [
        { type: 'notify', audience: 'next_layer' },
        { type: 'next_layer' },
        { type: 'raise_priority', steps: 2 },
        { type: 'notify', audience: 'users', userIds: [watcher.id] }
      ])
    ])
    expect(fired.map(f => f.percent)).toEqual([50, 75])
    expect(fired[0]!.actions.map(a => a.told)).toEqual([[first.id], [lead.id]])
    expect(fired[1]!.actions).toMatchObject([
      { type: 'notify', audience: 'next_layer', told: [second.id] },
      { type: 'next_layer', from: 1, to: 2 },
      { type: 'raise_priority', from: 5, to: 3 },
      { type: 'notify', audience: 'users', told: [watcher.id] }
    ])

    // The ticket moved to layer 2 (no person: the layer picks it up) at priority 3, version bumped
    const after = (await t.api('GET', `/api/v1/incidents/${incident.id}`)).json()
    expect(after).toMatchObject({ layer: 2, assigneeId: null, priority: 3, impact: 3, urgency: 1 })
    expect(after.version).toBe(incident.version + 1)

    // Once per clock run: again (a redelivered timer, a second scheduler) does nothing at all
    expect(await escalations.applyNow([due(50, [{ type: 'raise_priority' }])])).toEqual([])
    expect((await t.api('GET', `/api/v1/incidents/${incident.id}`)).json().version).toBe(after.version)
    // A new run (re-targeted) fires it anew
    const anew = await escalations.applyNow([due(50, [{ type: 'raise_priority' }], 2)])
    expect(anew[0]!.actions).toMatchObject([{ type: 'raise_priority', from: 3, to: 2 }])

    // Recorded on the clock
    const onClock = (await escalations.firingsOf(t.db, [clockId])).get(clockId)!
    expect(onClock.map(f => [f.threshold, f.run])).toEqual([
      [50, 1],
      [75, 1],
      [50, 2]
    ])
    expect(onClock[1]!.actions[1]).toMatchObject({ type: 'next_layer', from: 1, to: 2 })
    expect(onClock[0]!.firedAt).toBeInstanceOf(Date)

    // In the ticket's history: who, what changed, which threshold
    const history = (await historyOf(t, 'incidents', incident.id)).filter(h => h.action === 'sla.escalated')
    expect(history).toHaveLength(2)
    expect(history[0]!.actor).toBe('system:sla-escalations')
    const fields = history[0]!.changes.map(c => c.field)
    expect(fields).toEqual(
      expect.arrayContaining(['layer', 'assigneeId', 'urgency', 'priority', 'sla.resolution.escalations'])
    )
    expect(
      history[0]!.changes.filter(c => c.field === 'sla.resolution.escalations').map(c => (c.new as Json).threshold)
    ).toEqual([50, 75])

    // The notices are in the outbox, naming their recipients; the layer move tells too
    const rows = await t.db.select().from(notificationOutbox).where(eq(notificationOutbox.ticketId, incident.id))
    const warnings = rows.filter(r => r.event === 'sla.warning').map(r => (r.payload as Json).userIds)
    expect(warnings.sort()).toEqual([[first.id], [lead.id], [second.id], [watcher.id]].sort())
    expect(rows.filter(r => r.event === 'sla.escalation')).toHaveLength(1)
    expect(rows.some(r => r.event === 'ticket.assigned' && (r.payload as Json).layer === 2)).toBe(true)
  })

  it('skips what cannot be done, records why, and a 100 % threshold is a breach notice', async () => {
    const team = await makeTeam(t)
    const other = await makeTeam(t)
    const incident = await makeIncident(t, { impact: 1, urgency: 1, teamId: team.id })
    const clockId = uuidv7()
    const [fired] = await t.app.services.slaEscalations.applyNow([
      {
        clockId,
        run: 1,
        clock: 'response',
        ticketId: incident.id,
        slaId: null,
        percent: 100,
        actions: [
          { type: 'notify', audience: 'assignee' },
          { type: 'raise_priority', steps: 1 },
          { type: 'next_layer' },
          { type: 'next_layer' },
          { type: 'reassign', teamId: other.id },
          { type: 'notify', audience: 'users', userIds: [await adminId()] }
        ]
      }
    ])
    expect(fired!.actions).toMatchObject([
      { skipped: 'no assignee to tell' },
      { skipped: 'already the highest priority' },
      { from: 1, to: 2 },
      { skipped: 'the team has no layer 3' },
      { from: team.id, to: other.id },
      { type: 'notify' }
    ])
    const after = (await t.api('GET', `/api/v1/incidents/${incident.id}`)).json()
    expect(after).toMatchObject({ teamId: other.id, layer: 1, priority: 1 })
    const [row] = await t.db
      .select({ actions: slaEscalationFirings.actions })
      .from(slaEscalationFirings)
      .where(eq(slaEscalationFirings.clockId, clockId))
    expect((row!.actions as Json[])[3]).toMatchObject({ skipped: 'the team has no layer 3' })
    const breach = await t.db.execute(
      sql`select count(*)::int as n from notification_outbox where ticket_id = ${incident.id} and event = 'sla.breach'`
    )
    expect((breach as unknown as { rows: { n: number }[] }).rows[0]!.n).toBe(1)
  })

  async function adminId(): Promise<string> {
    const me = await t.api('GET', '/api/v1/me')
    return me.json().id
  }
})
