import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeTeam, makeUser } from '../helpers/factories.js'
import { versionOfEtag } from '../helpers/http.js'
import { event, makeIntegration, post } from './helpers.js'

let t: TestApp
let token: string
let technician: string

beforeAll(async () => {
  t = await buildTestApp()
  token = (await makeIntegration(t)).token
  technician = (await makeUser(t, ['technician'])).token
})
afterAll(async () => t.close())

const settings = async () => (await t.api('GET', '/api/v1/event-settings')).json()

/** Changes settings at the current version and answers the new ones. */
async function setSettings(body: Record<string, unknown>) {
  const { version } = await settings()
  const res = await t.api('PUT', '/api/v1/event-settings', { body: { ...body, version } })
  expect(res.statusCode, res.body).toBe(200)
  return res.json()
}

const fieldsOf = (res: { json(): any }) => (res.json().errors ?? []).map((e: { field: string }) => e.field)

describe('GET/PUT /api/v1/event-settings', () => {
  it('answers the defaults, with an ETag, to staff', async () => {
    const res = await t.api('GET', '/api/v1/event-settings', { token: technician })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json()).toMatchObject({
      severityPriority: { critical: { impact: 1, urgency: 1 }, info: { impact: 3, urgency: 3 } },
      defaultSeverity: 'warning',
      resolveAction: 'resolve',
      flapChanges: 6,
      flapWindowMinutes: 30,
      defaultTeamId: null,
      retentionDays: 90
    })
    expect(versionOfEtag(res.headers.etag)).toBe(res.json().version)
  })

  it('updates with the version read, refuses a stale one with 412, and keeps what was left out', async () => {
    const before = await settings()
    const team = await makeTeam(t)
    const res = await t.api('PUT', '/api/v1/event-settings', {
      body: {
        retentionDays: 30,
        defaultTeamId: team.id,
        severityPriority: { info: { impact: 3, urgency: 2 } },
        version: before.version
      }
    })
    expect(res.statusCode, res.body).toBe(200)
    const after = res.json()
    expect(after).toMatchObject({ retentionDays: 30, defaultTeamId: team.id, version: before.version + 1 })
    expect(after.severityPriority).toMatchObject({
      info: { impact: 3, urgency: 2 },
      critical: { impact: 1, urgency: 1 }
    })
    expect(after.flapChanges).toBe(before.flapChanges)
    expect(versionOfEtag(res.headers.etag)).toBe(before.version + 1)
    expect((await settings()).retentionDays).toBe(30)

    const stale = await t.api('PUT', '/api/v1/event-settings', { body: { retentionDays: 10, version: before.version } })
    expect(stale.statusCode, stale.body).toBe(412)
    expect(stale.json()).toMatchObject({ code: 'PRECONDITION_FAILED', currentVersion: before.version + 1 })
    const staleHeader = await t.api('PUT', '/api/v1/event-settings', {
      body: { retentionDays: 10 },
      headers: { 'if-match': `"${before.version}"` }
    })
    expect(staleHeader.statusCode).toBe(412)
    expect((await settings()).retentionDays).toBe(30)

    const viaHeader = await t.api('PUT', '/api/v1/event-settings', {
      body: { retentionDays: 90, defaultTeamId: null, severityPriority: { info: { impact: 3, urgency: 3 } } },
      headers: { 'if-match': `"${before.version + 1}"` }
    })
    expect(viaHeader.statusCode, viaHeader.body).toBe(200)
    expect(viaHeader.json()).toMatchObject({ retentionDays: 90, defaultTeamId: null, version: before.version + 2 })
  })

  it('answers 400 naming the bad field, 422 for an unknown team, 403 to a technician', async () => {
    const { version } = await settings()
    const cases: [Record<string, unknown>, string][] = [
      [{ flapChanges: 1 }, 'flapChanges'],
      [{ resolveAction: 'maybe' }, 'resolveAction'],
      [{ severityPriority: { critical: { impact: 4, urgency: 1 } } }, 'severityPriority.critical.impact'],
      [{ defaultSeverity: 'apocalyptic' }, 'defaultSeverity'],
      [{ colour: 'blue' }, 'colour']
    ]
    for (const [body, field] of cases) {
      const res = await t.api('PUT', '/api/v1/event-settings', { body })
      expect(res.statusCode, res.body).toBe(400)
      expect(fieldsOf(res)).toContain(field)
    }
    const noTeam = await t.api('PUT', '/api/v1/event-settings', {
      body: { defaultTeamId: '00000000-0000-4000-8000-000000000000', version }
    })
    expect(noTeam.statusCode, noTeam.body).toBe(422)
    expect(fieldsOf(noTeam)).toEqual(['defaultTeamId'])
    const denied = await t.api('PUT', '/api/v1/event-settings', { token: technician, body: { retentionDays: 5 } })
    expect(denied.statusCode).toBe(403)
    const now = await settings()
    expect(now.version).toBe(version)
    expect(now.retentionDays).toBe(90)
  })

  it('resolveAction note: a recovery adds a note and leaves the incident open', async () => {
    await setSettings({ resolveAction: 'note' })
    try {
      const e = event()
      const opened = (await post(t, token, '/api/v1/events', e)).json()
      expect(opened.action).toBe('opened')
      const res = await post(t, token, '/api/v1/events', { ...e, status: 'resolved', summary: 'Disk space is back' })
      expect(res.json()).toMatchObject({ action: 'noted', incidentId: opened.incidentId })
      const incident = (await t.api('GET', `/api/v1/incidents/${opened.incidentId}`)).json()
      expect(incident.status).toBe('new')
      const notes = (await t.api('GET', `/api/v1/incidents/${opened.incidentId}/notes`)).json()
      expect(notes.items.some((n: { body: string }) => n.body.includes('Disk space is back'))).toBe(true)
    } finally {
      await setSettings({ resolveAction: 'resolve' })
    }
    // Back to resolve: a recovery resolves again
    const e = event()
    const opened = (await post(t, token, '/api/v1/events', e)).json()
    expect((await post(t, token, '/api/v1/events', { ...e, status: 'resolved' })).json().action).toBe('resolved')
    expect((await t.api('GET', `/api/v1/incidents/${opened.incidentId}`)).json().status).toBe('resolved')
  })

  it('severityPriority: a critical event opens an incident at the configured impact and urgency', async () => {
    await setSettings({ severityPriority: { critical: { impact: 3, urgency: 3 } } })
    try {
      const opened = (await post(t, token, '/api/v1/events', event({ severity: 'critical' }))).json()
      const incident = (await t.api('GET', `/api/v1/incidents/${opened.incidentId}`)).json()
      expect(incident).toMatchObject({ impact: 3, urgency: 3, priority: 5 })
    } finally {
      await setSettings({ severityPriority: { critical: { impact: 1, urgency: 1 } } })
    }
    const opened = (await post(t, token, '/api/v1/events', event({ severity: 'critical' }))).json()
    expect((await t.api('GET', `/api/v1/incidents/${opened.incidentId}`)).json().priority).toBe(1)
  })

  it('flapChanges 2: firing again right after a recovery marks the alert flapping', async () => {
    const e = event()
    await setSettings({ flapChanges: 2 })
    try {
      const opened = (await post(t, token, '/api/v1/events', e)).json()
      expect((await post(t, token, '/api/v1/events', { ...e, status: 'resolved' })).json().action).toBe('resolved')
      const again = (await post(t, token, '/api/v1/events', e)).json()
      expect(again).toMatchObject({ action: 'held', alertId: opened.alertId, incidentId: opened.incidentId })
      const alert = (await t.api('GET', `/api/v1/alerts/${opened.alertId}`)).json()
      expect(alert).toMatchObject({ flapping: true, state: 'open' })
      const flapping = (await t.api('GET', '/api/v1/alerts?flapping=true')).json()
      expect(flapping.items.map((a: { id: string }) => a.id)).toContain(opened.alertId)
    } finally {
      await setSettings({ flapChanges: 6 })
    }
  })

  it('customers cannot read events or alerts', async () => {
    const customer = await makeUser(t, ['customer'])
    expect((await t.api('GET', '/api/v1/events', { token: customer.token })).statusCode).toBe(403)
    expect((await t.api('GET', '/api/v1/alerts', { token: customer.token })).statusCode).toBe(403)
  })
})

