import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { event, makeIntegration, post } from './helpers.js'

let t: TestApp
let token: string

beforeAll(async () => {
  t = await buildTestApp()
  token = (await makeIntegration(t)).token
})
afterAll(async () => t.close())

describe('POST /api/v1/events (generic)', () => {
  it('opens an incident for the first firing event and counts repeats on it', async () => {
    const e = event()
    const first = await post(t, token, '/api/v1/events', e)
    expect(first.statusCode, first.body).toBe(202)
    const one = first.json()
    expect(one).toMatchObject({ status: 'accepted', action: 'opened', replayed: false })
    expect(one.incidentNumber).toMatch(/^INC-\d{6}$/)
    const again = (await post(t, token, '/api/v1/events', e)).json()
    expect(again).toMatchObject({ action: 'deduplicated', incidentId: one.incidentId, alertId: one.alertId })
    const alert = (await t.api('GET', `/api/v1/alerts/${one.alertId}`)).json()
    expect(alert).toMatchObject({
      occurrences: 2,
      state: 'open',
      fingerprint: e.fingerprint,
      incidentId: one.incidentId
    })
    const incident = (await t.api('GET', `/api/v1/incidents/${one.incidentId}`)).json()
    expect(incident).toMatchObject({ title: e.summary, priority: 1, status: 'new' })

    const resolved = (await post(t, token, '/api/v1/events', { ...e, status: 'resolved' })).json()
    expect(resolved).toMatchObject({ action: 'resolved', incidentId: one.incidentId })
    expect((await t.api('GET', `/api/v1/incidents/${one.incidentId}`)).json().status).toBe('resolved')

    const reopened = (await post(t, token, '/api/v1/events', e)).json()
    expect(reopened.action).toBe('opened')
    expect(reopened.incidentId).not.toBe(one.incidentId)
    const links = (await t.api('GET', `/api/v1/incidents/${reopened.incidentId}/links`)).json()
    expect(links.items.map((l: any) => l.ticketId)).toContain(one.incidentId)

    const events = (await t.api('GET', `/api/v1/events?fingerprint=${e.fingerprint}`)).json()
    expect(events.items).toHaveLength(4)
    expect(events.items[0].reason).toMatch(/fired again after INC-/)
  })

  it('refuses an unknown severity naming the field', async () => {
    const res = await post(t, token, '/api/v1/events', event({ severity: 'apocalyptic' }))
    expect(res.statusCode).toBe(400)
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/)
    expect(res.json().errors[0].field).toBe('severity')
  })
})
