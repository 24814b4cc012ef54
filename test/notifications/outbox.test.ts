import { asc, eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { notificationOutbox } from '../../src/db/schema/index.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeIncident, makeOrganisation, makeTeam, makeUser } from '../helpers/factories.js'

describe('the notification outbox', () => {
  let t: TestApp
  let tech: Awaited<ReturnType<typeof makeUser>>
  let team: { id: string }
  beforeAll(async () => {
    t = await buildTestApp()
    tech = await makeUser(t, ['technician'])
    team = await makeTeam(t, [{ userId: tech.id, level: 1 }])
  })
  afterAll(async () => t?.close())

  const rowsOf = (ticketId: string) =>
    t.db
      .select()
      .from(notificationOutbox)
      .where(eq(notificationOutbox.ticketId, ticketId))
      .orderBy(asc(notificationOutbox.id))

  it('writes the rows of a create in the create statement: created, and assigned when it came with a team', async () => {
    const plain = await makeIncident(t)
    expect((await rowsOf(plain.id)).map(r => r.event)).toEqual(['ticket.created'])
    const assigned = await makeIncident(t, { teamId: team.id, assigneeId: tech.id })
    const rows = await rowsOf(assigned.id)
    expect(rows.map(r => r.event)).toEqual(['ticket.created', 'ticket.assigned'])
    expect(rows[1]!.payload).toMatchObject({ teamId: team.id, layer: 1, assigneeId: tech.id })
    expect(rows[0]!.actorId).toBeTruthy()
    expect(rows.every(r => r.sentAt === null && r.deadAt === null && r.attempts === 0)).toBe(true)
  })

  it('writes nothing when the create fails', async () => {
    const before = (await t.db.select().from(notificationOutbox)).length
    const res = await t.api('POST', '/api/v1/incidents', {
      body: { title: 'x', requesterId: '00000000-0000-4000-8000-000000000000' }
    })
    expect(res.statusCode).toBe(422)
    expect((await t.db.select().from(notificationOutbox)).length).toBe(before)
  })

  it('appends rows for assignment, notes, status changes, resolve and close in the write transaction', async () => {
    const org = await makeOrganisation(t)
    const customer = await makeUser(t, ['customer'], { organisationId: org.id })
    const inc = await makeIncident(t, {}, customer.token)
    await t.api('PUT', `/api/v1/incidents/${inc.id}/assignment`, { body: { teamId: team.id } })
    await t.api('POST', `/api/v1/incidents/${inc.id}/notes`, { body: { body: 'Looking', internal: false } })
    await t.api('POST', `/api/v1/incidents/${inc.id}/notes`, { body: { body: 'Secret', internal: true } })
    await t.api('POST', `/api/v1/incidents/${inc.id}/transitions`, { body: { to: 'in_progress' }, token: tech.token })
    await t.api('POST', `/api/v1/incidents/${inc.id}/transitions`, {
      body: { to: 'resolved', resolution: 'Fixed' },
      token: tech.token
    })
    const closed = await t.api('POST', `/api/v1/incidents/${inc.id}/transitions`, {
      body: { to: 'closed' },
      token: customer.token
    })
    expect(closed.statusCode, closed.body).toBe(200)
    const events = (await rowsOf(inc.id)).map(r => r.event)
    expect(events).toEqual([
      'ticket.created',
      'ticket.assigned',
      'ticket.public_reply',
      'ticket.internal_note',
      'ticket.status_changed',
      'ticket.resolved',
      'ticket.closed'
    ])
  })

  it('writes one row per ticket of a bulk change, set-wise, in its transaction', async () => {
    const ids: string[] = []
    for (let i = 0; i < 3; i++) ids.push((await makeIncident(t)).id)
    const res = await t.api('POST', '/api/v1/tickets/bulk', { body: { ids, set: { teamId: team.id } } })
    expect(res.statusCode, res.body).toBe(200)
    for (const id of ids) {
      const rows = await rowsOf(id)
      expect(rows.map(r => r.event)).toEqual(['ticket.created', 'ticket.assigned'])
      expect(rows[1]!.payload).toMatchObject({ teamId: team.id })
    }
    // All-or-nothing: a bulk refused as a whole leaves no rows
    const before = (await t.db.select().from(notificationOutbox)).length
    const bad = await t.api('POST', '/api/v1/tickets/bulk', {
      body: { ids: [...ids, '00000000-0000-4000-8000-000000000000'], set: { impact: 1 } }
    })
    expect(bad.statusCode).toBeGreaterThanOrEqual(400)
    expect((await t.db.select().from(notificationOutbox)).length).toBe(before)
  })

  it('rolls the rows back with a write that fails', async () => {
    const inc = await makeIncident(t)
    const before = (await rowsOf(inc.id)).length
    const bad = await t.api('PUT', `/api/v1/incidents/${inc.id}/assignment`, {
      body: { teamId: team.id, layer: 3 }
    })
    expect(bad.statusCode).toBe(422)
    expect((await rowsOf(inc.id)).length).toBe(before)
  })
})