describe('/api/v1/event-routing-rules', () => {
  it('creates, reads, lists, updates and deletes a rule', async () => {
    const team = await makeTeam(t)
    const body = {
      name: 'Databases',
      match: { labels: { team: 'db' }, severities: ['critical'] },
      teamId: team.id,
      impact: 2
    }
    const created = await t.api('POST', '/api/v1/event-routing-rules', { body })
    expect(created.statusCode, created.body).toBe(201)
    const rule = created.json()
    expect(rule).toMatchObject({ ...body, enabled: true, urgency: null })
    expect(rule.position).toBeGreaterThan(0)
    expect(created.headers.location).toBe(`/api/v1/event-routing-rules/${rule.id}`)
    expect((await t.api('GET', `/api/v1/event-routing-rules/${rule.id}`, { token: technician })).json()).toMatchObject(
      body
    )

    const patched = await t.api('PATCH', `/api/v1/event-routing-rules/${rule.id}`, {
      body: { enabled: false, impact: null, match: { source: 'zabbix' }, version: rule.version }
    })
    expect(patched.statusCode, patched.body).toBe(200)
    expect(patched.json()).toMatchObject({ enabled: false, impact: null, match: { source: 'zabbix' }, teamId: team.id })
    expect(patched.json().match.labels).toBeUndefined()

    const list = (await t.api('GET', '/api/v1/event-routing-rules')).json()
    expect(list.items.map((r: { id: string }) => r.id)).toContain(rule.id)

    const removed = await t.api('DELETE', `/api/v1/event-routing-rules/${rule.id}`)
    expect(removed.statusCode).toBe(204)
    expect((await t.api('GET', `/api/v1/event-routing-rules/${rule.id}`)).statusCode).toBe(404)
    expect((await t.api('DELETE', `/api/v1/event-routing-rules/${rule.id}`)).statusCode).toBe(404)
  })

  it('refuses a duplicate name (409), an unknown team (422), a bad match (400) and a technician (403)', async () => {
    const first = await t.api('POST', '/api/v1/event-routing-rules', {
      body: { name: 'Unique', match: { source: 'a' } }
    })
    expect(first.statusCode, first.body).toBe(201)
    const dup = await t.api('POST', '/api/v1/event-routing-rules', { body: { name: 'Unique', match: { source: 'b' } } })
    expect(dup.statusCode, dup.body).toBe(409)
    expect(fieldsOf(dup)).toEqual(['name'])
    const other = (await t.api('POST', '/api/v1/event-routing-rules', { body: { name: 'Other', match: {} } })).json()
    const rename = await t.api('PATCH', `/api/v1/event-routing-rules/${other.id}`, {
      body: { name: 'Unique', version: other.version }
    })
    expect(rename.statusCode).toBe(409)

    const noTeam = await t.api('POST', '/api/v1/event-routing-rules', {
      body: { name: 'Ghost team', match: {}, teamId: '00000000-0000-4000-8000-000000000000' }
    })
    expect(noTeam.statusCode, noTeam.body).toBe(422)
    expect(fieldsOf(noTeam)).toEqual(['teamId'])
    const patchNoTeam = await t.api('PATCH', `/api/v1/event-routing-rules/${other.id}`, {
      body: { teamId: '00000000-0000-4000-8000-000000000000', version: other.version }
    })
    expect(patchNoTeam.statusCode).toBe(422)
    expect(fieldsOf(patchNoTeam)).toEqual(['teamId'])

    const badMatch = await t.api('POST', '/api/v1/event-routing-rules', {
      body: { name: 'Bad', match: { severities: ['apocalyptic'] } }
    })
    expect(badMatch.statusCode).toBe(400)
    expect(fieldsOf(badMatch)[0]).toMatch(/^match\.severities/)

    const denied = await t.api('POST', '/api/v1/event-routing-rules', {
      token: technician,
      body: { name: 'Mine', match: {} }
    })
    expect(denied.statusCode).toBe(403)
    for (const id of [first.json().id, other.id]) {
      expect((await t.api('DELETE', `/api/v1/event-routing-rules/${id}`)).statusCode).toBe(204)
    }
  })

  it('pages the rules in position order', async () => {
    const ids: string[] = []
    for (const [name, position] of [
      ['P30', 30],
      ['P10', 10],
      ['P20', 20]
    ] as const) {
      ids.push((await t.api('POST', '/api/v1/event-routing-rules', { body: { name, position, match: {} } })).json().id)
    }
    const page1 = (await t.api('GET', '/api/v1/event-routing-rules?limit=2')).json()
    expect(page1.items.map((r: { name: string }) => r.name)).toEqual(['P10', 'P20'])
    expect(page1.nextCursor).not.toBeNull()
    const page2 = (await t.api('GET', `/api/v1/event-routing-rules?limit=2&cursor=${page1.nextCursor}`)).json()
    expect(page2.items.map((r: { name: string }) => r.name)).toEqual(['P30'])
    expect(page2.nextCursor).toBeNull()
    for (const id of ids) await t.api('DELETE', `/api/v1/event-routing-rules/${id}`)
  })

  it('routes a new incident to the team of the first matching rule by position', async () => {
    const dbTeam = await makeTeam(t)
    const opsTeam = await makeTeam(t)
    const dbRule = (
      await t.api('POST', '/api/v1/event-routing-rules', {
        body: { name: 'DB team', position: 20, match: { labels: { team: 'db' } }, teamId: dbTeam.id }
      })
    ).json()
    const catchAll = (
      await t.api('POST', '/api/v1/event-routing-rules', {
        body: { name: 'Routing source', position: 30, match: { source: 'routing-src' }, teamId: opsTeam.id, urgency: 3 }
      })
    ).json()
    try {
      const dbEvent = event({ source: 'routing-src', fingerprint: undefined, labels: { team: 'db', host: 'pg1' } })
      const one = (await post(t, token, '/api/v1/events', dbEvent)).json()
      expect(one.action).toBe('opened')
      expect(one.reason).toContain('routed by rule "DB team"')
      expect((await t.api('GET', `/api/v1/incidents/${one.incidentId}`)).json()).toMatchObject({
        teamId: dbTeam.id,
        urgency: 1
      })
      expect((await t.api('GET', `/api/v1/alerts/${one.alertId}`)).json()).toMatchObject({
        teamId: dbTeam.id,
        routingRuleId: dbRule.id
      })
      const stored = (await t.api('GET', `/api/v1/events/${one.eventId}`)).json()
      expect(stored.matchedBy.routingRule).toBe('DB team')

      const other = (
        await post(t, token, '/api/v1/events', event({ source: 'routing-src', labels: { team: 'web' } }))
      ).json()
      expect((await t.api('GET', `/api/v1/incidents/${other.incidentId}`)).json()).toMatchObject({
        teamId: opsTeam.id,
        urgency: 3
      })

      // Move the catch-all first: it now wins for db events too
      const moved = await t.api('PATCH', `/api/v1/event-routing-rules/${catchAll.id}`, {
        body: { position: 10, version: catchAll.version }
      })
      expect(moved.statusCode, moved.body).toBe(200)
      const two = (await post(t, token, '/api/v1/events', { ...dbEvent, labels: { team: 'db', host: 'pg2' } })).json()
      expect(two.action).toBe('opened')
      expect((await t.api('GET', `/api/v1/incidents/${two.incidentId}`)).json().teamId).toBe(opsTeam.id)

      // A disabled rule is skipped
      await t.api('PATCH', `/api/v1/event-routing-rules/${catchAll.id}`, {
        body: { enabled: false, version: catchAll.version + 1 }
      })
      const three = (await post(t, token, '/api/v1/events', { ...dbEvent, labels: { team: 'db', host: 'pg3' } })).json()
      expect((await t.api('GET', `/api/v1/incidents/${three.incidentId}`)).json().teamId).toBe(dbTeam.id)
    } finally {
      await t.api('DELETE', `/api/v1/event-routing-rules/${dbRule.id}`)
      await t.api('DELETE', `/api/v1/event-routing-rules/${catchAll.id}`)
    }
  })
})
