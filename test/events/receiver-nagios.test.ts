import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { notifyItsmProblem, zabbixItsmProblem } from './fixtures.js'
import { makeIntegration, post } from './helpers.js'
import { expectIngestAuth, expectProblem, incident, notes } from './receiver-checks.js'

let t: TestApp
let token: string
let userId: string

beforeAll(async () => {
  t = await buildTestApp()
  const integration = await makeIntegration(t, 'nagios')
  token = integration.token
  userId = integration.user.id
})
afterAll(async () => t.close())

/** peers.md §3b: "For Nagios the same script fills problem_id from $SERVICEPROBLEMID$ (e.g. "184213")". */
const nagiosProblem = {
  ...notifyItsmProblem,
  source: 'nagios1.example.com',
  problem_id: '184213',
  last_problem_id: '0'
}
const nagiosRecovery = {
  ...nagiosProblem,
  notification_type: 'RECOVERY',
  state: 'OK',
  state_id: 0,
  output: 'HTTP OK: HTTP/1.1 200 OK - 1024 bytes in 0.012 second response time',
  last_state_change: 1795447000,
  problem_id: '0',
  last_problem_id: '184213'
}

describe('POST /api/v1/events/nagios (peers.md §3b with Nagios problem ids)', () => {
  it('opens on a HARD problem, deduplicates, notes an acknowledgement, and RECOVERY with last_problem_id resolves it', async () => {
    const url = '/api/v1/events/nagios/nagios-prod'
    const first = await post(t, token, url, nagiosProblem)
    expect(first.statusCode, first.body).toBe(202)
    const [opened] = first.json().items
    expect(opened.action).toBe('opened')
    expect(opened.incidentNumber).toMatch(/^INC-\d{6}$/)
    expect(await incident(t, opened.incidentId)).toMatchObject({
      title:
        'HTTPS API /healthz on srv-app01: HTTP CRITICAL: HTTP/1.1 503 Service Unavailable - 312 bytes in 0.044 second response time',
      priority: 1
    })
    const event = (await t.api('GET', `/api/v1/events/${opened.eventId}`)).json()
    expect(event).toMatchObject({
      source: 'nagios-prod',
      fingerprint: 'svc:184213',
      severity: 'critical',
      occurredAt: '2026-11-23T15:01:41.000Z',
      labels: { host: 'srv-app01', service: 'http-api', state: 'CRITICAL' }
    })

    const again = (await post(t, token, url, nagiosProblem)).json().items[0]
    expect(again).toMatchObject({ action: 'deduplicated', incidentId: opened.incidentId })

    const ack = await post(t, token, url, {
      ...nagiosProblem,
      notification_type: 'ACKNOWLEDGEMENT',
      author: 'jdoe',
      comment: 'Restarting the API pods'
    })
    expect(ack.json().items[0]).toMatchObject({ action: 'noted', incidentId: opened.incidentId })
    expect((await notes(t, opened.incidentId)).at(-1)!.body).toContain(
      'ACKNOWLEDGEMENT by jdoe: Restarting the API pods'
    )
    expect((await incident(t, opened.incidentId)).status).toBe('new')

    const recovered = (await post(t, token, url, nagiosRecovery)).json().items[0]
    expect(recovered).toMatchObject({ action: 'resolved', incidentId: opened.incidentId })
    expect((await incident(t, opened.incidentId)).status).toBe('resolved')

    // The next problem has a new problem id: a new incident
    const next = (await post(t, token, url, { ...nagiosProblem, problem_id: '184250' })).json().items[0]
    expect(next.action).toBe('opened')
    expect(next.incidentId).not.toBe(opened.incidentId)
  })

  it('does not open an incident for a SOFT problem: the item is rejected with the reason', async () => {
    const res = await post(t, token, '/api/v1/events/nagios/nagios-soft', {
      ...nagiosProblem,
      state_type: 'SOFT',
      check_attempt: 1
    })
    expect(res.statusCode, res.body).toBe(202)
    expect(res.json()).toMatchObject({ accepted: 0, rejected: 1 })
    expect(res.json().items[0]).toMatchObject({ status: 'rejected', incidentId: null })
    expect(res.json().items[0].reason).toContain('SOFT state: retries are not incidents')
    expect((await t.api('GET', '/api/v1/alerts?source=nagios-soft')).json().items).toHaveLength(0)
  })

  it('opens a host problem under its host problem id', async () => {
    const res = await post(t, token, '/api/v1/events/nagios/nagios-hosts', {
      notification_type: 'PROBLEM',
      object_type: 'host',
      host_name: 'srv-db02',
      host_address: 'srv-db02.corp.example.com',
      state: 'DOWN',
      state_type: 'HARD',
      output: 'PING CRITICAL - Packet loss = 100%',
      problem_id: '77'
    })
    expect(res.statusCode, res.body).toBe(202)
    const [opened] = res.json().items
    expect(await incident(t, opened.incidentId)).toMatchObject({
      title: 'srv-db02 is DOWN: PING CRITICAL - Packet loss = 100%',
      priority: 1
    })
    expect((await t.api('GET', `/api/v1/alerts/${opened.alertId}`)).json().fingerprint).toBe('host:77')
  })

  it('names missing problem ids, unknown types and another tool’s body with 400', async () => {
    await expectProblem(
      await post(t, token, '/api/v1/events/nagios', notifyItsmProblem),
      400,
      'problem_id',
      /Icinga 2 has none: post to \/api\/v1\/events\/icinga/
    )
    const { last_problem_id: _l, ...noLast } = nagiosRecovery
    await expectProblem(await post(t, token, '/api/v1/events/nagios', noLast), 400, 'last_problem_id')
    await expectProblem(
      await post(t, token, '/api/v1/events/nagios', { ...nagiosProblem, notification_type: 'EXPLODED' }),
      400,
      'notification_type'
    )
    await expectProblem(
      await post(t, token, '/api/v1/events/nagios', { ...nagiosProblem, object_type: 'service', service_name: '' }),
      400,
      'service_name'
    )
    await expectProblem(
      await post(t, token, '/api/v1/events/nagios', zabbixItsmProblem),
      400,
      'notification_type',
      /Zabbix body: post it to \/api\/v1\/events\/zabbix/
    )
  })

  it('answers 401 without a token and 403 without events:write', async () => {
    await expectIngestAuth(t, userId, '/api/v1/events/nagios/nagios-prod', nagiosProblem)
  })
})

