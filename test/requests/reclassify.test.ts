import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { requestDetails, requestTasks } from '../../src/db/schema/index.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { historyOf, makeIncident, makeTeam, makeUser } from '../helpers/factories.js'
import { errorWith, fields } from '../helpers/graphql.js'
import { versionOfEtag } from '../helpers/http.js'
import { expectProblem, fieldsOf } from '../helpers/problem.js'
import { makeOffering, makeRequest, tasksOf } from '../helpers/requests.js'

describe('reclassifying incidents and requests', () => {
  let t: TestApp
  let team: { id: string }
  let offering: Awaited<ReturnType<typeof makeOffering>>
  let customer: Awaited<ReturnType<typeof makeUser>>
  const ghost = '00000000-0000-7000-8000-000000000000'

  beforeAll(async () => {
    t = await buildTestApp()
    team = await makeTeam(t)
    offering = await makeOffering(t, { teamId: team.id, tasks: ['Create account', 'Send credentials'] })
    customer = await makeUser(t, ['customer'])
  })
  afterAll(async () => t?.close())

  it('incident → request → incident over REST: same id, new numbers, history kept, old numbers still find it', async () => {
    const inc = await makeIncident(t, { title: 'Need a VPN account', requesterId: customer.id })
    await t.api('POST', `/api/v1/incidents/${inc.id}/notes`, { body: { body: 'Looks like a request' } })

    const res = await t.api('POST', `/api/v1/incidents/${inc.id}/reclassify`, {
      body: { to: 'request', offeringId: offering.id, note: 'This is a service request' }
    })
    expect(res.statusCode, res.body).toBe(200)
    const req = res.json()
    expect(req).toMatchObject({
      id: inc.id,
      kind: 'request',
      title: 'Need a VPN account',
      requesterId: customer.id,
      offeringId: offering.id,
      teamId: team.id,
      layer: 1,
      taskCount: 2,
      openTaskCount: 2
    })
    expect(req.number).toMatch(/^REQ-\d{6}$/)
    expect(versionOfEtag(res.headers.etag)).toBe(req.version)

    // The former number still finds the ticket (issue 10: it was a 404 everywhere), as what it is now
    const former = await t.api('GET', `/api/v1/tickets/${inc.number}`)
    expect(former.statusCode, former.body).toBe(200)
    expect(former.json()).toMatchObject({ id: inc.id, kind: 'request', number: req.number })
    expect((await t.api('GET', `/api/v1/incidents/${inc.id}`)).statusCode).toBe(404)
    expect((await t.api('GET', `/api/v1/tickets/${req.number}`)).json()).toMatchObject({ id: inc.id, kind: 'request' })
    expect((await tasksOf(t, inc.id)).map(x => x.title)).toEqual(['Create account', 'Send credentials'])

    const notes = (await t.api('GET', `/api/v1/requests/${inc.id}/notes`)).json().items
    expect(notes.map((n: { body: string }) => n.body)).toEqual(['Looks like a request', 'This is a service request'])

    // Notes and the approval (the offering needs none) are on the history too
    const history = (await historyOf(t, 'requests', inc.id)).filter(h => ['created', 'reclassified'].includes(h.action))
    expect(history.map(h => h.action)).toEqual(['created', 'reclassified'])
    expect(history[0]!.changes).toContainEqual({ field: 'number', old: null, new: inc.number })
    expect(history[1]!.changes).toEqual(
      expect.arrayContaining([
        { field: 'kind', old: 'incident', new: 'request' },
        { field: 'number', old: inc.number, new: req.number },
        { field: 'status', old: inc.status, new: 'awaiting_approval' },
        { field: 'teamId', old: null, new: team.id },
        { field: 'offeringId', old: null, new: offering.id }
      ])
    )

    // Back: the request's detail and tasks go, the incident number is a new one
    const back = await t.api('POST', `/api/v1/requests/${inc.id}/reclassify`, { body: { to: 'incident' } })
    expect(back.statusCode, back.body).toBe(200)
    const again = back.json()
    expect(again).toMatchObject({ id: inc.id, kind: 'incident', status: 'new', teamId: team.id })
    expect(again.number).toMatch(/^INC-\d{6}$/)
    expect(again.number).not.toBe(inc.number)
    expect(again).not.toHaveProperty('offeringId')
    expect(await t.db.select().from(requestTasks).where(eq(requestTasks.requestId, inc.id))).toEqual([])
    expect(await t.db.select().from(requestDetails).where(eq(requestDetails.ticketId, inc.id))).toEqual([])
    // Every former number finds the ticket as what it is now
    for (const n of [inc.number, req.number]) {
      expect((await t.api('GET', `/api/v1/tickets/${n}`)).json(), n).toMatchObject({ id: inc.id, number: again.number })
    }
    expect((await t.api('GET', `/api/v1/tickets/${again.number}`)).statusCode).toBe(200)
    expect((await t.api('GET', `/api/v1/requests/${inc.id}/tasks`)).statusCode).toBe(404)

    const all = (await historyOf(t, 'incidents', inc.id)).filter(h => h.action !== 'note.public')
    expect(all.map(h => h.action)).toEqual([
      'created',
      'reclassified',
      'approval.started',
      'approval.approved',
      'reclassified'
    ])
    expect(all[4]!.changes).toEqual(
      expect.arrayContaining([
        { field: 'kind', old: 'request', new: 'incident' },
        { field: 'number', old: req.number, new: again.number }
      ])
    )
  })

  it('refuses bad reclassifications: absent offering (422), wrong kind (404), closed ticket (409), customers (403)', async () => {
    const inc = await makeIncident(t)
    const url = `/api/v1/incidents/${inc.id}/reclassify`
    expect(
      fieldsOf(expectProblem(await t.api('POST', url, { body: { to: 'request', offeringId: ghost } }), 422))
    ).toEqual(['offeringId'])
    expect(fieldsOf(expectProblem(await t.api('POST', url, { body: { to: 'request' } }), 400))).toEqual(['offeringId'])
    expect(
      fieldsOf(expectProblem(await t.api('POST', url, { body: { to: 'problem', offeringId: offering.id } }), 400))
    ).toEqual(['to'])
    // A request is not found through the incident door, nor an incident through the request door
    const req = await makeRequest(t, { offeringId: offering.id })
    expectProblem(
      await t.api('POST', `/api/v1/incidents/${req.id}/reclassify`, {
        body: { to: 'request', offeringId: offering.id }
      }),
      404
    )
    expectProblem(await t.api('POST', `/api/v1/requests/${inc.id}/reclassify`, { body: { to: 'incident' } }), 404)
    const own = await makeIncident(t, {}, customer.token)
    expectProblem(
      await t.api('POST', `/api/v1/incidents/${own.id}/reclassify`, {
        token: customer.token,
        body: { to: 'request', offeringId: offering.id }
      }),
      403
    )
    await t.api('POST', `/api/v1/incidents/${inc.id}/transitions`, { body: { to: 'resolved', resolution: 'Done' } })
    await t.api('POST', `/api/v1/incidents/${inc.id}/transitions`, { body: { to: 'closed' } })
    expectProblem(await t.api('POST', url, { body: { to: 'request', offeringId: offering.id } }), 409, 'CONFLICT')
    // Nothing happened to the refused ones
    expect((await t.api('GET', `/api/v1/incidents/${inc.id}`)).json()).toMatchObject({
      kind: 'incident',
      status: 'closed'
    })
  })

  it('reclassifies through GraphQL too, with the same checks', async () => {
    const inc = await makeIncident(t, { title: 'Install Visio' })
    const toRequest = await t.gql(
      `mutation($id: ID!, $input: ReclassifyIncidentInput!) {
        reclassifyIncident(id: $id, input: $input) { id number kind status offeringId taskCount offering { name } tasks { title } }
      }`,
      { id: inc.id, input: { offeringId: offering.id, note: 'A request' } }
    )
    expect(toRequest.body.errors).toBeUndefined()
    const req = toRequest.body.data!.reclassifyIncident
    expect(req).toMatchObject({ id: inc.id, kind: 'request', offeringId: offering.id, taskCount: 2 })
    expect(req.offering.name).toBe(offering.name)
    expect(req.tasks.map((x: { title: string }) => x.title)).toEqual(['Create account', 'Send credentials'])
    // The former number still finds it (as the request it is now)
    const byNumber = await t.gql('query($n: String!) { ticket(number: $n) { id number } }', { n: inc.number })
    expect(byNumber.body.errors).toBeUndefined()
    expect(byNumber.body.data!.ticket).toEqual({ id: inc.id, number: req.number })

    const bad = await t.gql(
      'mutation($id: ID!) { reclassifyIncident(id: $id, input: { offeringId: "00000000-0000-7000-8000-000000000000" }) { id } }',
      { id: inc.id }
    )
    errorWith(bad.body, 'NOT_FOUND')
    const noOffering = await t.gql(
      'mutation($id: ID!, $o: ID!) { reclassifyIncident(id: $id, input: { offeringId: $o }) { id } }',
      { id: (await makeIncident(t)).id, o: ghost }
    )
    errorWith(noOffering.body, 'VALIDATION_FAILED')
    expect(fields(noOffering.body)).toEqual(['offeringId'])

    const back = await t.gql(
      'mutation($id: ID!) { reclassifyRequest(id: $id, input: { note: "An incident after all" }) { id number kind status history { edges { node { action } } } } }',
      { id: inc.id }
    )
    expect(back.body.errors).toBeUndefined()
    const incident = back.body.data!.reclassifyRequest
    expect(incident).toMatchObject({ id: inc.id, kind: 'incident', status: 'new' })
    expect(incident.number).toMatch(/^INC-/)
    const actions = incident.history.edges.map((e: { node: { action: string } }) => e.node.action)
    expect(actions.filter((a: string) => a === 'reclassified')).toHaveLength(2)
    expect(actions[0]).toBe('created')
    const bare = await t.gql('mutation($id: ID!) { reclassifyRequest(id: $id) { id } }', { id: inc.id })
    errorWith(bare.body, 'NOT_FOUND')
  })

  it('carries custom fields the new kind also has, drops the rest, and asks for its required ones', async () => {
    const define = (body: Record<string, unknown>) => t.api('POST', '/api/v1/custom-fields', { body })
    expect((await define({ kind: 'incident', key: 'site', label: 'Site', type: 'text' })).statusCode).toBe(201)
    expect((await define({ kind: 'incident', key: 'floor', label: 'Floor', type: 'number' })).statusCode).toBe(201)
    expect((await define({ kind: 'request', key: 'site', label: 'Site', type: 'text' })).statusCode).toBe(201)
    const required = await define({
      kind: 'request',
      key: 'costCentre',
      label: 'Cost centre',
      type: 'text',
      required: true
    })
    expect(required.statusCode).toBe(201)
    const inc = await makeIncident(t, { customFields: { site: 'Leeds', floor: 3 } })
    const url = `/api/v1/incidents/${inc.id}/reclassify`
    const missing = await t.api('POST', url, { body: { to: 'request', offeringId: offering.id } })
    expect(fieldsOf(expectProblem(missing, 422))).toEqual(['customFields.costCentre'])
    expect((await t.api('GET', `/api/v1/incidents/${inc.id}`)).json().number).toBe(inc.number)

    const res = await t.api('POST', url, {
      body: { to: 'request', offeringId: offering.id, customFields: { costCentre: 'CC-7' } }
    })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json().customFields).toEqual({ site: 'Leeds', costCentre: 'CC-7' })
    // Back to an incident: the request's own field goes, the shared one stays
    const back = await t.api('POST', `/api/v1/requests/${inc.id}/reclassify`, { body: { to: 'incident' } })
    expect(back.statusCode, back.body).toBe(200)
    expect(back.json().customFields).toEqual({ site: 'Leeds' })
  })
})
