import { and, eq } from 'drizzle-orm'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { auditLog, categories, ticketLinks, ticketNotes, tickets } from '../../src/db/schema/index.js'
import { inTransaction } from '../../src/lib/context.js'
import type { TicketChange, TicketSubscriber } from '../../src/modules/tickets/tickets.writer.js'
import { event, makeIntegration, post } from '../events/helpers.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeIncident, makeTeam, makeUser } from '../helpers/factories.js'
import { makeOffering } from '../helpers/requests.js'

/** Every change of a ticket goes through the one writer and reaches its subscribers in the transaction. */
describe('ticket writer subscribers', () => {
  let t: TestApp
  let team: { id: string }
  let tech: { id: string; token: string }
  const seen: { change: TicketChange; inTx: boolean }[] = []
  let stop: () => void

  const of = (id: string) => seen.filter(s => s.change.ticketId === id)

  beforeAll(async () => {
    t = await buildTestApp()
    tech = await makeUser(t, ['technician'])
    team = await makeTeam(t, [{ userId: tech.id, level: 1 }])
    const recorder: TicketSubscriber = {
      name: 'test.recorder',
      async onChange(ctx, change) {
        seen.push({ change, inTx: inTransaction(ctx.db) })
      }
    }
    stop = t.app.services.tickets.subscribe(recorder)
  })
  afterAll(async () => {
    stop?.()
    await t?.close()
  })
  beforeEach(() => {
    seen.length = 0
  })

  it('sees a create, an update, an assignment, a transition and a note exactly once each', async () => {
    const inc = await makeIncident(t, { impact: 3 })
    expect(of(inc.id).map(s => s.change.type)).toEqual(['created'])
    expect(of(inc.id)[0]!.change).toMatchObject({ kind: 'incident', before: null, cause: 'created' })

    let res = await t.api('PATCH', `/api/v1/incidents/${inc.id}`, {
      body: { impact: 1 },
      headers: { 'if-match': `"${inc.version}"` }
    })
    expect(res.statusCode, res.body).toBe(200)
    res = await t.api('PUT', `/api/v1/incidents/${inc.id}/assignment`, { body: { teamId: team.id } })
    expect(res.statusCode, res.body).toBe(200)
    res = await t.api('POST', `/api/v1/incidents/${inc.id}/transitions`, {
      body: { to: 'resolved', resolution: 'done', note: 'fixed it' }
    })
    expect(res.statusCode, res.body).toBe(200)
    res = await t.api('POST', `/api/v1/incidents/${inc.id}/notes`, { body: { body: 'one more word' } })
    expect(res.statusCode, res.body).toBe(201)

    const changes = of(inc.id).map(s => s.change)
    expect(changes.map(c => c.type)).toEqual(['created', 'updated', 'assigned', 'transitioned', 'noted'])
    expect(changes[1]).toMatchObject({ changed: ['impact', 'priority'], cause: 'updated' })
    expect(changes[1]!.before!.impact).toBe(3)
    expect(changes[1]!.after.impact).toBe(1)
    expect(changes[3]).toMatchObject({ cause: 'transitioned', transition: { to: 'resolved' } })
    expect(changes[3]!.note).toBeDefined()
    expect(seen.every(s => s.inTx)).toBe(true)
  })

  it('sees each ticket of a bulk update once, and a reclassification once', async () => {
    const a = await makeIncident(t)
    const b = await makeIncident(t)
    seen.length = 0
    const res = await t.api('POST', '/api/v1/tickets/bulk', {
      body: { ids: [a.id, b.id], set: { teamId: team.id, impact: 1 }, note: 'bulk note' }
    })
    expect(res.statusCode, res.body).toBe(200)
    for (const id of [a.id, b.id]) {
      expect(of(id).map(s => s.change)).toMatchObject([{ type: 'updated', cause: 'bulk.updated' }])
      expect(of(id)[0]!.change.note).toBeDefined()
    }

    const offering = await makeOffering(t, { teamId: team.id })
    seen.length = 0
    const re = await t.api('POST', `/api/v1/incidents/${a.id}/reclassify`, {
      body: { to: 'request', offeringId: offering.id }
    })
    expect(re.statusCode, re.body).toBe(200)
    const reclassified = of(a.id).filter(s => s.change.type === 'reclassified')
    expect(reclassified.map(s => s.change)).toMatchObject([
      { kind: 'request', before: { kind: 'incident' }, after: { kind: 'request' } }
    ])
    expect(seen.every(s => s.inTx)).toBe(true)
  })

  it('sees a link added and removed once on each end, in the transaction, with the link; audited on both', async () => {
    const a = await makeIncident(t)
    const b = await makeIncident(t)
    seen.length = 0
    const linked = await t.api('POST', `/api/v1/incidents/${a.id}/links`, {
      body: { type: 'child_of', ticketId: b.id }
    })
    expect(linked.statusCode, linked.body).toBe(201)
    const linkId = linked.json().id as string
    expect(of(a.id).map(s => s.change)).toMatchObject([
      {
        type: 'linked',
        cause: 'link.added',
        changed: ['child_of'],
        link: { id: linkId, type: 'child_of', ticketId: b.id }
      }
    ])
    expect(of(b.id).map(s => s.change)).toMatchObject([
      {
        type: 'linked',
        cause: 'link.added',
        changed: ['parent_of'],
        link: { id: linkId, type: 'parent_of', ticketId: a.id }
      }
    ])
    expect(of(a.id)[0]!.change.after).toMatchObject({ id: a.id, kind: 'incident' })

    seen.length = 0
    const unlinked = await t.api('DELETE', `/api/v1/incidents/${b.id}/links/${linkId}`)
    expect(unlinked.statusCode, unlinked.body).toBe(204)
    expect(of(a.id).map(s => s.change)).toMatchObject([
      { type: 'unlinked', cause: 'link.removed', changes: [{ field: 'child_of', old: b.id, new: null }] }
    ])
    expect(of(b.id).map(s => s.change)).toMatchObject([
      { type: 'unlinked', cause: 'link.removed', changes: [{ field: 'parent_of', old: a.id, new: null }] }
    ])
    expect(seen).toHaveLength(2)
    expect(seen.every(s => s.inTx)).toBe(true)
    for (const [id, field] of [
      [a.id, 'child_of'],
      [b.id, 'parent_of']
    ] as const) {
      const audit = await t.db
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.entityType, 'ticket'), eq(auditLog.entityId, id)))
      expect(audit.map(r => [r.action, (r.changes as { field: string }[])[0]?.field])).toEqual([
        ['created', 'number'],
        ['link.added', field],
        ['link.removed', field]
      ])
    }
  })

  it('sees every ticket a category rename retitles once, audited, versions kept', async () => {
    const root = (
      await t.api('POST', '/api/v1/categories', { body: { kind: 'incident', name: `Net ${Date.now()}` } })
    ).json()
    const leaf = (
      await t.api('POST', '/api/v1/categories', { body: { kind: 'incident', name: 'VPN', parentId: root.id } })
    ).json()
    const onLeaf = await makeIncident(t, { categoryId: leaf.id })
    const onRoot = await makeIncident(t, { categoryId: root.id })
    const elsewhere = await makeIncident(t)
    seen.length = 0
    const renamed = await t.api('PATCH', `/api/v1/categories/${root.id}`, {
      body: { name: `${root.name} renamed`, version: root.version }
    })
    expect(renamed.statusCode, renamed.body).toBe(200)
    for (const [inc, path] of [
      [onLeaf, `${root.name} renamed / VPN`],
      [onRoot, `${root.name} renamed`]
    ] as const) {
      expect(of(inc.id).map(s => s.change)).toMatchObject([
        {
          type: 'updated',
          cause: 'category.renamed',
          changed: ['category'],
          changes: [{ field: 'category', old: inc.category, new: path }],
          after: { category: path, version: inc.version }
        }
      ])
      const audit = await t.db
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.entityType, 'ticket'), eq(auditLog.entityId, inc.id)))
      expect(audit.map(r => [r.action, r.changes])).toEqual([
        ['created', expect.anything()],
        ['category.renamed', [{ field: 'category', old: inc.category, new: path }]]
      ])
      const [row] = await t.db.select().from(tickets).where(eq(tickets.id, inc.id))
      expect(row).toMatchObject({ category: path, version: inc.version })
    }
    expect(of(elsewhere.id)).toEqual([])
    expect(seen).toHaveLength(2)
    expect(seen.every(s => s.inTx)).toBe(true)
  })

  it('sees what the events engine opens, notes and resolves', async () => {
    const integration = await makeIntegration(t, 'writer')
    const e = event()
    let res = await post(t, integration.token, '/api/v1/events', e)
    expect(res.statusCode, res.body).toBe(202)
    const incidentId = res.json().incidentId as string
    res = await post(t, integration.token, '/api/v1/events', { ...e, status: 'resolved' })
    expect(res.statusCode, res.body).toBe(202)
    const types = of(incidentId).map(s => s.change.type)
    expect(types[0]).toBe('created')
    expect(types).toContain('transitioned')
    expect(types.filter(x => x === 'created')).toHaveLength(1)
    expect(seen.every(s => s.inTx)).toBe(true)
  })

  it('rolls the change back when a subscriber throws: no row, no audit, no note, no link', async () => {
    const inc = await makeIncident(t)
    const other = (await makeIncident(t)).id
    const category = (
      await t.api('POST', '/api/v1/categories', { body: { kind: 'incident', name: `Rollback ${Date.now()}` } })
    ).json()
    const onCategory = (await makeIncident(t, { categoryId: category.id })).id
    const failing: TicketSubscriber = {
      name: 'test.failing',
      async onChange() {
        throw new Error('subscriber failed')
      }
    }
    const remove = t.app.services.tickets.subscribe(failing)
    try {
      const before = await t.db.select().from(tickets).where(eq(tickets.id, inc.id))
      const noted = await t.api('POST', `/api/v1/incidents/${inc.id}/notes`, { body: { body: 'lost' } })
      expect(noted.statusCode).toBe(500)
      const moved = await t.api('POST', `/api/v1/incidents/${inc.id}/transitions`, {
        body: { to: 'resolved', resolution: 'done' }
      })
      expect(moved.statusCode).toBe(500)
      const created = await t.api('POST', '/api/v1/incidents', { body: { title: 'never stored' } })
      expect(created.statusCode).toBe(500)
      const linked = await t.api('POST', `/api/v1/incidents/${inc.id}/links`, {
        body: { type: 'related_to', ticketId: other }
      })
      expect(linked.statusCode).toBe(500)
      expect(await t.db.select().from(ticketLinks).where(eq(ticketLinks.toId, other))).toHaveLength(0)
      expect(await t.db.select().from(ticketLinks).where(eq(ticketLinks.fromId, other))).toHaveLength(0)
      const renamed = await t.api('PATCH', `/api/v1/categories/${category.id}`, {
        body: { name: `${category.name} renamed`, version: category.version }
      })
      expect(renamed.statusCode).toBe(500)
      const [kept] = await t.db.select().from(categories).where(eq(categories.id, category.id))
      expect(kept).toMatchObject({ name: category.name, version: category.version })
      const [filed] = await t.db.select().from(tickets).where(eq(tickets.id, onCategory))
      expect(filed!.category).toBe(category.name)

      const after = await t.db.select().from(tickets).where(eq(tickets.id, inc.id))
      expect(after[0]).toMatchObject({ status: before[0]!.status, version: before[0]!.version })
      expect(await t.db.select().from(ticketNotes).where(eq(ticketNotes.ticketId, inc.id))).toHaveLength(0)
      const audit = await t.db
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.entityType, 'ticket'), eq(auditLog.entityId, inc.id)))
      expect(audit.map(r => r.action)).toEqual(['created'])
      expect(await t.db.select().from(tickets).where(eq(tickets.title, 'never stored'))).toHaveLength(0)
    } finally {
      remove()
    }
  })
})
