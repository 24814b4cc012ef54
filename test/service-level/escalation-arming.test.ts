import { and, eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { workItems } from '../../src/db/schema/index.js'
import { createJobRunner } from '../../src/jobs/runner.js'
import { escalationJob } from '../../src/modules/sla-escalations/escalation.job.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { historyOf, makeIncident, makeUser, suffix } from '../helpers/factories.js'
import { loadSchema, selectAll, shapeProblems } from '../helpers/graphql.js'

type Json = Record<string, any>

/**
 * Thresholds armed by the clock writes themselves: an SLA with 50/75/100 % on the resolution clock,
 * on a calendar of Monday to Friday 09:00-17:00 UTC (480 business minutes a day). The service's time
 * source is moved to hand-picked instants in November 2026 (in the past, so the queue's own now()
 * finds every armed row claimable: the job decides by the service's time whether it is reached).
 */
describe('escalation thresholds armed by the clocks', () => {
  let t: TestApp
  let serviceId: string
  let watcherId: string
  const at = (iso: string) => {
    t.app.services.slaClocks.clock.now = () => new Date(iso)
  }

  beforeAll(async () => {
    t = await buildTestApp()
    const day = [['09:00', '17:00']]
    const cal = await t.api('POST', '/api/v1/calendars', {
      body: {
        name: `Office ${suffix()}`,
        timeZone: 'UTC',
        hours: { mon: day, tue: day, wed: day, thu: day, fri: day, sat: [], sun: [] }
      }
    })
    expect(cal.statusCode, cal.body).toBe(201)
    serviceId = (await t.api('POST', '/api/v1/services', { body: { name: `Service ${suffix()}` } })).json().id
    watcherId = (await makeUser(t, ['technician'])).id
    const tell = [{ type: 'notify', audience: 'users', userIds: [watcherId] }]
    const sla = await t.api('POST', '/api/v1/slas', {
      body: {
        name: `SLA ${suffix()}`,
        calendarId: cal.json().id,
        conditions: { serviceId },
        targets: [1, 2, 3, 4, 5].map(priority => ({
          priority,
          responseMinutes: 60,
          resolutionMinutes: priority === 5 ? 960 : 480
        })),
        escalations: [50, 75, 100].map(percent => ({ percent, clock: 'resolution', actions: tell }))
      }
    })
    expect(sla.statusCode, sla.body).toBe(201)
  })
  afterAll(async () => t?.close())

  const clocksOf = async (id: string) => {
    const res = await t.api('GET', `/api/v1/tickets/${id}/sla`)
    expect(res.statusCode, res.body).toBe(200)
    return res.json().clocks as Json[]
  }
  const resolutionOf = async (id: string) => (await clocksOf(id)).find(c => c.target === 'resolution')!
  const armed = async (clockId: string): Promise<Json[]> =>
    (
      await t.db
        .select()
        .from(workItems)
        .where(and(eq(workItems.queue, 'sla.escalation'), eq(workItems.key, clockId)))
    ).map(i => ({ dueAt: i.dueAt.toISOString(), ...(i.payload as Json) }))
  const move = async (id: string, to: string, extra: Json = {}) => {
    const res = await t.api('POST', `/api/v1/incidents/${id}/transitions`, { body: { to, ...extra } })
    expect(res.statusCode, res.body).toBe(200)
  }
  /** One scheduler poll of the escalation job, run to the end. */
  async function tick() {
    const runner = createJobRunner(
      { db: t.db, config: t.app.config, log: t.app.log, services: t.app.services },
      [escalationJob],
      60_000,
      { owner: 'test' }
    )
    await runner.tick()
    await runner.stop()
  }
  const fired = (clock: Json) => clock.escalations.map((e: Json) => [e.threshold, e.run, e.firedAt])

  it('arms the 50 % at create, fires it once at its instant, moves the next by a pause, and disarms on resolve', async () => {
    // Monday 2 November 09:00: 480 minutes, so 50 % at 13:00, 75 % at 15:00, 100 % at 17:00
    at('2026-11-02T09:00:00.000Z')
    const inc = await makeIncident(t, { impact: 3, urgency: 1, serviceId })
    expect(inc.priority).toBe(3)
    const [response, resolution] = await clocksOf(inc.id)
    expect(resolution).toMatchObject({ targetMinutes: 480, run: 1, escalations: [] })
    expect(await armed(resolution!.id)).toEqual([
      {
        dueAt: '2026-11-02T13:00:00.000Z',
        clockId: resolution!.id,
        run: 1,
        clock: 'resolution',
        ticketId: inc.id,
        slaId: resolution!.slaId,
        percent: 50
      }
    ])
    // The response clock has no thresholds: nothing armed for it
    expect(await armed(response!.id)).toEqual([])

    // A second early: the row is claimed (the database's clock is past it) but does nothing
    at('2026-11-02T12:59:59.000Z')
    await tick()
    expect((await resolutionOf(inc.id)).escalations).toEqual([])
    expect((await armed(resolution!.id)).map(a => [a.percent, a.dueAt])).toEqual([[50, '2026-11-02T13:00:00.000Z']])

    // Reached: it fires, and the 75 % is armed for 15:00
    at('2026-11-02T13:00:30.000Z')
    await tick()
    let clock = await resolutionOf(inc.id)
    expect(clock.escalations).toEqual([
      {
        threshold: 50,
        run: 1,
        firedAt: '2026-11-02T13:00:30.000Z',
        actions: [{ type: 'notify', audience: 'users', userIds: [watcherId], told: [watcherId] }]
      }
    ])
    expect((await armed(resolution!.id)).map(a => [a.percent, a.run, a.dueAt])).toEqual([
      [75, 1, '2026-11-02T15:00:00.000Z']
    ])
    // Once: another poll at the same instant fires nothing more
    await tick()
    expect(fired(await resolutionOf(inc.id))).toHaveLength(1)

    // Pending at 14:00 (300 used): disarmed; back Tuesday 10:00: 60 minutes to go, 75 % at 11:00 —
    // 240 business minutes (Monday 14-17, Tuesday 09-10) later than it was
    at('2026-11-02T14:00:00.000Z')
    await move(inc.id, 'pending')
    expect(await armed(resolution!.id)).toEqual([])
    at('2026-11-03T10:00:00.000Z')
    await move(inc.id, 'in_progress')
    expect((await armed(resolution!.id)).map(a => [a.percent, a.run, a.dueAt])).toEqual([
      [75, 1, '2026-11-03T11:00:00.000Z']
    ])
    at('2026-11-03T10:59:00.000Z')
    await tick()
    expect(fired(await resolutionOf(inc.id))).toHaveLength(1)
    at('2026-11-03T11:00:00.000Z')
    await tick()
    clock = await resolutionOf(inc.id)
    expect(fired(clock)).toEqual([
      [50, 1, '2026-11-02T13:00:30.000Z'],
      [75, 1, '2026-11-03T11:00:00.000Z']
    ])
    // 100 % next, at Tuesday 13:00
    expect((await armed(resolution!.id)).map(a => [a.percent, a.dueAt])).toEqual([[100, '2026-11-03T13:00:00.000Z']])

    // Resolved at 12:00: disarmed, and nothing fires afterwards
    at('2026-11-03T12:00:00.000Z')
    await move(inc.id, 'resolved', { resolution: 'Replaced the switch' })
    expect(await armed(resolution!.id)).toEqual([])
    at('2026-11-03T14:00:00.000Z')
    await tick()
    expect(fired(await resolutionOf(inc.id))).toHaveLength(2)

    // Each firing in the ticket's history, by the escalation actor
    const history = (await historyOf(t, 'incidents', inc.id)).filter(h => h.action === 'sla.escalated')
    expect(history.map(h => h.actor)).toEqual(['system:sla-escalations', 'system:sla-escalations'])
    const thresholds = history
      .flatMap(h => h.changes)
      .filter(c => c.field === 'sla.resolution.escalations')
      .map(c => [(c.new as Json).threshold, (c.new as Json).run])
    expect(thresholds.sort()).toEqual([
      [50, 1],
      [75, 1]
    ])
  })

  it('re-targets: the thresholds apply anew for the new target; a reopen re-arms from nothing', async () => {
    // Monday 9 November 09:00, priority 3 (480): the 50 % fires at 13:00
    at('2026-11-09T09:00:00.000Z')
    const inc = await makeIncident(t, { impact: 3, urgency: 1, serviceId })
    const { id } = await resolutionOf(inc.id)
    at('2026-11-09T13:00:00.000Z')
    await tick()
    expect(fired(await resolutionOf(inc.id))).toEqual([[50, 1, '2026-11-09T13:00:00.000Z']])

    // 13:30, 270 used: priority 5 (960), run 2; its 50 % is at 480 used, 210 minutes on: 17:00
    at('2026-11-09T13:30:00.000Z')
    const lowered = await t.edit(`/api/v1/incidents/${inc.id}`, { body: { impact: 3, urgency: 3 } })
    expect(lowered.statusCode, lowered.body).toBe(200)
    expect(lowered.json().priority).toBe(5)
    expect(await resolutionOf(inc.id)).toMatchObject({ run: 2, targetMinutes: 960, elapsedMinutes: 270 })
    expect((await armed(id)).map(a => [a.percent, a.run, a.dueAt])).toEqual([[50, 2, '2026-11-09T17:00:00.000Z']])
    at('2026-11-09T17:00:00.000Z')
    await tick()
    expect(fired(await resolutionOf(inc.id))).toEqual([
      [50, 1, '2026-11-09T13:00:00.000Z'],
      [50, 2, '2026-11-09T17:00:00.000Z']
    ])
    // 75 % of 960 = 720 used: 240 more from Tuesday 09:00
    expect((await armed(id)).map(a => [a.percent, a.run, a.dueAt])).toEqual([[75, 2, '2026-11-10T13:00:00.000Z']])

    // Resolved Tuesday 09:30, reopened 10:00: run 3 from nothing, 50 % of 960 at 480 → Wednesday 10:00
    at('2026-11-10T09:30:00.000Z')
    await move(inc.id, 'resolved', { resolution: 'Rebooted' })
    expect(await armed(id)).toEqual([])
    at('2026-11-10T10:00:00.000Z')
    await move(inc.id, 'in_progress')
    expect(await resolutionOf(inc.id)).toMatchObject({ run: 3, elapsedMinutes: 0 })
    expect((await armed(id)).map(a => [a.percent, a.run, a.dueAt])).toEqual([[50, 3, '2026-11-11T10:00:00.000Z']])
    at('2026-11-11T10:00:00.000Z')
    await tick()
    expect(fired(await resolutionOf(inc.id)).map((f: unknown[]) => f.slice(0, 2))).toEqual([
      [50, 1],
      [50, 2],
      [50, 3]
    ])
  })

  it('a threshold that fired and is already reached under a new, shorter target does not fire again', async () => {
    // Priority 5 (960) from Monday 16 November 09:00: 50 % at 480 used, the whole Monday: 17:00
    at('2026-11-16T09:00:00.000Z')
    const inc = await makeIncident(t, { impact: 3, urgency: 3, serviceId })
    expect(inc.priority).toBe(5)
    const { id } = await resolutionOf(inc.id)
    expect((await armed(id)).map(a => [a.percent, a.dueAt])).toEqual([[50, '2026-11-16T17:00:00.000Z']])
    at('2026-11-16T17:00:00.000Z')
    await tick()
    // Tuesday 10:00, 540 used: priority 3 (480), past 100 % of it. The 50 % fired in run 1 and is
    // reached already: not again; the 75 % and 100 % never fired: they apply now
    at('2026-11-17T10:00:00.000Z')
    const raised = await t.edit(`/api/v1/incidents/${inc.id}`, { body: { impact: 3, urgency: 1 } })
    expect(raised.json().priority).toBe(3)
    expect((await armed(id)).map(a => [a.percent, a.run, a.dueAt])).toEqual([[75, 2, '2026-11-17T10:00:00.000Z']])
    await tick()
    expect((await armed(id)).map(a => [a.percent, a.run])).toEqual([[100, 2]])
    await tick()
    expect(fired(await resolutionOf(inc.id)).map((f: unknown[]) => f.slice(0, 2))).toEqual([
      [50, 1],
      [75, 2],
      [100, 2]
    ])
    expect(await armed(id)).toEqual([])
  })

  it('answers the clocks and their firings over GraphQL, every field', async () => {
    at('2026-11-23T09:00:00.000Z')
    const inc = await makeIncident(t, { impact: 3, urgency: 1, serviceId })
    at('2026-11-23T13:00:00.000Z')
    await tick()
    const schema = loadSchema()
    const res = await t.gql(`query($ref: String!) { ticketSla(ref: $ref) ${selectAll(schema, 'TicketSla')} }`, {
      ref: inc.number
    })
    expect(res.body.errors).toBeUndefined()
    const data = res.body.data!.ticketSla
    expect(
      shapeProblems(schema, 'TicketSla', data, {
        strict: true,
        allowNull: [
          'SlaClock.olaId',
          'SlaClock.teamId',
          'SlaClock.dueAt',
          'SlaClock.breachedAt',
          'SlaClock.stoppedAt',
          'SlaClock.pausedBy',
          'SlaClockSegment.to',
          'SlaFiredAction.teamId',
          'SlaFiredAction.steps',
          'SlaFiredAction.from',
          'SlaFiredAction.to',
          'SlaFiredAction.skipped'
        ]
      })
    ).toEqual([])
    const rest = await clocksOf(inc.id)
    expect(data.ticketId).toBe(inc.id)
    expect(data.clocks.map((c: Json) => c.id)).toEqual(rest.map(c => c.id))
    const resolution = data.clocks.find((c: Json) => c.target === 'resolution')
    expect(resolution).toMatchObject({ state: 'running', run: 1, percentUsed: 50, elapsedMinutes: 240 })
    expect(resolution.escalations).toEqual([
      {
        threshold: 50,
        run: 1,
        firedAt: '2026-11-23T13:00:00.000Z',
        actions: [
          {
            type: 'notify',
            audience: 'users',
            userIds: [watcherId],
            teamId: null,
            steps: null,
            told: [watcherId],
            from: null,
            to: null,
            skipped: null
          }
        ]
      }
    ])
  })
})
