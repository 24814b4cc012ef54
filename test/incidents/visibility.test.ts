import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeIncident, makeOrganisation, makeUser } from '../helpers/factories.js'

describe('who sees what', () => {
  let t: TestApp
  let alice: Awaited<ReturnType<typeof makeUser>>
  let bob: Awaited<ReturnType<typeof makeUser>>
  let carol: Awaited<ReturnType<typeof makeUser>>
  let loner: Awaited<ReturnType<typeof makeUser>>
  let tech: Awaited<ReturnType<typeof makeUser>>
  let incA: Awaited<ReturnType<typeof makeIncident>>
  let incB: Awaited<ReturnType<typeof makeIncident>>

  beforeAll(async () => {
    t = await buildTestApp()
    const orgA = await makeOrganisation(t)
    const orgB = await makeOrganisation(t)
    alice = await makeUser(t, ['customer'], { organisationId: orgA.id })
    carol = await makeUser(t, ['customer'], { organisationId: orgA.id })
    bob = await makeUser(t, ['customer'], { organisationId: orgB.id })
    loner = await makeUser(t, ['customer'])
    tech = await makeUser(t, ['technician'])
    incA = await makeIncident(t, { title: 'A printer' }, alice.token)
    incB = await makeIncident(t, { title: 'B printer' }, bob.token)
  })
  afterAll(async () => t?.close())

  it("answers 404 for another organisation's incident on every path", async () => {
    const paths = [
      ['GET', `/api/v1/incidents/${incB.id}`],
      ['GET', `/api/v1/incidents/${incB.id}/notes`],
      ['GET', `/api/v1/incidents/${incB.id}/history`],
      ['GET', `/api/v1/incidents/${incB.id}/transitions`],
      ['GET', `/api/v1/tickets/${incB.number}`]
    ] as const
    for (const [method, url] of paths) {
      const res = await t.api(method, url, { token: alice.token })
      expect(res.statusCode, url).toBe(404)
    }
    const note = await t.api('POST', `/api/v1/incidents/${incB.id}/notes`, { token: alice.token, body: { body: 'hi' } })
    expect(note.statusCode).toBe(404)
    const move = await t.api('POST', `/api/v1/incidents/${incB.id}/transitions`, {
      token: alice.token,
      body: { to: 'closed' }
    })
    expect(move.statusCode).toBe(404)
    // absent and not-yours look the same
    const absent = await t.api('GET', '/api/v1/incidents/00000000-0000-4000-8000-000000000000', { token: alice.token })
    expect(absent.json().detail).toBe(
      (await t.api('GET', `/api/v1/incidents/${incB.id}`, { token: alice.token })).json().detail
    )
  })

  it('lets colleagues in one organisation see each other, and a customer without one only their own', async () => {
    expect((await t.api('GET', `/api/v1/incidents/${incA.id}`, { token: carol.token })).statusCode).toBe(200)
    const own = await makeIncident(t, { title: 'Loner' }, loner.token)
    const list = (await t.api('GET', '/api/v1/incidents', { token: loner.token })).json().items
    expect(list.map((i: { id: string }) => i.id)).toEqual([own.id])
  })

  it('never shows customers internal notes, nor their history entries', async () => {
    await t.api('POST', `/api/v1/incidents/${incA.id}/notes`, { token: tech.token, body: { body: 'Looking into it' } })
    const internal = await t.api('POST', `/api/v1/incidents/${incA.id}/notes`, {
      token: tech.token,
      body: { body: 'User is on the old driver again', internal: true }
    })
    expect(internal.statusCode).toBe(201)
    expect(internal.json().internal).toBe(true)

    const theirs = (await t.api('GET', `/api/v1/incidents/${incA.id}/notes`, { token: alice.token })).json().items
    expect(theirs.map((n: { body: string }) => n.body)).toEqual(['Looking into it'])
    const staff = (await t.api('GET', `/api/v1/incidents/${incA.id}/notes`, { token: tech.token })).json().items
    expect(staff.length).toBe(2)

    const history = (await t.api('GET', `/api/v1/incidents/${incA.id}/history`, { token: alice.token })).json().items
    expect(history.map((h: { action: string }) => h.action)).not.toContain('note.internal')
    const staffHistory = (await t.api('GET', `/api/v1/incidents/${incA.id}/history`, { token: tech.token })).json()
      .items
    expect(staffHistory.map((h: { action: string }) => h.action)).toContain('note.internal')
  })

  it('refuses internal notes from customers and empty notes', async () => {
    const res = await t.api('POST', `/api/v1/incidents/${incA.id}/notes`, {
      token: alice.token,
      body: { body: 'x', internal: true }
    })
    expect(res.statusCode).toBe(403)
    const reply = await t.api('POST', `/api/v1/incidents/${incA.id}/notes`, {
      token: alice.token,
      body: { body: 'Any news?' }
    })
    expect(reply.statusCode).toBe(201)
    expect(reply.json().internal).toBe(false)
    const empty = await t.api('POST', `/api/v1/incidents/${incA.id}/notes`, {
      token: alice.token,
      body: { body: '  ' }
    })
    expect(empty.statusCode).toBe(400)
  })

  it('does not let customers edit or assign', async () => {
    const edit = await t.api('PATCH', `/api/v1/incidents/${incA.id}`, {
      token: alice.token,
      body: { title: 'mine now', version: 1 }
    })
    expect(edit.statusCode).toBe(403)
    const assign = await t.api('PUT', `/api/v1/incidents/${incA.id}/assignment`, {
      token: alice.token,
      body: { teamId: null }
    })
    expect(assign.statusCode).toBe(403)
  })

  it('finds a ticket by its number, any case', async () => {
    const res = await t.api('GET', `/api/v1/tickets/${incA.number.toLowerCase()}`, { token: tech.token })
    expect(res.statusCode).toBe(200)
    expect(res.json().id).toBe(incA.id)
    expect((await t.api('GET', '/api/v1/tickets/XYZ-000001')).statusCode).toBe(404)
    expect((await t.api('GET', '/api/v1/tickets/INC-999999')).statusCode).toBe(404)
    expect((await t.api('GET', '/api/v1/tickets/not-a-number')).statusCode).toBe(400)
    expect((await t.api('GET', '/api/v1/incidents/not-a-uuid')).json().errors[0].field).toBe('id')
  })
})
