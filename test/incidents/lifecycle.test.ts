import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeIncident, makeOrganisation, makeTeam, makeUser } from '../helpers/factories.js'
import { versionOfEtag } from '../helpers/http.js'

describe('updating incidents with optimistic concurrency', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await buildTestApp()
  })
  afterAll(async () => t?.close())

  it('updates with If-Match, bumps the version and recomputes priority', async () => {
    const inc = await makeIncident(t, { impact: 3, urgency: 3 })
    const res = await t.api('PATCH', `/api/v1/incidents/${inc.id}`, {
      body: { impact: 1, title: 'Renamed' },
      headers: { 'if-match': '"1"' }
    })
    expect(res.statusCode, res.body).toBe(200)
    expect(versionOfEtag(res.headers.etag)).toBe(2)
    expect(res.json()).toMatchObject({ impact: 1, urgency: 3, priority: 3, title: 'Renamed', version: 2 })
    const got = await t.api('GET', `/api/v1/incidents/${inc.id}`)
    expect(versionOfEtag(got.headers.etag)).toBe(2)
  })

  it('accepts the version in the body instead of If-Match', async () => {
    const inc = await makeIncident(t)
    const res = await t.api('PATCH', `/api/v1/incidents/${inc.id}`, { body: { urgency: 1, version: 1 } })
    expect(res.statusCode).toBe(200)
    expect(res.json().version).toBe(2)
  })

  it('refuses a stale version (412) and a missing one (428), changing nothing', async () => {
    const inc = await makeIncident(t, { title: 'Original' })
    await t.api('PATCH', `/api/v1/incidents/${inc.id}`, {
      body: { title: 'First agent' },
      headers: { 'if-match': '"1"' }
    })
    const stale = await t.api('PATCH', `/api/v1/incidents/${inc.id}`, {
      body: { title: 'Second agent' },
      headers: { 'if-match': '"1"' }
    })
    expect(stale.statusCode).toBe(412)
    expect(stale.json()).toMatchObject({ code: 'PRECONDITION_FAILED', currentVersion: 2 })
    const missing = await t.api('PATCH', `/api/v1/incidents/${inc.id}`, { body: { title: 'Blind write' } })
    expect(missing.statusCode).toBe(428)
    expect(missing.json().errors[0].field).toBe('If-Match')
    const bad = await t.api('PATCH', `/api/v1/incidents/${inc.id}`, {
      body: { title: 'x' },
      headers: { 'if-match': 'banana' }
    })
    expect(bad.statusCode).toBe(400)
    expect((await t.api('GET', `/api/v1/incidents/${inc.id}`)).json().title).toBe('First agent')
  })

  it('refuses read-only and unknown fields and empty bodies', async () => {
    const inc = await makeIncident(t)
    for (const body of [
      { status: 'closed', version: 1 },
      { priority: 1, version: 1 },
      { number: 'INC-1', version: 1 },
      {}
    ]) {
      const res = await t.api('PATCH', `/api/v1/incidents/${inc.id}`, { body })
      expect(res.statusCode, JSON.stringify(body)).toBe(400)
    }
  })

  it('records every change in the history: who, when, field, old, new', async () => {
    const inc = await makeIncident(t, { title: 'Before', impact: 2 })
    await t.api('PATCH', `/api/v1/incidents/${inc.id}`, { body: { title: 'After', impact: 1, version: 1 } })
    const res = await t.api('GET', `/api/v1/incidents/${inc.id}/history`)
    expect(res.statusCode).toBe(200)
    const entries = res.json().items
    expect(entries.map((e: { action: string }) => e.action)).toEqual(['created', 'updated'])
    expect(entries[0].changes).toContainEqual({ field: 'number', old: null, new: inc.number })
    expect(entries[1]).toMatchObject({ actor: 'admin' })
    expect(entries[1].at).toMatch(/Z$/)
    expect(entries[1].changes).toEqual(
      expect.arrayContaining([
        { field: 'title', old: 'Before', new: 'After' },
        { field: 'impact', old: 2, new: 1 },
        { field: 'priority', old: 3, new: 2 }
      ])
    )
    const page = await t.api('GET', `/api/v1/incidents/${inc.id}/history?limit=1`)
    const next = await t.api('GET', `/api/v1/incidents/${inc.id}/history?limit=1&cursor=${page.json().nextCursor}`)
    expect(next.json().items[0].action).toBe('updated')
  })
})

