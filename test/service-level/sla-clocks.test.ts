import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { calendars } from '../../src/db/schema/index.js'
import { uuidv7 } from '../../src/lib/ids.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { PARIS } from '../helpers/calendars.js'
import { makeIncident, suffix } from '../helpers/factories.js'

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

  beforeAll(async () => {
    t = await buildTestApp()
    calendarId = uuidv7()
    await t.db.insert(calendars).values({ id: calendarId, name: `Paris ${suffix()}`, ...PARIS })
  })
  afterAll(async () => t?.close())

  it('starts at create, pauses in pending and resumes, moving the due times by the paused business time', async () => {
    await sla({
      conditions: { kind: 'incident', priority: 3 },
      targets: [{ priority: 3, responseMinutes: 60, resolutionMinutes: 480 }]
    })
    // Monday 7 December 09:00 Paris
    at('2026-12-07T08:00:00.000Z')
    const inc = await makeIncident(t, { impact: 3, urgency: 1 })
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
})
