import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeTeam, makeUser } from '../helpers/factories.js'
import {
  EVERY_FIELD_LIMITS,
  errorWith,
  fields,
  loadSchema,
  objectType,
  selectAll,
  shapeProblems
} from '../helpers/graphql.js'
import { event, makeIntegration, post } from './helpers.js'

const schema = loadSchema()
const all = (type: string) => selectAll(schema, type)
// Alert.incident is an Incident (covered by the contract test): a few of its fields are enough here
const alertFields = `{ ${Object.keys(objectType(schema, 'Alert').getFields())
  .map(f => (f === 'incident' ? 'incident { id number status }' : f))
  .join(' ')} }`
const alertConnection = `{ edges { cursor node ${alertFields} } pageInfo { hasNextPage endCursor } }`

let t: TestApp
let token: string
let technician: string

beforeAll(async () => {
  t = await buildTestApp(EVERY_FIELD_LIMITS)
  token = (await makeIntegration(t)).token
  technician = (await makeUser(t, ['technician'])).token
})
afterAll(async () => t.close())

/** Every field of the answer holds a value, apart from the named "Type.field" ones. */
const strictShape = (type: string, value: unknown, allowNull: string[] = []) =>
  expect(shapeProblems(schema, type, value, { strict: true, allowNull })).toEqual([])

const POST_EVENTS = `mutation($events: [EventInput!]!, $key: String) {
  postEvents(events: $events, idempotencyKey: $key) ${all('EventBatchOutcome')}
}`

const SETTINGS = `query { eventSettings ${all('EventSettings')} }`
const SET_SETTINGS = `mutation($input: EventSettingsInput!, $version: Int) {
  setEventSettings(input: $input, version: $version) ${all('EventSettings')}
}`

async function setSettings(input: Record<string, unknown>) {
  const { version } = (await t.gql(SETTINGS)).body.data!.eventSettings
  const res = await t.gql(SET_SETTINGS, { input, version })
  expect(res.body.errors).toBeUndefined()
  return res.body.data!.setEventSettings
}

describe('GraphQL: event settings', () => {
  it('reads and updates them with the version read; a stale version is PRECONDITION_FAILED', async () => {
    const team = await makeTeam(t)
    const before = (await t.gql(SETTINGS, {}, technician)).body.data!.eventSettings
    expect(before).toMatchObject({ resolveAction: 'resolve', flapChanges: 6, defaultTeamId: null })

    const res = await t.gql(SET_SETTINGS, {
      input: { retentionDays: 45, defaultTeamId: team.id, severityPriority: { minor: { impact: 3, urgency: 1 } } },
      version: before.version
    })
    expect(res.body.errors).toBeUndefined()
    const after = res.body.data!.setEventSettings
    strictShape('EventSettings', after)
    expect(after).toMatchObject({
      retentionDays: 45,
      defaultTeamId: team.id,
      flapChanges: 6,
      version: before.version + 1,
      severityPriority: { minor: { impact: 3, urgency: 1 }, critical: { impact: 1, urgency: 1 } }
    })
    expect((await t.api('GET', '/api/v1/event-settings')).json()).toMatchObject({
      retentionDays: 45,
      version: after.version
    })

    const stale = await t.gql(SET_SETTINGS, { input: { retentionDays: 5 }, version: before.version })
    expect(errorWith(stale.body, 'PRECONDITION_FAILED').extensions.currentVersion).toBe(after.version)

    // null clears defaultTeamId; other nulls mean "not given"
    const cleared = await t.gql(SET_SETTINGS, {
      input: {
        defaultTeamId: null,
        retentionDays: null,
        severityPriority: { minor: { impact: 2, urgency: 2 }, major: null }
      },
      version: after.version
    })
    expect(cleared.body.errors).toBeUndefined()
    expect(cleared.body.data!.setEventSettings).toMatchObject({
      defaultTeamId: null,
      retentionDays: 45,
      severityPriority: { minor: { impact: 2, urgency: 2 }, major: { impact: 1, urgency: 2 } }
    })
  })

  it('names bad fields, and refuses a technician', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ flapChanges: 1 }, 'input.flapChanges'],
      [{ resolveAction: 'maybe' }, 'input.resolveAction'],
      [{ severityPriority: { info: { impact: 0, urgency: 1 } } }, 'input.severityPriority.info.impact']
    ]
    for (const [input, field] of cases) {
      const res = await t.gql(SET_SETTINGS, { input })
      errorWith(res.body, 'VALIDATION_FAILED')
      expect(fields(res.body)).toContain(field)
    }
    const { version } = (await t.gql(SETTINGS)).body.data!.eventSettings
    const noTeam = await t.gql(SET_SETTINGS, {
      input: { defaultTeamId: '00000000-0000-4000-8000-000000000000' },
      version
    })
    errorWith(noTeam.body, 'VALIDATION_FAILED')
    expect(fields(noTeam.body)).toEqual(['defaultTeamId'])
    errorWith((await t.gql(SET_SETTINGS, { input: { retentionDays: 5 } }, technician)).body, 'FORBIDDEN')
    expect((await t.gql(SETTINGS)).body.data!.eventSettings.retentionDays).not.toBe(5)
  })

  it('take effect: severityPriority sets the priority of a new incident', async () => {
    await setSettings({ severityPriority: { critical: { impact: 3, urgency: 3 } } })
    try {
      const res = await t.gql(POST_EVENTS, { events: [event({ severity: 'critical' })] }, token)
      const incidentId = res.body.data!.postEvents.items[0].incidentId
      expect((await t.api('GET', `/api/v1/incidents/${incidentId}`)).json().priority).toBe(5)
    } finally {
      await setSettings({ severityPriority: { critical: { impact: 1, urgency: 1 } } })
    }
  })
})

