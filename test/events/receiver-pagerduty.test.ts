import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { alertmanagerFiring, pagerdutyTrigger } from './fixtures.js'
import { makeIntegration, post } from './helpers.js'
import { expectIngestAuth, expectProblem, incident, notes } from './receiver-checks.js'

let t: TestApp
let token: string
let userId: string

beforeAll(async () => {
  t = await buildTestApp()
  const integration = await makeIntegration(t, 'pagerduty')
  token = integration.token
  userId = integration.user.id
})
afterAll(async () => t.close())

const scope = (routingKey: string) => createHash('sha256').update(routingKey).digest('hex').slice(0, 12)
const action = (event_action: string, extra: Record<string, unknown> = {}) => ({
  routing_key: pagerdutyTrigger.routing_key,
  dedup_key: pagerdutyTrigger.dedup_key,
  event_action,
  ...extra
})

describe('POST /api/v1/events/pagerduty (peers.md §3c example)', () => {
  it('triggers, deduplicates, notes an acknowledge, resolves, and triggers anew after the resolve', async () => {
    const url = '/api/v1/events/pagerduty/pd-bridge'
    const first = await post(t, token, url, pagerdutyTrigger)
    expect(first.statusCode, first.body).toBe(202)
    const [opened] = first.json().items
    expect(opened.action).toBe('opened')
    expect(opened.incidentNumber).toMatch(/^INC-\d{6}$/)
    expect(await incident(t, opened.incidentId)).toMatchObject({
      title: 'Disk / on srv-app01 is 96% full',
      priority: 1
    })
    const event = (await t.api('GET', `/api/v1/events/${opened.eventId}`)).json()
    expect(event).toMatchObject({
      fingerprint: `${scope(pagerdutyTrigger.routing_key)}/srv-app01/disk-root`,
      occurredAt: '2026-11-23T14:02:11.000Z',
      labels: { component: 'filesystem', group: 'paris-dc1', class: 'disk usage', source: 'srv-app01.corp.example.com' }
    })
    expect(event.details.custom_details).toEqual({ mountpoint: '/', used_percent: 96.1 })
    // The routing key is a secret: stored nowhere
    expect(JSON.stringify(event)).not.toContain(pagerdutyTrigger.routing_key)

    const again = (await post(t, token, url, pagerdutyTrigger)).json().items[0]
    expect(again).toMatchObject({ action: 'deduplicated', incidentId: opened.incidentId })

    const ack = (await post(t, token, url, action('acknowledge', { client: 'Backup monitoring' }))).json().items[0]
    expect(ack).toMatchObject({ action: 'noted', incidentId: opened.incidentId })
    expect((await notes(t, opened.incidentId)).at(-1)!.body).toContain('Acknowledged via PagerDuty Events API')
    expect((await incident(t, opened.incidentId)).status).toBe('new')

    const resolved = (await post(t, token, url, action('resolve'))).json().items[0]
    expect(resolved).toMatchObject({ action: 'resolved', incidentId: opened.incidentId })
    expect((await incident(t, opened.incidentId)).status).toBe('resolved')

    const late = (await post(t, token, url, action('acknowledge'))).json().items[0]
    expect(late.action).toBe('ignored')
    // The same trigger again (its timestamp is before the resolve) is a late duplicate: nothing reopens
    const duplicate = (await post(t, token, url, pagerdutyTrigger)).json().items[0]
    expect(duplicate).toMatchObject({ action: 'ignored', incidentId: opened.incidentId })
    const fresh = {
      ...pagerdutyTrigger,
      payload: { ...pagerdutyTrigger.payload, timestamp: new Date(Date.now() + 1000).toISOString() }
    }
    const next = (await post(t, token, url, fresh)).json().items[0]
    expect(next.action).toBe('opened')
    expect(next.incidentId).not.toBe(opened.incidentId)
  })

  it('scopes dedup keys by routing key', async () => {
    const url = '/api/v1/events/pagerduty/pd-scoped'
    const a = (await post(t, token, url, pagerdutyTrigger)).json().items[0]
    const b = (
      await post(t, token, url, { ...pagerdutyTrigger, routing_key: 'AnotherRoutingKeyOf32Characters0' })
    ).json().items[0]
    expect(a.action).toBe('opened')
    expect(b.action).toBe('opened')
    expect(b.incidentId).not.toBe(a.incidentId)
  })

  it('generates a stable dedup key when a trigger has none, and maps error to major', async () => {
    const { dedup_key: _d, ...body } = pagerdutyTrigger
    const withError = { ...body, payload: { ...body.payload, severity: 'error' } }
    const url = '/api/v1/events/pagerduty/pd-nokey'
    const answer = (await post(t, token, url, withError)).json()
    const first = answer.items[0]
    expect(first.action).toBe('opened')
    // PagerDuty's own answer fields: clients read the generated key from dedup_key
    expect(answer).toMatchObject({ status: 'success', message: 'Event processed' })
    expect(answer.dedup_key).toMatch(/^[0-9a-f]{32}$/)
    expect((await incident(t, first.incidentId)).priority).toBe(2)
    const again = (await post(t, token, url, withError)).json().items[0]
    expect(again).toMatchObject({ action: 'deduplicated', incidentId: first.incidentId })
    const event = (await t.api('GET', `/api/v1/events/${first.eventId}`)).json()
    expect(event.details.dedup_key_generated).toBe(true)
    expect(event.fingerprint).toMatch(new RegExp(`^${scope(body.routing_key)}/[0-9a-f]{32}$`))
  })

  it('names missing payload fields, unknown actions and a missing dedup key with 400', async () => {
    const { summary: _s, ...noSummary } = pagerdutyTrigger.payload
    await expectProblem(
      await post(t, token, '/api/v1/events/pagerduty', { ...pagerdutyTrigger, payload: noSummary }),
      400,
      'payload.summary'
    )
    const { source: _o, ...noSource } = pagerdutyTrigger.payload
    await expectProblem(
      await post(t, token, '/api/v1/events/pagerduty', { ...pagerdutyTrigger, payload: noSource }),
      400,
      'payload.source'
    )
    await expectProblem(
      await post(t, token, '/api/v1/events/pagerduty', {
        ...pagerdutyTrigger,
        payload: { ...pagerdutyTrigger.payload, severity: 'high' }
      }),
      400,
      'payload.severity'
    )
    await expectProblem(
      await post(t, token, '/api/v1/events/pagerduty', { ...pagerdutyTrigger, event_action: 'escalate' }),
      400,
      'event_action'
    )
    const { dedup_key: _d, ...resolveWithoutKey } = action('resolve')
    await expectProblem(await post(t, token, '/api/v1/events/pagerduty', resolveWithoutKey), 400, 'dedup_key')
  })

  it('refuses another tool’s body with 400 naming routing_key and pointing to the right route', async () => {
    await expectProblem(
      await post(t, token, '/api/v1/events/pagerduty', alertmanagerFiring),
      400,
      'routing_key',
      /Alertmanager body: post it to \/api\/v1\/events\/alertmanager/
    )
  })

  it('answers 401 without a token and 403 without events:write', async () => {
    await expectIngestAuth(t, userId, '/api/v1/events/pagerduty/pd-bridge', pagerdutyTrigger)
  })
})
