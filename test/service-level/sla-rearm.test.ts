import { and, eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { workItems } from '../../src/db/schema/index.js'
import { createJobRunner } from '../../src/jobs/runner.js'
import { escalationJob } from '../../src/modules/sla-escalations/escalation.job.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeIncident, makeUser, suffix } from '../helpers/factories.js'

type Json = Record<string, any>

/**
 * PATCH of an SLA's escalation thresholds re-arms the running clocks of that SLA in the same
 * transaction: a new 50 % is armed (and fires) for tickets already running, a removed threshold is
 * disarmed, and paused clocks stay disarmed until they resume. An always-open calendar makes business
 * minutes wall-clock minutes; the clocks' time source is moved to fixed instants in the past.
 */
describe('editing an SLA re-arms its running clocks', () => {
  let t: TestApp
  let serviceId: string
  let slaId: string
  let watcherId: string
  const at = (iso: string) => {
    t.app.services.slaClocks.clock.now = () => new Date(iso)
  }

  beforeAll(async () => {
    t = await buildTestApp()
    const always = [['00:00', '24:00']]
    const cal = await t.api('POST', '/api/v1/calendars', {
      body: {
        name: `Always ${suffix()}`,
        timeZone: 'UTC',
        hours: { mon: always, tue: always, wed: always, thu: always, fri: always, sat: always, sun: always }
      }
    })
    expect(cal.statusCode, cal.body).toBe(201)
    serviceId = (await t.api('POST', '/api/v1/services', { body: { name: `Service ${suffix()}` } })).json().id
    watcherId = (await makeUser(t, ['technician'])).id
    const sla = await t.api('POST', '/api/v1/slas', {
      body: {
        name: `SLA ${suffix()}`,
        calendarId: cal.json().id,
        conditions: { serviceId },
        targets: [1, 2, 3, 4, 5].map(priority => ({ priority, responseMinutes: 60, resolutionMinutes: 400 })),
        escalations: [{ percent: 75, clock: 'resolution', actions: tell() }]
      }
    })
    expect(sla.statusCode, sla.body).toBe(201)
    slaId = sla.json().id
  })
  afterAll(async () => t?.close())

  function tell() {
    return [{ type: 'notify', audience: 'users', userIds: [watcherId] }]
  }
  const resolutionOf = async (id: string) => {
    const res = await t.api('GET', `/api/v1/tickets/${id}/sla`)
    expect(res.statusCode, res.body).toBe(200)
    return (res.json().clocks as Json[]).find(c => c.target === 'resolution')!
  }
  const armed = async (clockId: string) =>
    (
      await t.db
        .select()
        .from(workItems)
        .where(and(eq(workItems.queue, 'sla.escalation'), eq(workItems.key, clockId)))
    ).map(i => [(i.payload as Json).percent, (i.payload as Json).run, i.dueAt.toISOString()])
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
  async function patchEscalations(escalations: Json[]) {
    const res = await t.edit(`/api/v1/slas/${slaId}`, { body: { escalations } })
    expect(res.statusCode, res.body).toBe(200)
    return res.json()
  }

  it('arms a new 50 % for tickets already running, fires it, and disarms a removed threshold', async () => {
    // 08:00: 400 minutes to resolve, the 75 % at 13:00
    at('2026-11-02T08:00:00.000Z')
    const running = await makeIncident(t, { serviceId, impact: 3, urgency: 3 })
    const paused = await makeIncident(t, { serviceId, impact: 3, urgency: 3 })
    const runningClock = await resolutionOf(running.id)
    const pausedClock = await resolutionOf(paused.id)
    expect(await armed(runningClock.id)).toEqual([[75, 1, '2026-11-02T13:00:00.000Z']])
    const pend = await t.api('POST', `/api/v1/incidents/${paused.id}/transitions`, { body: { to: 'pending' } })
    expect(pend.statusCode, pend.body).toBe(200)
    expect(await armed(pausedClock.id)).toEqual([])

    // 09:00: a 50 % is added (due at 11:20 for the running clock); the paused one stays disarmed
    at('2026-11-02T09:00:00.000Z')
    const edited = await patchEscalations([
      { percent: 50, clock: 'resolution', actions: tell() },
      { percent: 75, clock: 'resolution', actions: tell() }
    ])
    expect(edited.escalations.map((e: Json) => e.percent)).toEqual([50, 75])
    expect(await armed(runningClock.id)).toEqual([[50, 1, '2026-11-02T11:20:00.000Z']])
    expect(await armed(pausedClock.id)).toEqual([])

    // 11:30: the new threshold fires once for the ticket that was already running, then the 75 % is next
    at('2026-11-02T11:30:00.000Z')
    await tick()
    expect((await resolutionOf(running.id)).escalations).toEqual([
      {
        threshold: 50,
        run: 1,
        firedAt: '2026-11-02T11:30:00.000Z',
        actions: [{ type: 'notify', audience: 'users', userIds: [watcherId], told: [watcherId] }]
      }
    ])
    expect(await armed(runningClock.id)).toEqual([[75, 1, '2026-11-02T13:00:00.000Z']])

    // The 75 % removed: nothing left to fire, the clock is disarmed; a PATCH of other fields re-arms nothing
    await patchEscalations([{ percent: 50, clock: 'resolution', actions: tell() }])
    expect(await armed(runningClock.id)).toEqual([])
    const renamed = await t.edit(`/api/v1/slas/${slaId}`, { body: { name: `Renamed ${suffix()}` } })
    expect(renamed.statusCode, renamed.body).toBe(200)
    expect(await armed(runningClock.id)).toEqual([])
  })
})
