import { and, eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { auditLog, calendars, notificationOutbox, workItems } from '../../src/db/schema/index.js'
import { createJobRunner } from '../../src/jobs/runner.js'
import { uuidv7 } from '../../src/lib/ids.js'
import { slaTimerJob } from '../../src/modules/sla-clocks/timer.job.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { PARIS } from '../helpers/calendars.js'
import { makeIncident, makeTeam, makeUser, suffix } from '../helpers/factories.js'
import { expectProblem } from '../helpers/problem.js'

type Json = Record<string, any>

/**
 * The clocks on the Paris calendar (Mon 08-12 13-17, Tue 08-17, Wed none, Thu 08-17, Fri
 * 08-24; CET = UTC+1 in December), the service's time source moved to hand-picked instants.
 */
describe('SLA clocks', () => {
  let t: TestApp
  let calendarId: string
  const at = (iso: string) => {
    t.app.services.slaClocks.clock.now = () => new Date(iso)
  }
  async function sla(body: Json) {
    const res = await t.api('POST', '/api/v1/slas', { body: { name: `SLA ${suffix()}`, calendarId, ...body } })
    expect(res.statusCode, res.body).toBe(201)
    return res.json() as Json
  }
  const clocksOf = async (id: string, token?: string) => {
    const res = await t.api('GET', `/api/v1/tickets/${id}/sla`, token ? { token } : {})
    expect(res.statusCode, res.body).toBe(200)
    return res.json().clocks as Json[]
  }
  const move = async (id: string, to: string, extra: Json = {}) => {
    const res = await t.api('POST', `/api/v1/incidents/${id}/transitions`, { body: { to, ...extra } })
    expect(res.statusCode, res.body).toBe(200)
    return res.json() as Json
  }

  const makeServiceRow = async () =>
    (await t.api('POST', '/api/v1/services', { body: { name: `Service ${suffix()}` } })).json().id as string
  const every = (response: number, resolution: number) =>
    [1, 2, 3, 4, 5].map(priority => ({ priority, responseMinutes: response, resolutionMinutes: resolution }))

  beforeAll(async () => {
    t = await buildTestApp()
    calendarId = uuidv7()
    await t.db.insert(calendars).values({ id: calendarId, name: `Paris ${suffix()}`, ...PARIS })
  })
  afterAll(async () => t?.close())

  it('starts at create, pauses in pending and resumes, moving the due times by the paused business time', async () => {
    const service = await makeServiceRow()
    await sla({
      conditions: { kind: 'incident', priority: 3, serviceId: service },
      targets: [{ priority: 3, responseMinutes: 60, resolutionMinutes: 480 }]
    })
    // Monday 7 December 09:00 Paris
    at('2026-12-07T08:00:00.000Z')
    const inc = await makeIncident(t, { impact: 3, urgency: 1, serviceId: service })
    expect(inc.priority).toBe(3)
    let [response, resolution] = await clocksOf(inc.id)
    expect(response).toMatchObject({
      agreement: 'sla',
      target: 'response',
      state: 'running',
      run: 1,
      dueAt: '2026-12-07T09:00:00.000Z'
    })
    // 09-12 and 13-17 Monday are 420 minutes; 60 more on Tuesday from 08:00
    expect(resolution).toMatchObject({
      target: 'resolution',
      state: 'running',
      dueAt: '2026-12-08T08:00:00.000Z',
      elapsedMinutes: 0
    })
    // Pending at 11:00 Paris: 120 minutes used, the response was due at 10:00
    at('2026-12-07T10:00:00.000Z')
    await move(inc.id, 'pending')
    ;[response, resolution] = await clocksOf(inc.id)
    expect(resolution).toMatchObject({ state: 'paused', pausedBy: 'pending', dueAt: null, elapsedMinutes: 120 })
    expect(response).toMatchObject({ state: 'breached', breachedAt: '2026-12-07T09:00:00.000Z' })
    // Back at 16:00 Paris: 360 left, 60 on Monday, 300 from Tuesday 08:00 → 13:00 Paris
    at('2026-12-07T15:00:00.000Z')
    await move(inc.id, 'in_progress')
    ;[, resolution] = await clocksOf(inc.id)
    expect(resolution).toMatchObject({ state: 'running', dueAt: '2026-12-08T12:00:00.000Z', elapsedMinutes: 120 })
    expect(resolution!.segments.map((s: Json) => [s.state, s.from, s.to, s.status])).toEqual([
      ['running', '2026-12-07T08:00:00.000Z', '2026-12-07T10:00:00.000Z', 'new'],
      ['paused', '2026-12-07T10:00:00.000Z', '2026-12-07T15:00:00.000Z', 'pending'],
      ['running', '2026-12-07T15:00:00.000Z', null, 'in_progress']
    ])
  })

  it('re-targets on a priority change (run + 1, minutes used kept) and restarts the resolution clock on reopen', async () => {
    const service = await makeServiceRow()
    const targets = every(60, 480)
    targets[0] = { priority: 1, responseMinutes: 30, resolutionMinutes: 120 }
    await sla({ conditions: { serviceId: service }, targets })
    at('2026-12-07T08:00:00.000Z')
    const inc = await makeIncident(t, { impact: 3, urgency: 1, serviceId: service })
    // An hour later (10:00 Paris) it becomes priority 1: 60 of 120 used, due 11:00 Paris
    at('2026-12-07T09:00:00.000Z')
    const raised = await t.edit(`/api/v1/incidents/${inc.id}`, { body: { impact: 1, urgency: 1 } })
    expect(raised.statusCode, raised.body).toBe(200)
    expect(raised.json().priority).toBe(1)
    let [response, resolution] = await clocksOf(inc.id)
    expect(resolution).toMatchObject({
      run: 2,
      priority: 1,
      targetMinutes: 120,
      elapsedMinutes: 60,
      state: 'running',
      dueAt: '2026-12-07T10:00:00.000Z'
    })
    // 60 minutes are past the new 30-minute response target
    expect(response).toMatchObject({ run: 2, targetMinutes: 30, state: 'breached' })
    expect(resolution!.segments.map((s: Json) => [s.run, s.state])).toEqual([
      [1, 'running'],
      [2, 'running']
    ])
    // Resolved at 10:30 Paris, reopened Tuesday 08:00 Paris: a new run of 120 from nothing
    at('2026-12-07T09:30:00.000Z')
    await move(inc.id, 'resolved', { resolution: 'Restarted the service' })
    ;[, resolution] = await clocksOf(inc.id)
    expect(resolution).toMatchObject({
      state: 'met',
      run: 2,
      elapsedMinutes: 90,
      stoppedAt: '2026-12-07T09:30:00.000Z'
    })
    at('2026-12-08T07:00:00.000Z')
    await move(inc.id, 'in_progress')
    ;[response, resolution] = await clocksOf(inc.id)
    expect(resolution).toMatchObject({
      state: 'running',
      run: 3,
      elapsedMinutes: 0,
      dueAt: '2026-12-08T09:00:00.000Z',
      breachedAt: null
    })
    expect(response).toMatchObject({ state: 'breached', run: 2 })
  })

  it('meets the response by the first public staff reply, or by leaving new, as the SLA says', async () => {
    const replyService = await makeServiceRow()
    const newService = await makeServiceRow()
    await sla({ conditions: { serviceId: replyService }, targets: every(60, 480) })
    await sla({ conditions: { serviceId: newService }, targets: every(60, 480), responseMetBy: 'leaves_new' })
    at('2026-12-07T08:00:00.000Z')
    const byReply = await makeIncident(t, { serviceId: replyService })
    const byMove = await makeIncident(t, { serviceId: newService })
    at('2026-12-07T08:20:00.000Z')
    for (const inc of [byReply, byMove]) {
      const note = await t.api('POST', `/api/v1/incidents/${inc.id}/notes`, {
        body: { body: 'Looking', internal: true }
      })
      expect(note.statusCode, note.body).toBe(201)
      await move(inc.id, 'in_progress')
    }
    // An internal note is no reply; leaving new met the second
    expect((await clocksOf(byReply.id))[0]).toMatchObject({ state: 'running' })
    expect((await clocksOf(byMove.id))[0]).toMatchObject({
      state: 'met',
      elapsedMinutes: 20,
      stoppedAt: '2026-12-07T08:20:00.000Z'
    })
    at('2026-12-07T08:40:00.000Z')
    const reply = await t.api('POST', `/api/v1/incidents/${byReply.id}/notes`, { body: { body: 'On it' } })
    expect(reply.statusCode, reply.body).toBe(201)
    expect((await clocksOf(byReply.id))[0]).toMatchObject({ state: 'met', elapsedMinutes: 40 })
  })

  it('runs OLA clocks per team: the old team stops at a reassignment, the new one starts; customers see only SLA clocks', async () => {
    const service = await makeServiceRow()
    const s = await sla({ conditions: { serviceId: service }, targets: every(120, 480) })
    const [first, second] = [await makeTeam(t), await makeTeam(t)]
    for (const [team, response, resolution] of [
      [first, 30, 120],
      [second, 60, 240]
    ] as const) {
      const ola = await t.api('POST', '/api/v1/olas', {
        body: {
          name: `OLA ${suffix()}`,
          teamId: team.id,
          calendarId,
          targets: every(response, resolution),
          slaIds: [s.id]
        }
      })
      expect(ola.statusCode, ola.body).toBe(201)
    }
    at('2026-12-07T08:00:00.000Z')
    const inc = await makeIncident(t, { serviceId: service, teamId: first.id })
    expect((await clocksOf(inc.id)).map(c => [c.agreement, c.target, c.teamId])).toEqual([
      ['sla', 'response', null],
      ['sla', 'resolution', null],
      ['ola', 'response', first.id],
      ['ola', 'resolution', first.id]
    ])
    at('2026-12-07T09:00:00.000Z')
    const moved = await t.api('PUT', `/api/v1/incidents/${inc.id}/assignment`, { body: { teamId: second.id } })
    expect(moved.statusCode, moved.body).toBe(200)
    const clocks = await clocksOf(inc.id)
    const ola = (team: string, target: string) => clocks.find(c => c.teamId === team && c.target === target)
    // The first team held it an hour: its 30-minute response breached at 09:30 Paris, its resolution met
    expect(ola(first.id, 'response')).toMatchObject({ state: 'breached', breachedAt: '2026-12-07T08:30:00.000Z' })
    expect(ola(first.id, 'resolution')).toMatchObject({ state: 'met', elapsedMinutes: 60 })
    expect(ola(second.id, 'response')).toMatchObject({ state: 'running', run: 1, dueAt: '2026-12-07T10:00:00.000Z' })
    // 10-12 and 13-15 Paris
    expect(ola(second.id, 'resolution')).toMatchObject({ state: 'running', dueAt: '2026-12-07T14:00:00.000Z' })
    expect(clocks.find(c => c.agreement === 'sla' && c.target === 'resolution')).toMatchObject({
      state: 'running',
      run: 1
    })
    const customer = await makeUser(t, ['customer'])
    const own = await makeIncident(t, { serviceId: service, teamId: first.id, requesterId: customer.id })
    expect((await clocksOf(own.id, customer.token)).map(c => c.agreement)).toEqual(['sla', 'sla'])
    expectProblem(await t.api('GET', `/api/v1/tickets/${inc.id}/sla`, { token: customer.token }), 404)
  })

  it('arms one sla.timer item per running clock and marks the clock breached once when it falls due', async () => {
    const service = await makeServiceRow()
    await sla({ conditions: { serviceId: service }, targets: every(60, 480) })
    // In the past, so the queue's own now() finds the timer due: Monday 30 November 09:00 Paris
    at('2026-11-30T08:00:00.000Z')
    const inc = await makeIncident(t, { serviceId: service })
    const [response] = await clocksOf(inc.id)
    const items = await t.db.select().from(workItems).where(eq(workItems.key, response!.id))
    expect(items.map(i => [i.queue, i.dueAt.toISOString()])).toEqual([['sla.timer', '2026-11-30T09:00:00.000Z']])
    at('2026-11-30T09:00:01.000Z')
    const runner = createJobRunner(
      { db: t.db, config: t.app.config, log: t.app.log, services: t.app.services },
      [slaTimerJob],
      60_000,
      { owner: 'test' }
    )
    await runner.tick()
    await runner.stop()
    const after = await clocksOf(inc.id)
    expect(after[0]).toMatchObject({ state: 'breached', breachedAt: '2026-11-30T09:00:00.000Z' })
    expect(after[1]).toMatchObject({ state: 'running', breachedAt: null })
    // The response's item is gone, the resolution's still waits for its own due time
    expect(await t.db.select().from(workItems).where(eq(workItems.key, response!.id))).toEqual([])
    expect(await t.db.select().from(workItems).where(eq(workItems.key, after[1]!.id))).toHaveLength(1)
    const history = await t.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.entityId, inc.id), eq(auditLog.action, 'sla.breached')))
    expect(history).toHaveLength(1)
    // ... and its one breach notice is in the outbox, in the same transaction
    const notices = () =>
      t.db
        .select()
        .from(notificationOutbox)
        .where(and(eq(notificationOutbox.ticketId, inc.id), eq(notificationOutbox.event, 'sla.breach')))
    const [notice, ...more] = await notices()
    expect(more).toHaveLength(0)
    expect(notice!.payload).toEqual({
      agreement: 'sla',
      clock: 'response',
      clockId: response!.id,
      run: 1,
      dueAt: '2026-11-30T09:00:00.000Z'
    })
    // The same item handed over again changes nothing
    await slaTimerJob.run(
      {
        db: t.db,
        config: t.app.config,
        log: t.app.log,
        services: t.app.services,
        signal: new AbortController().signal
      },
      {
        ...items[0]!,
        payload: items[0]!.payload as never,
        leaseOwner: 'x',
        leaseToken: uuidv7(),
        leaseExpiresAt: new Date()
      }
    )
    expect(
      await t.db
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.entityId, inc.id), eq(auditLog.action, 'sla.breached')))
    ).toHaveLength(1)
    expect(await notices()).toHaveLength(1)
    // Pausing the ticket disarms the resolution clock's timer
    at('2026-11-30T10:00:00.000Z')
    await move(inc.id, 'pending')
    expect(await t.db.select().from(workItems).where(eq(workItems.key, after[1]!.id))).toEqual([])
  })
})
