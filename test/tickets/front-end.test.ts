import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeIncident, makeOrganisation, makeTeam, makeUser } from '../helpers/factories.js'
import { errorWith } from '../helpers/graphql.js'
import { expectProblem } from '../helpers/problem.js'
import { makeOffering, makeRequest, tasksOf } from '../helpers/requests.js'

type User = Awaited<ReturnType<typeof makeUser>>

/** What a front-end developer tripped over building an agent console and a customer portal (issue 10 #15). */
describe('REST for front ends', () => {
  let t: TestApp
  let tech: User
  let customer: User
  let team: { id: string }

  beforeAll(async () => {
    t = await buildTestApp()
    const org = await makeOrganisation(t)
    tech = await makeUser(t, ['technician'], { displayName: 'Tess Tech' })
    customer = await makeUser(t, ['customer'], { organisationId: org.id, displayName: 'Carl Customer' })
    team = await makeTeam(t, [{ userId: tech.id, level: 1 }], 'Service Desk FE')
  })
  afterAll(async () => t?.close())

  it('embeds { id, displayName } of requester, assignee, team and note authors, for a customer too', async () => {
    const inc = await makeIncident(t, { title: 'Printer on fire' }, customer.token)
    const assigned = await t.api('PUT', `/api/v1/incidents/${inc.id}/assignment`, {
      token: tech.token,
      body: { teamId: team.id, assigneeId: tech.id }
    })
    expect(assigned.statusCode, assigned.body).toBe(200)
    const expected = {
      requester: { id: customer.id, displayName: 'Carl Customer' },
      assignee: { id: tech.id, displayName: 'Tess Tech' },
      team: { id: team.id, displayName: 'Service Desk FE' }
    }
    expect(assigned.json()).toMatchObject(expected)
    const reply = await t.api('POST', `/api/v1/incidents/${inc.id}/notes`, {
      token: tech.token,
      body: { body: 'On my way' }
    })
    expect(reply.json().author).toEqual({ id: tech.id, displayName: 'Tess Tech' })

    expectProblem(await t.api('GET', `/api/v1/users/${tech.id}`, { token: customer.token }), 403)
    const one = await t.api('GET', `/api/v1/incidents/${inc.id}`, { token: customer.token })
    expect(one.json()).toMatchObject(expected)
    const byNumber = await t.api('GET', `/api/v1/tickets/${inc.number}`, { token: customer.token })
    expect(byNumber.json()).toMatchObject(expected)
    const list = await t.api('GET', '/api/v1/incidents', { token: customer.token })
    expect(list.json().items.find((i: { id: string }) => i.id === inc.id)).toMatchObject(expected)
    const notes = await t.api('GET', `/api/v1/incidents/${inc.id}/notes`, { token: customer.token })
    expect(notes.json().items.map((n: { author: unknown }) => n.author)).toEqual([
      { id: tech.id, displayName: 'Tess Tech' }
    ])
    const unassigned = await makeIncident(t)
    expect(unassigned).toMatchObject({ assignee: null, team: null, requester: { displayName: expect.any(String) } })
  })

  it('creates from a template that gives the title and routes to a team, for a customer', async () => {
    const tpl = await t.api('POST', '/api/v1/templates', {
      body: { kind: 'incident', name: 'VPN down', values: { title: 'VPN is down', teamId: team.id, impact: 1 } }
    })
    expect(tpl.statusCode, tpl.body).toBe(201)
    const res = await t.api('POST', '/api/v1/incidents', {
      token: customer.token,
      body: { templateId: tpl.json().id }
    })
    expect(res.statusCode, res.body).toBe(201)
    expect(res.json()).toMatchObject({ title: 'VPN is down', teamId: team.id, layer: 1, impact: 1 })
    // The caller's own team choice is still theirs to be allowed
    const own = await t.api('POST', '/api/v1/incidents', {
      token: customer.token,
      body: { templateId: tpl.json().id, teamId: team.id }
    })
    expectProblem(own, 403)
    const none = expectProblem(await t.api('POST', '/api/v1/incidents', { body: {} }), 400, 'VALIDATION_FAILED')
    expect(none.errors!.map(e => e.field)).toEqual(['title'])

    const gql = await t.gql(
      'mutation($i: CreateIncidentInput!) { createIncident(input: $i) { title teamId } }',
      { i: { templateId: tpl.json().id } },
      customer.token
    )
    expect(gql.body.errors).toBeUndefined()
    expect(gql.body.data!.createIncident).toEqual({ title: 'VPN is down', teamId: team.id })
    const badValues = await t.api('POST', '/api/v1/templates', {
      body: { kind: 'incident', name: 'Bogus', values: { bogus: 1 } }
    })
    expect(expectProblem(badValues, 400, 'VALIDATION_FAILED').errors![0]!.field).toMatch(/^values/)
  })

  it('RSQL refuses unknown statuses and out-of-range levels, and takes human numbers', async () => {
    const inc = await makeIncident(t, { title: 'Numbered' })
    for (const filter of ['status==nope', 'status=in=(new,nope)', 'priority==9', 'impact==0', 'kind==nope']) {
      const url = filter.startsWith('kind') ? '/api/v1/tickets' : '/api/v1/incidents'
      const res = await t.api('GET', `${url}?filter=${encodeURIComponent(filter)}`)
      expect(expectProblem(res, 400, 'VALIDATION_FAILED').errors, filter).toEqual([
        { field: 'filter', message: expect.stringContaining(filter.split(/[=!<>]/)[0]!) }
      ])
    }
    expectProblem(await t.api('GET', '/api/v1/incidents?status=bogus'), 400, 'VALIDATION_FAILED')
    const byNumber = await t.api('GET', `/api/v1/incidents?filter=${encodeURIComponent(`number==${inc.number}`)}`)
    expect(byNumber.statusCode, byNumber.body).toBe(200)
    expect(byNumber.json().items.map((i: { id: string }) => i.id)).toEqual([inc.id])
    const across = await t.api('GET', `/api/v1/tickets?filter=${encodeURIComponent(`number=in=(${inc.number})`)}`)
    expect(across.statusCode, across.body).toBe(200)
    expect(across.json().items.map((i: { id: string }) => i.id)).toEqual([inc.id])
    const wrongKind = await t.api('GET', `/api/v1/incidents?filter=${encodeURIComponent('number==REQ-000001')}`)
    expectProblem(wrongKind, 400, 'VALIDATION_FAILED')
    const gql = await t.gql('{ incidents(filter: "status==nope") { edges { cursor } } }')
    errorWith(gql.body, 'VALIDATION_FAILED')
  })

  it('an event without summary is the schema validator’s error', async () => {
    const res = await t.api('POST', '/api/v1/events', {
      body: { source: 'prom', resource: 'db-01', severity: 'critical' }
    })
    expect(expectProblem(res, 400, 'VALIDATION_FAILED').errors!.map(e => e.field)).toContain('summary')
  })

  it('answers the same representation on create as on read; workflows are a list', async () => {
    const created = await t.api('POST', '/api/v1/incidents', { body: { title: 'Same shape' } })
    const read = await t.api('GET', `/api/v1/incidents/${created.json().id}`)
    expect(Object.keys(created.json()).sort()).toEqual(Object.keys(read.json()).sort())
    expect(created.json().problemId).toBeNull()
    const workflows = await t.api('GET', '/api/v1/workflows')
    expect(workflows.json()).toMatchObject({ items: expect.any(Array), nextCursor: null })
  })

  it('shows the current category path after a rename', async () => {
    const parent = (await t.api('POST', '/api/v1/categories', { body: { kind: 'incident', name: 'Hardware' } })).json()
    const child = (
      await t.api('POST', '/api/v1/categories', { body: { kind: 'incident', name: 'Laptop', parentId: parent.id } })
    ).json()
    const inc = await makeIncident(t, { categoryId: child.id })
    expect(inc.category).toBe('Hardware / Laptop')
    const before = await t.api('GET', `/api/v1/incidents/${inc.id}`)
    const renamed = await t.api('PATCH', `/api/v1/categories/${parent.id}`, {
      body: { name: 'Devices', version: parent.version }
    })
    expect(renamed.statusCode, renamed.body).toBe(200)
    const read = await t.api('GET', `/api/v1/incidents/${inc.id}`)
    expect(read.json()).toMatchObject({ category: 'Devices / Laptop', categoryId: child.id })
    // The path is a derived copy: the ticket's version stays (no edit turns stale), its ETag moves
    expect(read.json().version).toBe(inc.version)
    expect(read.headers.etag).not.toBe(before.headers.etag)
    const list = await t.api('GET', `/api/v1/incidents?category=${encodeURIComponent('Devices / Laptop')}`)
    expect(list.json().items.map((i: { id: string }) => i.id)).toEqual([inc.id])
  })

  it('finds a reclassified ticket by its former number, by lookup and by q', async () => {
    const offering = await makeOffering(t, { teamId: team.id })
    const inc = await makeIncident(t, { title: 'Actually a request' })
    const moved = await t.api('POST', `/api/v1/incidents/${inc.id}/reclassify`, {
      body: { to: 'request', offeringId: offering.id }
    })
    expect(moved.statusCode, moved.body).toBe(200)
    expect(moved.json().number).toMatch(/^REQ-/)
    const found = await t.api('GET', `/api/v1/tickets/${inc.number}`)
    expect(found.statusCode, found.body).toBe(200)
    expect(found.json()).toMatchObject({ id: inc.id, kind: 'request', number: moved.json().number })
    const q = await t.api('GET', `/api/v1/requests?q=${inc.number}`)
    expect(q.json().items.map((i: { id: string }) => i.id)).toEqual([inc.id])
    const across = await t.api('GET', `/api/v1/tickets?q=${inc.number}`)
    expect(across.json().items.map((i: { id: string }) => i.id)).toEqual([inc.id])
    const gql = await t.gql('query($n: String!) { ticket(number: $n) { id } }', { n: inc.number })
    expect(gql.body.errors).toBeUndefined()
    expect(gql.body.data!.ticket.id).toBe(inc.id)
  })

  it('cancelling a request cancels its open tasks, audited; a transition note may be internal', async () => {
    const offering = await makeOffering(t, { teamId: team.id, tasks: ['Order', 'Deliver'] })
    const req = await makeRequest(t, { offeringId: offering.id, requesterId: customer.id })
    const cancelled = await t.api('POST', `/api/v1/requests/${req.id}/transitions`, {
      body: { to: 'cancelled', note: 'Duplicate of another request', noteInternal: true }
    })
    expect(cancelled.statusCode, cancelled.body).toBe(200)
    expect((await tasksOf(t, req.id)).map(x => x.status)).toEqual(['cancelled', 'cancelled'])
    const history = (await t.api('GET', `/api/v1/requests/${req.id}/history?limit=100`)).json().items as {
      action: string
      changes: { field: string; new: unknown }[]
    }[]
    expect(history.some(h => h.action === 'task.updated' && h.changes.every(c => c.new === 'cancelled'))).toBe(true)
    const staffNotes = (await t.api('GET', `/api/v1/requests/${req.id}/notes`)).json().items
    expect(staffNotes.map((n: { internal: boolean; body: string }) => [n.body, n.internal])).toEqual([
      ['Duplicate of another request', true]
    ])
    const customerNotes = (await t.api('GET', `/api/v1/requests/${req.id}/notes`, { token: customer.token })).json()
    expect(customerNotes.items).toEqual([])

    const own = await makeRequest(t, { offeringId: offering.id, requesterId: customer.id })
    const refused = await t.api('POST', `/api/v1/requests/${own.id}/transitions`, {
      token: customer.token,
      body: { to: 'cancelled', note: 'secret', noteInternal: true }
    })
    expectProblem(refused, 403)

    const other = await makeIncident(t)
    const viaGql = await t.gql(
      'mutation($id: ID!) { transitionIncident(id: $id, input: { to: "in_progress", note: "Internal", noteInternal: true }) { status } }',
      { id: other.id }
    )
    expect(viaGql.body.errors).toBeUndefined()
    const notes = (await t.api('GET', `/api/v1/incidents/${other.id}/notes`)).json().items
    expect(notes.map((n: { internal: boolean }) => n.internal)).toEqual([true])
  })
})
