import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { alertmanagerFiring, grafanaFiring } from './fixtures.js'
import { makeIntegration, post } from './helpers.js'
import { expectIngestAuth, expectProblem, incident } from './receiver-checks.js'

let t: TestApp
let token: string
let userId: string

beforeAll(async () => {
  t = await buildTestApp()
  const integration = await makeIntegration(t, 'grafana')
  token = integration.token
  userId = integration.user.id
})
afterAll(async () => t.close())

const resolvedBody = () => {
  const body = structuredClone(grafanaFiring) as any
  body.status = 'resolved'
  body.state = 'ok'
  body.alerts[0].status = 'resolved'
  body.alerts[0].endsAt = '2026-11-23T14:40:00Z'
  return body
}

describe('POST|PUT /api/v1/events/grafana (peers.md §2 example)', () => {
  it('opens an incident keyed by organisation and fingerprint, deduplicates (POST or PUT) and resolves it', async () => {
    const url = '/api/v1/events/grafana/grafana-prod'
    const first = await post(t, token, url, grafanaFiring)
    expect(first.statusCode, first.body).toBe(202)
    const [opened] = first.json().items
    expect(opened).toMatchObject({ status: 'accepted', action: 'opened' })
    expect(opened.incidentNumber).toMatch(/^INC-\d{6}$/)
    expect(await incident(t, opened.incidentId)).toMatchObject({
      title: 'api 5xx ratio is 8.3% (threshold 5%)',
      priority: 1,
      number: opened.incidentNumber
    })
    const alert = (await t.api('GET', `/api/v1/alerts/${opened.alertId}`)).json()
    expect(alert.fingerprint).toBe('1:5c1a7e9b04d2f318')
    const event = (await t.api('GET', `/api/v1/events/${opened.eventId}`)).json()
    expect(event.details).toMatchObject({
      orgId: 1,
      state: 'alerting',
      values: { A: 0.083, C: 1 },
      panelURL: grafanaFiring.alerts[0]!.panelURL
    })

    const again = await t.api('PUT', url, { token, body: grafanaFiring })
    expect(again.statusCode, again.body).toBe(202)
    expect(again.json().items[0]).toMatchObject({ action: 'deduplicated', incidentId: opened.incidentId })

    const otherOrg = (await post(t, token, url, { ...grafanaFiring, orgId: 2 })).json().items[0]
    expect(otherOrg.action).toBe('opened')
    expect(otherOrg.incidentId).not.toBe(opened.incidentId)

    const resolved = (await post(t, token, url, resolvedBody())).json().items[0]
    expect(resolved).toMatchObject({ action: 'resolved', incidentId: opened.incidentId })
    expect((await incident(t, opened.incidentId)).status).toBe('resolved')
    expect((await incident(t, otherOrg.incidentId)).status).toBe('new')
  })

  it('takes the contact point test notification without opening an incident', async () => {
    const body = structuredClone(grafanaFiring) as any
    body.alerts[0].labels = { alertname: 'TestAlert', instance: 'Grafana' }
    body.alerts[0].annotations = { summary: 'Notification test' }
    body.alerts[0].fingerprint = '57c6d9296de2ad39'
    for (let i = 0; i < 2; i++) {
      const res = await post(t, token, '/api/v1/events/grafana/grafana-test', body)
      expect(res.statusCode, res.body).toBe(202)
      expect(res.json().items[0]).toMatchObject({ status: 'accepted', action: 'ignored', incidentId: null })
    }
    const events = (await t.api('GET', '/api/v1/events?source=grafana-test')).json()
    expect(events.items).toHaveLength(2)
    expect(events.items[0]).toMatchObject({ severity: 'info', status: 'update', labels: { test: 'true' } })
    const alerts = (await t.api('GET', '/api/v1/alerts?source=grafana-test')).json()
    expect(alerts.items).toHaveLength(0)
  })

  it('refuses an Alertmanager body with 400 naming orgId and pointing to the right route', async () => {
    await expectProblem(
      await post(t, token, '/api/v1/events/grafana', alertmanagerFiring),
      400,
      'orgId',
      /Alertmanager body: post it to \/api\/v1\/events\/alertmanager/
    )
  })

  it('refuses another version, and a body without orgId, naming the field', async () => {
    await expectProblem(
      await post(t, token, '/api/v1/events/grafana', { ...grafanaFiring, version: '2' }),
      400,
      'version'
    )
    const { orgId: _o, ...noOrg } = grafanaFiring
    await expectProblem(await post(t, token, '/api/v1/events/grafana', noOrg), 400, 'orgId')
    const { alerts: _a, ...noAlerts } = grafanaFiring
    await expectProblem(await post(t, token, '/api/v1/events/grafana', noAlerts), 400, 'alerts')
  })

  it('answers 401 without a token and 403 without events:write', async () => {
    await expectIngestAuth(t, userId, '/api/v1/events/grafana/grafana-prod', grafanaFiring)
  })
})
