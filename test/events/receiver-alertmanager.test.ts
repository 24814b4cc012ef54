import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeTeam } from '../helpers/factories.js'
import { alertmanagerFiring, alertmanagerPartialResolve, grafanaFiring } from './fixtures.js'
import { makeIntegration, post } from './helpers.js'
import { expectIngestAuth, expectProblem, incident } from './receiver-checks.js'

let t: TestApp
let token: string
let userId: string

beforeAll(async () => {
  t = await buildTestApp()
  const integration = await makeIntegration(t, 'prometheus')
  token = integration.token
  userId = integration.user.id
})
afterAll(async () => t.close())

describe('POST /api/v1/events/alertmanager (peers.md §1 examples)', () => {
  it('opens one incident per alert, deduplicates the repeat, and a partial resolve resolves only that alert', async () => {
    const url = '/api/v1/events/alertmanager/prod-am'
    const first = await post(t, token, url, alertmanagerFiring)
    expect(first.statusCode, first.body).toBe(202)
    const opened = first.json()
    expect(opened).toMatchObject({ accepted: 2, rejected: 0 })
    expect(opened.items.map((i: any) => i.action)).toEqual(['opened', 'opened'])
    const [root, varFs] = opened.items
    expect(root.incidentId).not.toBe(varFs.incidentId)
    expect(root.incidentNumber).toMatch(/^INC-\d{6}$/)
    const rootIncident = await incident(t, root.incidentId)
    expect(rootIncident).toMatchObject({
      title: 'Filesystem / on srv-app01 has 3.9% space left',
      priority: 1,
      number: root.incidentNumber
    })
    const alert = (await t.api('GET', `/api/v1/alerts/${root.alertId}`)).json()
    expect(alert).toMatchObject({
      source: 'prod-am',
      fingerprint: '936a01dd5b4ca62b',
      family: 'NodeFilesystemAlmostFull'
    })

    const again = (await post(t, token, url, alertmanagerFiring)).json()
    expect(again.items.map((i: any) => i.action)).toEqual(['deduplicated', 'deduplicated'])
    expect(again.items.map((i: any) => i.incidentId)).toEqual([root.incidentId, varFs.incidentId])

    const partial = await post(t, token, url, alertmanagerPartialResolve)
    expect(partial.statusCode, partial.body).toBe(202)
    const items = partial.json().items
    expect(items[0]).toMatchObject({ action: 'resolved', incidentId: root.incidentId })
    expect(items[1]).toMatchObject({ action: 'deduplicated', incidentId: varFs.incidentId })
    expect((await incident(t, root.incidentId)).status).toBe('resolved')
    expect((await incident(t, varFs.incidentId)).status).toBe('new')
  })

  it('refuses another payload version with 400 naming version', async () => {
    await expectProblem(
      await post(t, token, '/api/v1/events/alertmanager', { ...alertmanagerFiring, version: '5' }),
      400,
      'version',
      /must be "4"/
    )
  })

  it('refuses a Grafana body with 400 and says where it belongs', async () => {
    await expectProblem(
      await post(t, token, '/api/v1/events/alertmanager', grafanaFiring),
      400,
      'version',
      /Grafana body: post it to \/api\/v1\/events\/grafana/
    )
  })

  it('names a missing alerts array, and rejects a bad alert alone', async () => {
    const { alerts: _a, ...noAlerts } = alertmanagerFiring
    await expectProblem(await post(t, token, '/api/v1/events/alertmanager', noAlerts), 400, 'alerts')
    const bad = structuredClone(alertmanagerFiring) as any
    bad.alerts[0].labels = {}
    const res = await post(t, token, '/api/v1/events/alertmanager/am-bad-item', bad)
    expect(res.statusCode, res.body).toBe(202)
    expect(res.json()).toMatchObject({ accepted: 1, rejected: 1 })
    expect(res.json().items[0].errors[0].field).toBe('alerts[0].labels')
  })

  it('answers 401 without a token and 403 without events:write', async () => {
    await expectIngestAuth(t, userId, '/api/v1/events/alertmanager/prod-am', alertmanagerFiring)
  })

  it('matches the CI from the instance label: the incident goes to its support team and the alert names it', async () => {
    const team = await makeTeam(t)
    const ci = await t.api('POST', '/api/v1/cis', {
      body: {
        name: 'srv-app01',
        hostname: 'srv-app01',
        fqdn: 'srv-app01.corp.example.com',
        supportTeamId: team.id
      }
    })
    expect(ci.statusCode, ci.body).toBe(201)
    const res = await post(t, token, '/api/v1/events/alertmanager/am-cmdb', alertmanagerFiring)
    expect(res.statusCode, res.body).toBe(202)
    const [first] = res.json().items
    expect(first.action).toBe('opened')
    expect((await incident(t, first.incidentId)).teamId).toBe(team.id)
    const alert = (await t.api('GET', `/api/v1/alerts/${first.alertId}`)).json()
    expect(alert.ciId).toBe(ci.json().id)
  })
})