describe('assignment and the incident workflow', () => {
  let t: TestApp
  let tech: Awaited<ReturnType<typeof makeUser>>
  let senior: Awaited<ReturnType<typeof makeUser>>
  let team: { id: string }
  beforeAll(async () => {
    t = await buildTestApp()
    tech = await makeUser(t, ['technician'])
    senior = await makeUser(t, ['technician'])
    team = await makeTeam(t, [
      { userId: tech.id, level: 1 },
      { userId: senior.id, level: 2 }
    ])
  })
  afterAll(async () => t?.close())

  const assign = (id: string, body: object, token?: string) =>
    t.api('PUT', `/api/v1/incidents/${id}/assignment`, { body, ...(token ? { token } : {}) })
  const move = (id: string, body: object, token?: string) =>
    t.api('POST', `/api/v1/incidents/${id}/transitions`, { body, ...(token ? { token } : {}) })

  it('assigns to a team at layer 1, then to a person, and escalates to layer 2', async () => {
    const inc = await makeIncident(t)
    const toTeam = await assign(inc.id, { teamId: team.id })
    expect(toTeam.json()).toMatchObject({ teamId: team.id, layer: 1, assigneeId: null, status: 'new' })
    const toTech = await assign(inc.id, { teamId: team.id, assigneeId: tech.id }, tech.token)
    expect(toTech.json()).toMatchObject({ layer: 1, assigneeId: tech.id, status: 'assigned' })
    const escalated = await assign(inc.id, { teamId: team.id, layer: 2, assigneeId: senior.id })
    expect(escalated.json()).toMatchObject({ layer: 2, assigneeId: senior.id })
    const history = (await t.api('GET', `/api/v1/incidents/${inc.id}/history`)).json().items
    expect(history.filter((h: { action: string }) => h.action === 'assigned').length).toBe(3)
  })

  it('refuses an assignee outside the layer, an unknown team and a missing layer', async () => {
    const inc = await makeIncident(t)
    const wrongLayer = await assign(inc.id, { teamId: team.id, layer: 2, assigneeId: tech.id })
    expect(wrongLayer.statusCode).toBe(422)
    expect(wrongLayer.json().errors[0].field).toBe('assigneeId')
    const noTeam = await assign(inc.id, { teamId: '00000000-0000-4000-8000-000000000000' })
    expect(noTeam.statusCode).toBe(422)
    expect(noTeam.json().errors[0].field).toBe('teamId')
    const noLayer = await assign(inc.id, { teamId: team.id, layer: 3 })
    expect(noLayer.statusCode).toBe(422)
    expect(noLayer.json().errors[0].field).toBe('layer')
    expect((await t.api('GET', `/api/v1/incidents/${inc.id}`)).json().teamId).toBeNull()
  })

  it('unassigns, moving an assigned incident back to new', async () => {
    const inc = await makeIncident(t, { teamId: team.id, assigneeId: tech.id })
    const res = await assign(inc.id, { teamId: null })
    expect(res.json()).toMatchObject({ teamId: null, layer: null, assigneeId: null, status: 'new' })
  })

  it('answers an illegal transition with 409 naming the allowed ones', async () => {
    const inc = await makeIncident(t)
    const res = await move(inc.id, { to: 'closed' })
    expect(res.statusCode).toBe(409)
    expect(res.json().code).toBe('CONFLICT')
    expect(res.json().allowed).toEqual(['assigned', 'in_progress', 'pending', 'resolved'])
    const listed = await t.api('GET', `/api/v1/incidents/${inc.id}/transitions`)
    expect(listed.json()).toEqual({ status: 'new', allowed: ['assigned', 'in_progress', 'pending', 'resolved'] })
  })

  it('needs a team to be assigned and a resolution to resolve', async () => {
    const inc = await makeIncident(t)
    const noTeam = await move(inc.id, { to: 'assigned' })
    expect(noTeam.statusCode).toBe(422)
    expect(noTeam.json().errors[0].field).toBe('teamId')
    const noResolution = await move(inc.id, { to: 'resolved' })
    expect(noResolution.statusCode).toBe(422)
    expect(noResolution.json().errors[0].field).toBe('resolution')
  })

  it('runs new → in progress → pending → in progress → resolved → reopened → resolved → closed', async () => {
    const org = await makeOrganisation(t)
    const customer = await makeUser(t, ['customer'], { organisationId: org.id })
    const inc = await makeIncident(t, {}, customer.token)
    expect((await move(inc.id, { to: 'in_progress' }, tech.token)).json().status).toBe('in_progress')
    expect((await move(inc.id, { to: 'pending' }, tech.token)).json().status).toBe('pending')
    expect((await move(inc.id, { to: 'in_progress' }, tech.token)).json().status).toBe('in_progress')

    // the customer cannot resolve their own ticket
    const byCustomer = await move(inc.id, { to: 'resolved', resolution: 'self-fixed' }, customer.token)
    expect(byCustomer.statusCode).toBe(409)
    expect(byCustomer.json().allowed).toEqual([])

    const resolved = await move(
      inc.id,
      { to: 'resolved', resolution: 'Replaced cable', resolutionCode: 'hardware' },
      tech.token
    )
    expect(resolved.json()).toMatchObject({
      status: 'resolved',
      resolution: 'Replaced cable',
      resolutionCode: 'hardware'
    })
    expect(resolved.json().resolvedAt).toMatch(/Z$/)

    // the requester rejects the resolution: reopen with a reason, which becomes a public reply
    const reopened = await move(inc.id, { to: 'in_progress', note: 'Still broken' }, customer.token)
    expect(reopened.statusCode, reopened.body).toBe(200)
    expect(reopened.json().resolvedAt).toBeNull()
    const notes = (await t.api('GET', `/api/v1/incidents/${inc.id}/notes`, { token: customer.token })).json().items
    expect(notes.map((n: { body: string }) => n.body)).toContain('Still broken')

    await move(inc.id, { to: 'resolved', resolution: 'Replaced the port too' }, tech.token)
    const closed = await move(inc.id, { to: 'closed' }, customer.token)
    expect(closed.json()).toMatchObject({ status: 'closed' })
    expect(closed.json().closedAt).toMatch(/Z$/)

    // closed is final
    const edit = await t.api('PATCH', `/api/v1/incidents/${inc.id}`, {
      body: { title: 'late', version: closed.json().version }
    })
    expect(edit.statusCode).toBe(409)
    const note = await t.api('POST', `/api/v1/incidents/${inc.id}/notes`, { body: { body: 'late' } })
    expect(note.statusCode).toBe(409)
    expect((await move(inc.id, { to: 'in_progress' })).json().allowed).toEqual([])

    const actions = (await t.api('GET', `/api/v1/incidents/${inc.id}/history`))
      .json()
      .items.map((h: { action: string }) => h.action)
    expect(actions).toContain('reopened')
  })

  it('checks If-Match on transitions when given', async () => {
    const inc = await makeIncident(t)
    const res = await t.api('POST', `/api/v1/incidents/${inc.id}/transitions`, {
      body: { to: 'in_progress' },
      headers: { 'if-match': '"7"' }
    })
    expect(res.statusCode).toBe(412)
  })
})