const RULE = all('EventRoutingRule')
const CREATE_RULE = `mutation($input: EventRoutingRuleInput!) { createEventRoutingRule(input: $input) ${RULE} }`
const UPDATE_RULE = `mutation($id: ID!, $input: EventRoutingRulePatchInput!, $version: Int) {
  updateEventRoutingRule(id: $id, input: $input, version: $version) ${RULE}
}`
const DELETE_RULE = 'mutation($id: ID!) { deleteEventRoutingRule(id: $id) }'

describe('GraphQL: event routing rules', () => {
  it('creates, reads, lists, updates and deletes; duplicate name CONFLICT, unknown team names teamId', async () => {
    const team = await makeTeam(t)
    const input = {
      name: 'Storage',
      position: 15,
      match: {
        source: 'zabbix',
        severities: ['critical', 'major'],
        labels: { team: 'storage' },
        summaryContains: 'disk'
      },
      teamId: team.id,
      impact: 1,
      urgency: 2
    }
    const created = await t.gql(CREATE_RULE, { input })
    expect(created.body.errors).toBeUndefined()
    const rule = created.body.data!.createEventRoutingRule
    strictShape('EventRoutingRule', rule)
    expect(rule).toMatchObject({ ...input, enabled: true })
    expect((await t.api('GET', `/api/v1/event-routing-rules/${rule.id}`)).json()).toMatchObject(input)

    const one = await t.gql(`query($id: ID!) { eventRoutingRule(id: $id) ${RULE} }`, { id: rule.id }, technician)
    expect(one.body.data!.eventRoutingRule).toMatchObject({ id: rule.id, name: 'Storage' })

    const updated = await t.gql(UPDATE_RULE, {
      id: rule.id,
      input: { impact: null, enabled: false, name: null },
      version: 1
    })
    expect(updated.body.errors).toBeUndefined()
    expect(updated.body.data!.updateEventRoutingRule).toMatchObject({
      name: 'Storage',
      impact: null,
      enabled: false,
      urgency: 2
    })

    const dup = await t.gql(CREATE_RULE, { input: { name: 'Storage', match: {} } })
    errorWith(dup.body, 'CONFLICT')
    expect(fields(dup.body)).toEqual(['name'])
    const ghost = await t.gql(CREATE_RULE, {
      input: { name: 'Ghost', match: {}, teamId: '00000000-0000-4000-8000-000000000000' }
    })
    errorWith(ghost.body, 'VALIDATION_FAILED')
    expect(fields(ghost.body)).toEqual(['teamId'])
    const bad = await t.gql(CREATE_RULE, { input: { name: 'Bad', match: { severities: ['apocalyptic'] } } })
    errorWith(bad.body, 'VALIDATION_FAILED')
    expect(fields(bad.body)[0]).toMatch(/^input\.match\.severities/)
    errorWith((await t.gql(CREATE_RULE, { input: { name: 'Mine', match: {} } }, technician)).body, 'FORBIDDEN')

    const deleted = await t.gql(DELETE_RULE, { id: rule.id })
    expect(deleted.body.data!.deleteEventRoutingRule).toBe(true)
    errorWith((await t.gql(`query($id: ID!) { eventRoutingRule(id: $id) { id } }`, { id: rule.id })).body, 'NOT_FOUND')
    errorWith((await t.gql(DELETE_RULE, { id: rule.id })).body, 'NOT_FOUND')
  })

  it('pages with first/after in position order', async () => {
    const team = await makeTeam(t)
    // Fully populated rules (every field answers) that match nothing the other tests send
    const match = { source: 'nowhere', severities: ['info'], labels: { never: 'x' }, summaryContains: 'never' }
    const ids: string[] = []
    try {
      for (const [name, position] of [
        ['G3', 300],
        ['G1', 100],
        ['G2', 200]
      ] as const) {
        const input = { name, position, match, teamId: team.id, impact: 2, urgency: 2 }
        ids.push((await t.gql(CREATE_RULE, { input })).body.data!.createEventRoutingRule.id)
      }
      const q = `query($after: String) { eventRoutingRules(first: 2, after: $after) ${all('EventRoutingRuleConnection')} }`
      const page1 = (await t.gql(q)).body.data!.eventRoutingRules
      strictShape('EventRoutingRuleConnection', page1)
      expect(page1.edges.map((e: any) => e.node.name)).toEqual(['G1', 'G2'])
      expect(page1.pageInfo.hasNextPage).toBe(true)
      const page2 = (await t.gql(q, { after: page1.pageInfo.endCursor })).body.data!.eventRoutingRules
      expect(page2.edges.map((e: any) => e.node.name)).toEqual(['G3'])
      expect(page2.pageInfo.hasNextPage).toBe(false)
      const badFirst = await t.gql('{ eventRoutingRules(first: 0) { pageInfo { hasNextPage } } }')
      errorWith(badFirst.body, 'VALIDATION_FAILED')
      expect(fields(badFirst.body)).toEqual(['first'])
    } finally {
      for (const id of ids) await t.gql(DELETE_RULE, { id })
    }
  })

  it('a rule matching labels routes the new incident to its team', async () => {
    const team = await makeTeam(t)
    const rule = (
      await t.gql(CREATE_RULE, { input: { name: 'GQL DB', match: { labels: { team: 'db' } }, teamId: team.id } })
    ).body.data!.createEventRoutingRule
    try {
      const res = await t.gql(POST_EVENTS, { events: [event({ labels: { team: 'db' } })] }, token)
      const item = res.body.data!.postEvents.items[0]
      expect(item.reason).toContain('routed by rule "GQL DB"')
      expect((await t.api('GET', `/api/v1/incidents/${item.incidentId}`)).json().teamId).toBe(team.id)
    } finally {
      await t.gql(DELETE_RULE, { id: rule.id })
    }
  })
})