describe('POST /api/v1/events/icinga (peers.md §3b example, no problem id)', () => {
  it('keys on host!service within the body’s source: PROBLEM opens, RECOVERY resolves, the next PROBLEM opens anew', async () => {
    const first = await post(t, token, '/api/v1/events/icinga', notifyItsmProblem)
    expect(first.statusCode, first.body).toBe(202)
    const [opened] = first.json().items
    expect(opened.action).toBe('opened')
    expect(opened.incidentNumber).toMatch(/^INC-\d{6}$/)
    expect(await incident(t, opened.incidentId)).toMatchObject({
      title:
        'HTTPS API /healthz on srv-app01: HTTP CRITICAL: HTTP/1.1 503 Service Unavailable - 312 bytes in 0.044 second response time',
      priority: 1
    })
    const alert = (await t.api('GET', `/api/v1/alerts/${opened.alertId}`)).json()
    expect(alert).toMatchObject({ source: 'icinga2-master1.example.com', fingerprint: 'srv-app01!http-api' })

    const warning = { ...notifyItsmProblem, state: 'WARNING', state_id: 1 }
    const again = (await post(t, token, '/api/v1/events/icinga', warning)).json().items[0]
    expect(again).toMatchObject({ action: 'deduplicated', incidentId: opened.incidentId })

    const ack = (
      await post(t, token, '/api/v1/events/icinga', {
        ...notifyItsmProblem,
        notification_type: 'ACKNOWLEDGEMENT',
        author: 'icingaadmin',
        comment: 'on it'
      })
    ).json().items[0]
    expect(ack).toMatchObject({ action: 'noted', incidentId: opened.incidentId })

    const recovery = {
      ...notifyItsmProblem,
      notification_type: 'RECOVERY',
      state: 'OK',
      state_id: 0,
      output: 'HTTP OK',
      last_state_change: 1795447000
    }
    const resolved = (await post(t, token, '/api/v1/events/icinga', recovery)).json().items[0]
    expect(resolved).toMatchObject({ action: 'resolved', incidentId: opened.incidentId })
    expect((await incident(t, opened.incidentId)).status).toBe('resolved')

    // A late PROBLEM of the episode that already ended reopens nothing
    const late = (await post(t, token, '/api/v1/events/icinga', notifyItsmProblem)).json().items[0]
    expect(late.action).toBe('ignored')

    const next = (
      await post(t, token, '/api/v1/events/icinga', { ...notifyItsmProblem, last_state_change: 1795450000 })
    ).json().items[0]
    expect(next.action).toBe('opened')
    expect(next.incidentId).not.toBe(opened.incidentId)
  })

  it('does not open an incident for a SOFT problem', async () => {
    const res = await post(t, token, '/api/v1/events/icinga/icinga-soft', { ...notifyItsmProblem, state_type: 'SOFT' })
    expect(res.statusCode, res.body).toBe(202)
    expect(res.json().items[0].status).toBe('rejected')
    expect(res.json().items[0].errors[0].field).toBe('state_type')
  })

  it('names what is missing with 400', async () => {
    const { host_name: _h, ...noHost } = notifyItsmProblem
    await expectProblem(await post(t, token, '/api/v1/events/icinga', noHost), 400, 'host_name')
    await expectProblem(
      await post(t, token, '/api/v1/events/icinga', { ...notifyItsmProblem, object_type: 'cluster' }),
      400,
      'object_type'
    )
  })

  it('answers 401 without a token and 403 without events:write', async () => {
    await expectIngestAuth(t, userId, '/api/v1/events/icinga', notifyItsmProblem)
  })
})
