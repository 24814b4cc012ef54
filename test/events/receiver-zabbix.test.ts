import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { pagerdutyTrigger, zabbixAnsible, zabbixItsmProblem } from './fixtures.js'
import { makeIntegration, post } from './helpers.js'
import { expectIngestAuth, expectProblem, incident, notes } from './receiver-checks.js'

let t: TestApp
let token: string
let userId: string

beforeAll(async () => {
  t = await buildTestApp()
  const integration = await makeIntegration(t, 'zabbix')
  token = integration.token
  userId = integration.user.id
})
afterAll(async () => t.close())

/** peers.md §3a: the update and recovery messages of example B (same event_id). */
const itsmUpdate = {
  ...zabbixItsmProblem,
  event_update_status: '1',
  event_update_action: 'acknowledged and commented',
  event_update_message: 'Looking at it - jdoe',
  event_update_user: 'John Doe'
}
const itsmRecovery = {
  ...zabbixItsmProblem,
  event_value: '0',
  event_recovery_id: '41279350',
  event_recovery_date: '2026.11.23',
  event_recovery_time: '15:31:09',
  event_duration: '23m 27s'
}

describe('POST /api/v1/events/zabbix (peers.md §3a examples)', () => {
  it('opens an incident from the Event-Driven Ansible body and answers the incident as Zabbix tags', async () => {
    const res = await post(t, token, '/api/v1/events/zabbix/zbx-prod', zabbixAnsible)
    expect(res.statusCode, res.body).toBe(202)
    const body = res.json()
    const [opened] = body.items
    expect(opened.action).toBe('opened')
    expect(opened.incidentNumber).toMatch(/^INC-\d{6}$/)
    expect(body.tags).toEqual({
      __zbx_itsm_ticket_id: opened.incidentNumber,
      __zbx_itsm_link: `/api/v1/tickets/${opened.incidentNumber}`
    })
    const byLink = await t.api('GET', body.tags.__zbx_itsm_link)
    expect(byLink.statusCode, byLink.body).toBe(200)
    expect(byLink.json().id).toBe(opened.incidentId)
    // Average (event_nseverity 3) is minor: impact 2, urgency 2, priority 3
    expect(await incident(t, opened.incidentId)).toMatchObject({
      title: 'High CPU utilization (over 90% for 5m)',
      priority: 3
    })
    const event = (await t.api('GET', `/api/v1/events/${opened.eventId}`)).json()
    expect(event).toMatchObject({
      fingerprint: 'event:41277915',
      family: '28413',
      severity: 'minor',
      occurredAt: '2026-11-23T15:07:42.000Z',
      labels: { class: 'os', component: 'cpu', scope: 'performance', target: 'linux', host: 'srv-app01' }
    })
    // The zone-less local date and time are kept for people, never parsed
    expect(event.details).toMatchObject({ event_date: '2026.11.23', event_time: '15:07:42' })
    expect(event.details.host_groups).toEqual(['Linux servers', 'Paris DC1'])

    const again = (await post(t, token, '/api/v1/events/zabbix/zbx-prod', zabbixAnsible)).json()
    expect(again.items[0]).toMatchObject({ action: 'deduplicated', incidentId: opened.incidentId })
    expect(again.tags.__zbx_itsm_ticket_id).toBe(opened.incidentNumber)
  })

  it('follows the ITSM media type: problem opens, repeat deduplicates, update only notes, recovery resolves', async () => {
    const url = '/api/v1/events/zabbix/zbx-itsm'
    const first = (await post(t, token, url, zabbixItsmProblem)).json()
    const [opened] = first.items
    expect(opened.action).toBe('opened')
    expect(first.tags.__zbx_itsm_ticket_id).toBe(opened.incidentNumber)
    const event = (await t.api('GET', `/api/v1/events/${opened.eventId}`)).json()
    expect(event.labels).toMatchObject({ class: 'os', component: 'cpu', scope: 'performance', host: 'srv-app01' })
    // No event_datetime_timestamp: the receipt time, not the zone-less event_date/event_time
    expect(Math.abs(Date.parse(event.occurredAt) - Date.parse(event.receivedAt))).toBeLessThan(60_000)

    const again = (await post(t, token, url, zabbixItsmProblem)).json().items[0]
    expect(again).toMatchObject({ action: 'deduplicated', incidentId: opened.incidentId })

    const before = await incident(t, opened.incidentId)
    const notesBefore = await notes(t, opened.incidentId)
    const update = await post(t, token, url, itsmUpdate)
    expect(update.statusCode, update.body).toBe(202)
    expect(update.json().items[0]).toMatchObject({ action: 'noted', incidentId: opened.incidentId })
    expect(update.json().tags.__zbx_itsm_ticket_id).toBe(opened.incidentNumber)
    const after = await incident(t, opened.incidentId)
    for (const field of ['status', 'priority', 'impact', 'urgency', 'title', 'teamId', 'assigneeId']) {
      expect(after[field], field).toEqual(before[field])
    }
    const notesAfter = await notes(t, opened.incidentId)
    expect(notesAfter).toHaveLength(notesBefore.length + 1)
    expect(notesAfter.at(-1)!.body).toContain('John Doe acknowledged and commented: Looking at it - jdoe')

    const recovery = (await post(t, token, url, itsmRecovery)).json().items[0]
    expect(recovery).toMatchObject({ action: 'resolved', incidentId: opened.incidentId })
    expect((await incident(t, opened.incidentId)).status).toBe('resolved')
  })

  it('treats unexpanded macros as absent', async () => {
    const body = {
      ...zabbixItsmProblem,
      event_id: '41277999',
      event_name: '{EVENT.NAME}',
      event_nseverity: '{EVENT.NSEVERITY}',
      event_update_status: '{EVENT.UPDATE.STATUS}',
      event_recovery_id: '{EVENT.RECOVERY.ID}',
      host_host: '{HOST.HOST}',
      host_name: '{HOST.NAME}',
      event_tags: '{EVENT.TAGSJSON}'
    }
    const res = await post(t, token, '/api/v1/events/zabbix/zbx-macros', body)
    expect(res.statusCode, res.body).toBe(202)
    const [opened] = res.json().items
    // An unexpanded update status is not an update; the name falls back to the subject; the word gives severity
    expect(opened.action).toBe('opened')
    expect((await incident(t, opened.incidentId)).title).toBe('Problem: High CPU utilization (over 90% for 5m)')
    const event = (await t.api('GET', `/api/v1/events/${opened.eventId}`)).json()
    expect(event.severity).toBe('minor')
    expect(event.labels).toEqual({ trigger_id: '28413' })
    expect(event.details).not.toHaveProperty('event_recovery_id')
    expect(event.details).not.toHaveProperty('host_host')

    await expectProblem(
      await post(t, token, '/api/v1/events/zabbix', { ...zabbixItsmProblem, event_id: '{EVENT.ID}' }),
      400,
      'event_id'
    )
  })

  it('answers 400 naming event_id when it is missing, or when the body is another tool’s', async () => {
    const { event_id: _e, ...noId } = zabbixItsmProblem
    await expectProblem(await post(t, token, '/api/v1/events/zabbix', noId), 400, 'event_id', /\{EVENT\.ID\}/)
    await expectProblem(
      await post(t, token, '/api/v1/events/zabbix', pagerdutyTrigger),
      400,
      'event_id',
      /PagerDuty Events v2 body: post it to \/api\/v1\/events\/pagerduty/
    )
    await expectProblem(
      await post(t, token, '/api/v1/events/zabbix', { ...zabbixItsmProblem, event_value: '2' }),
      400,
      'event_value'
    )
  })

  it('refuses events that are not trigger events with 422 naming event_source', async () => {
    await expectProblem(
      await post(t, token, '/api/v1/events/zabbix', { ...zabbixItsmProblem, event_source: '3' }),
      422,
      'event_source'
    )
  })

  it('answers 401 without a token and 403 without events:write', async () => {
    await expectIngestAuth(t, userId, '/api/v1/events/zabbix/zbx-prod', zabbixAnsible)
  })
})

describe('a Zabbix event id is one episode', () => {
  it('a problem message delivered again after its recovery reopens nothing', async () => {
    const problem = { ...zabbixItsmProblem, event_id: '51277001' }
    const opened = (await post(t, token, '/api/v1/events/zabbix/zbx-late', problem)).json().items[0]
    expect(opened.action).toBe('opened')
    const recovered = (
      await post(t, token, '/api/v1/events/zabbix/zbx-late', { ...itsmRecovery, event_id: '51277001' })
    ).json().items[0]
    expect(recovered).toMatchObject({ action: 'resolved', incidentId: opened.incidentId })
    const late = (await post(t, token, '/api/v1/events/zabbix/zbx-late', problem)).json().items[0]
    expect(late).toMatchObject({ action: 'ignored', incidentId: opened.incidentId })
    expect((await incident(t, opened.incidentId)).status).toBe('resolved')
  })
})
