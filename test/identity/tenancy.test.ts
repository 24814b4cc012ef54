import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeApiToken, makeIncident, makeOrganisation, makeUser } from '../helpers/factories.js'
import { expectProblem } from '../helpers/problem.js'

/** An organisation pin (and a customer) narrows every read and write, not only ticket lists. */
describe('tenancy: organisation pins and customers', () => {
  let t: TestApp
  let orgA: { id: string }
  let orgB: { id: string }
  let userA: Awaited<ReturnType<typeof makeUser>>
  let userB: Awaited<ReturnType<typeof makeUser>>
  let pinned: string
  beforeAll(async () => {
    t = await buildTestApp()
    orgA = await makeOrganisation(t)
    orgB = await makeOrganisation(t)
    userA = await makeUser(t, ['customer'], { organisationId: orgA.id })
    userB = await makeUser(t, ['customer'], { organisationId: orgB.id })
    const tech = await makeUser(t, ['technician'])
    pinned = (
      await makeApiToken(
        t,
        { scopes: ['tickets:read', 'tickets:write', 'events:write'], organisationId: orgA.id },
        tech.token
      )
    ).token
  })
  afterAll(async () => t?.close())

  it('a pinned token cannot move a ticket into another organisation by PATCH requesterId', async () => {
    const incident = await makeIncident(t, { requesterId: userA.id }, pinned)
    const res = await t.api('PATCH', `/api/v1/incidents/${incident.id}`, {
      token: pinned,
      body: { requesterId: userB.id },
      headers: { 'if-match': `"${incident.version}"` }
    })
    const body = expectProblem(res, 422)
    expect(body.errors?.[0]?.field).toBe('requesterId')
    const after = await t.api('GET', `/api/v1/incidents/${incident.id}`)
    expect(after.json()).toMatchObject({ organisationId: orgA.id, requesterId: userA.id })
    // a requester of its own organisation is fine
    const userA2 = await makeUser(t, ['customer'], { organisationId: orgA.id })
    const ok = await t.api('PATCH', `/api/v1/incidents/${incident.id}`, {
      token: pinned,
      body: { requesterId: userA2.id },
      headers: { 'if-match': `"${incident.version}"` }
    })
    expect(ok.statusCode, ok.body).toBe(200)
  })

  it('nor by GraphQL updateIncident', async () => {
    const incident = await makeIncident(t, { requesterId: userA.id }, pinned)
    const res = await t.gql(
      'mutation($id: ID!, $input: UpdateIncidentInput!, $v: Int!) { updateIncident(id: $id, input: $input, version: $v) { id organisationId } }',
      { id: incident.id, input: { requesterId: userB.id }, v: incident.version },
      pinned
    )
    expect(res.body.errors?.[0]?.extensions?.code, JSON.stringify(res.body)).toBe('VALIDATION_FAILED')
    const after = await t.api('GET', `/api/v1/incidents/${incident.id}`)
    expect(after.json().organisationId).toBe(orgA.id)
  })

  it('a pinned token sees only its organisation in users and organisations (404 for the others)', async () => {
    const users = await t.api('GET', '/api/v1/users?limit=500', { token: pinned })
    expect(users.statusCode, users.body).toBe(200)
    const orgs = new Set(users.json().items.map((u: { organisationId: string | null }) => u.organisationId))
    expect([...orgs]).toEqual([orgA.id])
    expectProblem(await t.api('GET', `/api/v1/users/${userB.id}`, { token: pinned }), 404)
    expect((await t.api('GET', `/api/v1/users/${userA.id}`, { token: pinned })).statusCode).toBe(200)
    const organisations = await t.api('GET', '/api/v1/organisations', { token: pinned })
    expect(organisations.json().items.map((o: { id: string }) => o.id)).toEqual([orgA.id])
    expectProblem(await t.api('GET', `/api/v1/organisations/${orgB.id}`, { token: pinned }), 404)
    const gql = await t.gql(`{ users(first: 100) { edges { node { organisationId } } } }`, {}, pinned)
    const seen = new Set(
      (gql.body.data?.users.edges ?? []).map((e: { node: { organisationId: string } }) => e.node.organisationId)
    )
    expect([...seen]).toEqual([orgA.id])
    const one = await t.gql('query($id: ID!) { user(id: $id) { id } }', { id: userB.id }, pinned)
    expect(one.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND')
  })

  it('a pinned token sees the events and alerts of its organisation only', async () => {
    const techA = await makeUser(t, ['technician'], { organisationId: orgA.id })
    const own = await makeApiToken(
      t,
      { scopes: ['events:write', 'tickets:read'], organisationId: orgA.id },
      techA.token
    )
    const mine = await t.api('POST', '/api/v1/events', {
      token: own.token,
      body: { source: 'tenancy', fingerprint: 'a-1', summary: 'org A down', severity: 'critical' }
    })
    expect(mine.statusCode, mine.body).toBe(202)
    const theirs = await t.api('POST', '/api/v1/events', {
      body: { source: 'tenancy', fingerprint: 'x-1', summary: 'provider down', severity: 'critical' }
    })
    expect(theirs.statusCode, theirs.body).toBe(202)
    const list = await t.api('GET', '/api/v1/events?source=tenancy', { token: own.token })
    expect(list.statusCode, list.body).toBe(200)
    const summaries = list.json().items.map((e: { summary: string }) => e.summary)
    expect(summaries).toEqual(['org A down'])
    const all = await t.api('GET', '/api/v1/events?source=tenancy')
    expect(all.json().items).toHaveLength(2)
    const other = all.json().items.find((e: { summary: string }) => e.summary === 'provider down')
    expectProblem(await t.api('GET', `/api/v1/events/${other.id}`, { token: own.token }), 404)
    const alerts = await t.api('GET', '/api/v1/alerts?source=tenancy', { token: own.token })
    expect(alerts.statusCode, alerts.body).toBe(200)
    expect(alerts.json().items).toHaveLength(1)
    expect((await t.api('GET', '/api/v1/alerts?source=tenancy')).json().items).toHaveLength(2)
  })

  it("a customer's history shows no link to, nor id of, a ticket they cannot see", async () => {
    const mine = await makeIncident(t, {}, userA.token)
    const foreign = await makeIncident(t, {}, userB.token)
    const problem = await t.api('POST', '/api/v1/problems', { body: { title: 'Root cause' } })
    expect(problem.statusCode, problem.body).toBe(201)
    for (const [type, ticketId] of [
      ['related_to', foreign.id],
      ['caused_by', problem.json().id]
    ]) {
      const res = await t.api('POST', `/api/v1/incidents/${mine.id}/links`, { body: { type, ticketId } })
      expect(res.statusCode, res.body).toBe(201)
    }
    // staff see both links in the history
    const staff = await t.api('GET', `/api/v1/incidents/${mine.id}/history`)
    expect(staff.body).toContain(foreign.id)
    const history = await t.api('GET', `/api/v1/incidents/${mine.id}/history`, { token: userA.token })
    expect(history.statusCode, history.body).toBe(200)
    expect(history.body).not.toContain(foreign.id)
    expect(history.body).not.toContain(problem.json().id)
    const gql = await t.gql(
      'query($id: ID!) { incident(id: $id) { history(first: 50) { edges { node { action changes { field old new } } } } } }',
      { id: mine.id },
      userA.token
    )
    expect(JSON.stringify(gql.body)).not.toContain(foreign.id)
    expect(JSON.stringify(gql.body)).not.toContain(problem.json().id)
    // nor the problemId of a problem they cannot see
    const read = await t.api('GET', `/api/v1/incidents/${mine.id}`, { token: userA.token })
    expect(read.json().problemId).toBeNull()
    expect((await t.api('GET', `/api/v1/incidents/${mine.id}`)).json().problemId).toBe(problem.json().id)
    const byNumber = await t.api('GET', `/api/v1/tickets/${mine.number}`, { token: userA.token })
    expect(byNumber.body).not.toContain(problem.json().id)
  })
})