describe('GraphQL: postEvents, events and alerts', () => {
  it('opens and deduplicates like REST, rejecting a bad item alone with its fields named', async () => {
    const a = event({ family: 'disk', eventId: 'ext-1', labels: { host: 'srv1' }, details: { used: 96 } })
    const b = event({ severity: 'apocalyptic' })
    const c = event({ ci: { hostname: 'srv-gql', fqdn: null }, startsAt: '2024-05-01T10:00:00Z', note: null })
    const res = await t.gql(POST_EVENTS, { events: [a, b, c] }, token)
    expect(res.body.errors).toBeUndefined()
    const out = res.body.data!.postEvents
    expect(out).toMatchObject({ accepted: 2, rejected: 1, replayed: false })
    expect(out.items.map((i: any) => [i.index, i.status, i.action])).toEqual([
      [0, 'accepted', 'opened'],
      [1, 'rejected', 'rejected'],
      [2, 'accepted', 'opened']
    ])
    expect(out.items[0]).toMatchObject({
      eventId: expect.any(String),
      alertId: expect.any(String),
      incidentId: expect.any(String),
      incidentNumber: expect.stringMatching(/^INC-\d{6}$/),
      replayed: false,
      errors: null
    })
    expect(out.items[1]).toMatchObject({ eventId: null, incidentId: null })
    expect(out.items[1].errors.map((e: any) => e.field)).toEqual(['[1].severity'])
    expect(out.items[1].reason).toContain('[1].severity')
    strictShape('EventOutcome', out.items[1], [
      'EventOutcome.eventId',
      'EventOutcome.alertId',
      'EventOutcome.incidentId',
      'EventOutcome.incidentNumber'
    ])
    strictShape('EventOutcome', out.items[0], ['EventOutcome.errors'])
    strictShape('EventBatchOutcome', out, [
      'EventOutcome.errors',
      ...['eventId', 'alertId', 'incidentId', 'incidentNumber'].map(f => `EventOutcome.${f}`)
    ])

    // The same over REST: a repeat deduplicates onto the incident GraphQL opened
    const rest = (await post(t, token, '/api/v1/events', { ...a, eventId: 'ext-2' })).json()
    expect(rest).toMatchObject({ action: 'deduplicated', incidentId: out.items[0].incidentId })
    const again = (await t.gql(POST_EVENTS, { events: [{ ...c }] }, token)).body.data!.postEvents
    expect(again.items[0]).toMatchObject({ action: 'deduplicated', incidentId: out.items[2].incidentId })
    // The same eventId again answers the first outcome
    const replay = (await t.gql(POST_EVENTS, { events: [a] }, token)).body.data!.postEvents
    expect(replay.items[0]).toMatchObject({ replayed: true, action: 'opened', eventId: out.items[0].eventId })
  })

  it('replays a whole answer for the same idempotencyKey, refuses an all-bad batch and a customer', async () => {
    const events = [event(), event({ status: 'resolved' })]
    const first = (await t.gql(POST_EVENTS, { events, key: 'gql-batch-1' }, token)).body.data!.postEvents
    expect(first).toMatchObject({ accepted: 2, replayed: false })
    const second = (await t.gql(POST_EVENTS, { events, key: 'gql-batch-1' }, token)).body.data!.postEvents
    expect(second).toEqual({ ...first, replayed: true })

    const allBad = await t.gql(POST_EVENTS, { events: [event({ severity: 'x' }), event({ source: '-bad' })] }, token)
    errorWith(allBad.body, 'VALIDATION_FAILED')
    expect(fields(allBad.body)).toEqual(['[0].severity', '[1].source'])
    errorWith((await t.gql(POST_EVENTS, { events: [] }, token)).body, 'VALIDATION_FAILED')

    const customer = await makeUser(t, ['customer'])
    errorWith((await t.gql(POST_EVENTS, { events: [event()] }, customer.token)).body, 'FORBIDDEN')
    errorWith((await t.gql('{ events { edges { cursor } } }', {}, customer.token)).body, 'FORBIDDEN')
    errorWith((await t.gql('{ alerts { edges { cursor } } }', {}, customer.token)).body, 'FORBIDDEN')
  })

  it('queries events and alerts with filters and paging, every field answering', async () => {
    const ci = await t.api('POST', '/api/v1/cis', { body: { name: 'srv-paging', hostname: 'srv-paging' } })
    expect(ci.statusCode, ci.body).toBe(201)
    const team = await makeTeam(t)
    const rule = (
      await t.gql(CREATE_RULE, { input: { name: 'Paging', match: { source: 'paging-mon' }, teamId: team.id } })
    ).body.data!.createEventRoutingRule
    const e = event({
      source: 'paging-mon',
      family: 'cpu',
      eventId: 'paging-1',
      ci: { hostname: 'srv-paging' },
      labels: { host: 'srv-paging' },
      summary: 'CPU saturated on srv-paging'
    })
    const posted = (await t.gql(POST_EVENTS, { events: [e] }, token)).body.data!.postEvents.items[0]
    await post(t, token, '/api/v1/events', { ...e, eventId: 'paging-2' })
    await post(t, token, '/api/v1/events', { ...e, eventId: 'paging-3', status: 'resolved' })
    const reopened = (await post(t, token, '/api/v1/events', { ...e, eventId: 'paging-4' })).json()
    expect(reopened.action).toBe('opened')
    await t.gql(DELETE_RULE, { id: rule.id })

    const EVENTS = `query($fp: String, $first: Int, $after: String, $action: String, $q: String) {
      events(fingerprint: $fp, first: $first, after: $after, action: $action, q: $q) ${all('MonitoringEventConnection')}
    }`
    const page1 = (await t.gql(EVENTS, { fp: e.fingerprint, first: 3 })).body.data!.events
    expect(page1.edges).toHaveLength(3)
    expect(page1.pageInfo.hasNextPage).toBe(true)
    expect(page1.edges[0].node).toMatchObject({ externalId: 'paging-4', action: 'opened', fingerprint: e.fingerprint })
    for (const edge of page1.edges) strictShape('MonitoringEvent', edge.node)
    expect(shapeProblems(schema, 'MonitoringEventConnection', page1, { strict: true })).toEqual([])
    expect(page1.edges[2].node).toMatchObject({
      family: 'cpu',
      labels: { host: 'srv-paging' },
      ciId: ci.json().id,
      matchedBy: { fingerprint: e.fingerprint }
    })
    const page2 = (await t.gql(EVENTS, { fp: e.fingerprint, first: 3, after: page1.pageInfo.endCursor })).body.data!
      .events
    expect(page2.edges.map((x: any) => x.node.externalId)).toEqual(['paging-1'])
    expect(page2.edges[0].node.id).toBe(posted.eventId)
    expect(page2.pageInfo.hasNextPage).toBe(false)
    const opened = (await t.gql(EVENTS, { fp: e.fingerprint, action: 'opened' })).body.data!.events
    expect(opened.edges.map((x: any) => x.node.externalId)).toEqual(['paging-4', 'paging-1'])
    const searched = (await t.gql(EVENTS, { q: 'saturated' })).body.data!.events
    expect(searched.edges).toHaveLength(4)

    const one = await t.gql(`query($id: ID!) { event(id: $id) ${all('MonitoringEvent')} }`, { id: posted.eventId })
    expect(one.body.data!.event).toMatchObject({
      id: posted.eventId,
      incidentId: posted.incidentId,
      severity: 'critical'
    })

    const ALERTS = `query($fp: String, $state: String, $first: Int, $after: String) {
      alerts(fingerprint: $fp, state: $state, first: $first, after: $after) ${alertConnection}
    }`
    const alerts = (await t.gql(ALERTS, { fp: e.fingerprint, first: 1 })).body.data!.alerts
    expect(alerts.pageInfo.hasNextPage).toBe(true)
    const newer = alerts.edges[0].node
    const older = (await t.gql(ALERTS, { fp: e.fingerprint, first: 1, after: alerts.pageInfo.endCursor })).body.data!
      .alerts.edges[0].node
    expect(newer).toMatchObject({
      state: 'open',
      previousAlertId: older.id,
      incidentId: reopened.incidentId,
      incident: { id: reopened.incidentId, number: reopened.incidentNumber },
      endedAt: null
    })
    expect(older).toMatchObject({
      state: 'resolved',
      occurrences: 2,
      routingRuleId: rule.id,
      teamId: team.id,
      previousAlertId: null
    })
    expect(older.endedAt).not.toBeNull()
    expect(older.incident).toMatchObject({ id: posted.incidentId, status: 'resolved' })
    strictShape('Alert', older, ['Alert.previousAlertId'])
    strictShape('Alert', newer, ['Alert.endedAt'])
    expect(shapeProblems(schema, 'AlertConnection', alerts, { strict: true, allowNull: ['Alert.endedAt'] })).toEqual([])

    const open = (await t.gql(ALERTS, { fp: e.fingerprint, state: 'open' })).body.data!.alerts
    expect(open.edges.map((x: any) => x.node.id)).toEqual([newer.id])
    const single = await t.gql(`query($id: ID!) { alert(id: $id) ${alertFields} }`, { id: older.id })
    expect(single.body.data!.alert).toMatchObject({ id: older.id, fingerprint: e.fingerprint })

    const badFilter = await t.gql('{ events(severity: "apocalyptic") { edges { cursor } } }')
    errorWith(badFilter.body, 'VALIDATION_FAILED')
    expect(fields(badFilter.body)).toEqual(['severity'])
    const badFirst = await t.gql('{ alerts(first: 501) { edges { cursor } } }')
    expect(fields(badFirst.body)).toEqual(['first'])
    errorWith((await t.gql('query($id: ID!) { event(id: $id) { id } }', { id: older.id })).body, 'NOT_FOUND')
  })
})
