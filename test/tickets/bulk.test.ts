import { and, eq, inArray, sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { auditLog, ticketNotes, tickets } from '../../src/db/schema/index.js'
import { uuidv7 } from '../../src/lib/ids.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeApiToken, makeIncident, makeOrganisation, makeTeam, makeUser } from '../helpers/factories.js'
import { EVERY_FIELD_LIMITS, errorWith, loadSchema, objectType, selectAll, shapeProblems } from '../helpers/graphql.js'

type Item = { id: string; number: string; version: number; status: string }
const BULK = '/api/v1/tickets/bulk'

describe('bulk update of tickets', () => {
  let t: TestApp
  let team: { id: string }
  let tech: { id: string; token: string }
  let second: { id: string; token: string }
  let customer: { id: string; token: string; organisationId: string | null }

  const bulk = (body: unknown, token?: string) => t.api('POST', BULK, { body, ...(token ? { token } : {}) })
  const incidents = async (n: number, body: Record<string, unknown> = {}) => {
    const out = []
    for (let i = 0; i < n; i++) out.push(await makeIncident(t, body))
    return out
  }
  const rows = (ids: string[]) => t.db.select().from(tickets).where(inArray(tickets.id, ids))
  const auditOf = (ids: string[], action?: string) =>
    t.db
      .select()
      .from(auditLog)
      .where(and(inArray(auditLog.entityId, ids), action ? eq(auditLog.action, action) : undefined))
  const close = async (id: string) => {
    for (const body of [{ to: 'resolved', resolution: 'done' }, { to: 'closed' }]) {
      const res = await t.api('POST', `/api/v1/incidents/${id}/transitions`, { body })
      expect(res.statusCode, res.body).toBe(200)
    }
  }

  beforeAll(async () => {
    t = await buildTestApp(EVERY_FIELD_LIMITS)
    tech = await makeUser(t, ['technician'])
    second = await makeUser(t, ['technician'])
    const org = await makeOrganisation(t)
    customer = await makeUser(t, ['customer'], { organisationId: org.id })
    team = await makeTeam(t, [
      { userId: tech.id, level: 1 },
      { userId: second.id, level: 2 }
    ])
    for (const body of [
      { kind: 'incident', key: 'site', label: 'Site', type: 'text' },
      { kind: 'incident', key: 'tier', label: 'Tier', type: 'choice', options: ['gold', 'silver'] }
    ]) {
      const res = await t.api('POST', '/api/v1/custom-fields', { body })
      expect(res.statusCode, res.body).toBe(201)
    }
  })
  afterAll(async () => t?.close())

  it('assigns, sets custom fields and impact on many tickets, one audit row and version each', async () => {
    const list = await incidents(5, { impact: 3, urgency: 3 })
    const ids = list.map(i => i.id)
    const res = await bulk({
      ids,
      set: { teamId: team.id, assigneeId: tech.id, customFields: { site: 'Leeds', tier: 'gold' }, impact: 1 }
    })
    expect(res.statusCode, res.body).toBe(200)
    const body = res.json() as { updated: number; items: Item[] }
    expect(body.updated).toBe(5)
    expect(body.items).toEqual(list.map(i => ({ id: i.id, number: i.number, version: 2, status: 'assigned' })))
    for (const row of await rows(ids)) {
      expect(row).toMatchObject({ teamId: team.id, layer: 1, assigneeId: tech.id, impact: 1, priority: 3, version: 2 })
      expect(row.customFields).toEqual({ site: 'Leeds', tier: 'gold' })
    }
    const audit = await auditOf(ids, 'bulk.updated')
    expect(audit).toHaveLength(5)
    expect(audit[0]!.actorLabel).toBe('admin')
    expect(audit[0]!.changes).toEqual(
      expect.arrayContaining([
        { field: 'status', old: 'new', new: 'assigned' },
        { field: 'teamId', old: null, new: team.id },
        { field: 'assigneeId', old: null, new: tech.id },
        { field: 'priority', old: 5, new: 3 },
        { field: 'customFields.site', old: null, new: 'Leeds' }
      ])
    )
    const history = await t.api('GET', `/api/v1/incidents/${ids[0]}/history`)
    expect(history.json().items.map((h: { action: string }) => h.action)).toEqual(['created', 'bulk.updated'])

    // The same values again change nothing: no version, no audit row
    const again = await bulk({ ids, set: { teamId: team.id, assigneeId: tech.id, customFields: { site: 'Leeds' } } })
    expect(again.statusCode, again.body).toBe(200)
    expect(again.json().updated).toBe(0)
    expect(again.json().items.map((i: Item) => i.version)).toEqual([2, 2, 2, 2, 2])
    expect(await auditOf(ids, 'bulk.updated')).toHaveLength(5)

    // A new layer without a person drops the assignee; clearing the team moves the ticket back to new
    const moved = await bulk({ ids: ids.slice(0, 2), set: { teamId: team.id, layer: 2, customFields: { site: null } } })
    expect(moved.statusCode, moved.body).toBe(200)
    for (const row of await rows(ids.slice(0, 2))) {
      expect(row).toMatchObject({ layer: 2, assigneeId: null, version: 3 })
      expect(row.customFields).toEqual({ tier: 'gold' })
    }
    const cleared = await bulk({ ids: ids.slice(0, 2), set: { teamId: null } })
    expect(cleared.json().items.map((i: Item) => i.status)).toEqual(['new', 'new'])
  })

  it('moves statuses by each workflow, with the note and resolution on every ticket', async () => {
    const list = await incidents(3)
    const ids = list.map(i => i.id)
    const started = await bulk({ ids, set: { status: 'in_progress' }, note: 'Looking at all of these now' })
    expect(started.statusCode, started.body).toBe(200)
    expect(started.json().items.map((i: Item) => i.status)).toEqual(['in_progress', 'in_progress', 'in_progress'])
    const notes = await t.db.select().from(ticketNotes).where(inArray(ticketNotes.ticketId, ids))
    expect(notes).toHaveLength(3)
    expect(notes.every(n => !n.internal && n.body === 'Looking at all of these now')).toBe(true)
    const audit = await auditOf(ids)
    expect(audit.filter(a => a.action === 'note.public')).toHaveLength(3)
    expect(audit.filter(a => a.action === 'bulk.updated')).toHaveLength(3)

    const noResolution = await bulk({ ids, set: { status: 'resolved' } })
    expect(noResolution.statusCode).toBe(422)
    expect(noResolution.json().errors).toEqual([{ field: 'resolution', message: 'required to move to resolved' }])

    const resolved = await bulk({ ids, set: { status: 'resolved' }, resolution: 'Restarted the gateway' })
    expect(resolved.statusCode, resolved.body).toBe(200)
    for (const row of await rows(ids)) {
      expect(row).toMatchObject({ status: 'resolved', resolution: 'Restarted the gateway', version: 3 })
      expect(row.resolvedAt).toBeInstanceOf(Date)
    }
    // A note only: tickets get it, their fields and versions stay
    const noted = await bulk({ ids, set: {}, note: 'Closing these tomorrow' })
    expect(noted.statusCode, noted.body).toBe(200)
    expect(noted.json()).toMatchObject({ updated: 0 })
    expect((await rows(ids)).map(r => r.version)).toEqual([3, 3, 3])
    expect(await t.db.select().from(ticketNotes).where(inArray(ticketNotes.ticketId, ids))).toHaveLength(6)
  })

  it('updates tickets of several kinds, each by its own workflow', async () => {
    const [inc] = await incidents(1)
    const created = await t.api('POST', '/api/v1/problems', { body: { title: 'Recurring VPN drops' } })
    expect(created.statusCode, created.body).toBe(201)
    const problem = created.json() as Item
    const both = [inc!.id, problem.id]
    const moved = await bulk({ ids: both, set: { status: 'in_progress' } })
    expect(moved.statusCode).toBe(422)
    expect(moved.json().errors).toEqual([{ field: 'set.status', message: '"in_progress" is not a status of problems' }])
    const res = await bulk({ ids: both, set: { teamId: team.id, impact: 1 } })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json().items).toEqual([
      { id: inc!.id, number: inc!.number, version: 2, status: 'new' },
      { id: problem.id, number: problem.number, version: 2, status: problem.status }
    ])
    const got = await t.api('GET', `/api/v1/problems/${problem.id}`)
    expect(got.json()).toMatchObject({ teamId: team.id, layer: 1, impact: 1 })
    const history = await t.api('GET', `/api/v1/problems/${problem.id}/history`)
    expect(history.json().items.at(-1)).toMatchObject({ action: 'bulk.updated' })
  })

  it('is all or nothing: one bad ticket among 50 changes none and is named', async () => {
    const list = await incidents(50)
    const ids = list.map(i => i.id)
    await close(ids[17]!)
    const before = await rows(ids)
    const auditBefore = (await auditOf(ids)).length
    const res = await bulk({ ids, set: { teamId: team.id, customFields: { tier: 'silver' } }, note: 'x' })
    expect(res.statusCode).toBe(422)
    expect(res.headers['content-type']).toContain('application/problem+json')
    expect(res.json().errors).toEqual([
      { field: 'ids.17', message: `${list[17]!.number}: is closed and can no longer be changed` }
    ])
    expect(await rows(ids)).toEqual(before)
    expect(await auditOf(ids)).toHaveLength(auditBefore)
    expect(await t.db.select().from(ticketNotes).where(inArray(ticketNotes.ticketId, ids))).toHaveLength(0)
  })

  it('reports every problem at once: set fields once, tickets by index and number', async () => {
    const [a, b, c] = await incidents(3)
    await close(c!.id)
    const res = await bulk({
      ids: [a!.id, b!.id, c!.id],
      set: { status: 'pending', teamId: team.id, layer: 1, assigneeId: second.id, customFields: { tier: 'bronze' } }
    })
    expect(res.statusCode).toBe(422)
    const errors = res.json().errors as { field: string; message: string }[]
    expect(errors).toEqual(
      expect.arrayContaining([
        { field: 'set.assigneeId', message: expect.stringContaining('not a member of layer 1') },
        { field: 'set.customFields.tier', message: expect.stringContaining('gold') },
        { field: 'ids.2', message: `${c!.number}: is closed and can no longer be changed` }
      ])
    )
    expect(errors).toHaveLength(3)

    const noTeam = await bulk({ ids: [a!.id], set: { teamId: uuidv7() } })
    expect(noTeam.json().errors).toEqual([{ field: 'set.teamId', message: 'no such team' }])
    const badLayer = await bulk({ ids: [a!.id], set: { teamId: team.id, layer: 7 } })
    expect(badLayer.json().errors[0]).toMatchObject({ field: 'set.layer' })
    const layerAlone = await bulk({ ids: [a!.id], set: { layer: 2 } })
    expect(layerAlone.statusCode).toBe(422)
    expect(layerAlone.json().errors[0]).toMatchObject({ field: 'set.teamId' })
    const badStatus = await bulk({ ids: [a!.id], set: { status: 'nowhere' } })
    expect(badStatus.json().errors).toEqual([
      { field: 'set.status', message: '"nowhere" is not a status of incidents' }
    ])
    const notAllowed = await bulk({ ids: [a!.id, b!.id], set: { status: 'closed' } })
    expect(notAllowed.json().errors).toEqual([
      {
        field: 'ids.0',
        message: `${a!.number}: cannot go from new to closed; allowed: assigned, in_progress, pending, resolved`
      },
      {
        field: 'ids.1',
        message: `${b!.number}: cannot go from new to closed; allowed: assigned, in_progress, pending, resolved`
      }
    ])
    const nothing = await bulk({ ids: [a!.id], set: {} })
    expect(nothing.json().errors[0]).toMatchObject({ field: 'set' })
    const unknownField = await bulk({ ids: [a!.id], set: { customFields: { nope: 1 } } })
    expect(unknownField.json().errors[0]).toMatchObject({ field: 'set.customFields.nope' })
    expect((await rows([a!.id, b!.id])).map(r => r.version)).toEqual([1, 1])
  })

  it('caps the list of problems at 100 and says how many there were', async () => {
    const requester = (await t.db.select({ id: tickets.requesterId }).from(tickets).limit(1))[0]!.id
    const ids = await insertIncidents(t, 150, requester, 'closed')
    const res = await bulk({ ids, set: { impact: 1 } })
    expect(res.statusCode).toBe(422)
    expect(res.json().errors).toHaveLength(100)
    expect(res.json().errors[99].field).toBe('ids.99')
    expect(res.json().detail).toContain('150 problems')
  })

  it('names absent and invisible ids alike, without telling which exist', async () => {
    const mine = await makeIncident(t, {}, customer.token)
    const other = await makeIncident(t)
    const pinned = await makeApiToken(t, {
      scopes: ['tickets:read', 'tickets:write'],
      userId: tech.id,
      organisationId: customer.organisationId!
    })
    const absent = uuidv7()
    const res = await bulk({ ids: [mine.id, other.id, absent], set: { impact: 1 } }, pinned.token)
    expect(res.statusCode).toBe(422)
    expect(res.json().errors).toEqual([
      { field: 'ids', message: `no such tickets, or not visible to you: ${other.id}, ${absent}` }
    ])
    const ok = await bulk({ ids: [mine.id], set: { impact: 1 } }, pinned.token)
    expect(ok.statusCode, ok.body).toBe(200)
  })

  it('accepts 1,000 ids and refuses 1,001, duplicates and malformed bodies (400)', async () => {
    const requester = (await t.db.select({ id: tickets.requesterId }).from(tickets).limit(1))[0]!.id
    const ids = await insertIncidents(t, 1000, requester, 'new')
    const res = await bulk({ ids, set: { teamId: team.id, customFields: { tier: 'gold' } }, note: 'Mass triage' })
    expect(res.statusCode, res.body.slice(0, 500)).toBe(200)
    expect(res.json().updated).toBe(1000)
    const [count] = await t.db
      .select({ n: sql<number>`count(*)::int` })
      .from(tickets)
      .where(and(inArray(tickets.id, ids), eq(tickets.teamId, team.id), eq(tickets.version, 2)))
    expect(count!.n).toBe(1000)
    expect(await auditOf(ids, 'bulk.updated')).toHaveLength(1000)
    expect(await auditOf(ids, 'note.public')).toHaveLength(1000)

    const tooMany = await bulk({ ids: [...ids, uuidv7()], set: { impact: 1 } })
    expect(tooMany.statusCode).toBe(400)
    expect(tooMany.json().errors[0].field).toBe('ids')
    const twice = await bulk({ ids: [ids[0], ids[0]], set: { impact: 1 } })
    expect(twice.statusCode).toBe(400)
    for (const body of [
      { ids: [], set: { impact: 1 } },
      { ids: ['not-a-uuid'], set: { impact: 1 } },
      { ids: [ids[0]], set: { title: 'x' } },
      { ids: [ids[0]], set: { impact: 9 } },
      { ids: [ids[0]] }
    ]) {
      expect((await bulk(body)).statusCode, JSON.stringify(body)).toBe(400)
    }
  })

  it('is for staff with tickets:write: customers and read-only tokens get 403', async () => {
    const inc = await makeIncident(t, {}, customer.token)
    const asCustomer = await bulk({ ids: [inc.id], set: { impact: 1 } }, customer.token)
    expect(asCustomer.statusCode).toBe(403)
    const readOnly = await makeApiToken(t, { scopes: ['tickets:read'], userId: tech.id })
    const res = await bulk({ ids: [inc.id], set: { impact: 1 } }, readOnly.token)
    expect(res.statusCode).toBe(403)
    expect(res.json().missingScope).toBe('tickets:write')
    expect(await auditOf([inc.id], 'bulk.updated')).toHaveLength(0)
    const asTech = await bulk({ ids: [inc.id], set: { impact: 1 } }, tech.token)
    expect(asTech.statusCode, asTech.body).toBe(200)
  })

  it('works through GraphQL with the same rules', async () => {
    const schema = loadSchema()
    const MUTATION = `mutation($input: BulkUpdateInput!) { bulkUpdateTickets(input: $input) ${selectAll(schema, 'BulkUpdateResult')} }`
    const list = await incidents(2)
    const ids = list.map(i => i.id)
    const ok = await t.gql(MUTATION, {
      input: { ids, set: { teamId: team.id, assigneeId: tech.id, customFields: { site: 'York' } }, note: 'via GraphQL' }
    })
    expect(ok.body.errors, JSON.stringify(ok.body.errors)).toBeUndefined()
    const field = objectType(schema, 'Mutation').getFields().bulkUpdateTickets!
    expect(shapeProblems(schema, field.type, ok.body.data!.bulkUpdateTickets, { strict: true })).toEqual([])
    expect(ok.body.data!.bulkUpdateTickets).toEqual({
      updated: 2,
      items: list.map(i => ({ id: i.id, number: i.number, version: 2, status: 'assigned' }))
    })
    // An explicit null clears the team (omitted fields stay as they are)
    const clear = await t.gql(MUTATION, { input: { ids, set: { teamId: null, impact: null } } })
    expect(clear.body.errors, JSON.stringify(clear.body.errors)).toBeUndefined()
    expect((await rows(ids)).map(r => [r.teamId, r.assigneeId, r.status])).toEqual([
      [null, null, 'new'],
      [null, null, 'new']
    ])
    await close(ids[1]!)
    const bad = await t.gql(MUTATION, { input: { ids, set: { impact: 1 } } })
    const err = errorWith(bad.body, 'VALIDATION_FAILED')
    expect(err.extensions.errors).toEqual([
      { field: 'ids.1', message: `${list[1]!.number}: is closed and can no longer be changed` }
    ])
    const tooMany = await t.gql(MUTATION, {
      input: { ids: Array.from({ length: 1001 }, () => uuidv7()), set: { impact: 1 } }
    })
    expect(errorWith(tooMany.body, 'VALIDATION_FAILED').extensions.errors[0].field).toBe('input.ids')
    const asCustomer = await t.gql(MUTATION, { input: { ids, set: { impact: 1 } } }, customer.token)
    errorWith(asCustomer.body, 'FORBIDDEN')
  })

  it('refuses moves into an approval status (those start a round per ticket)', async () => {
    const wf = (await t.api('GET', '/api/v1/workflows/incident')).json()
    const definition = {
      initial: wf.initial,
      statuses: [
        ...wf.statuses,
        {
          key: 'cab',
          label: 'CAB',
          phase: 'open',
          pausesSla: false,
          approval: { approved: 'in_progress', rejected: 'new' }
        }
      ],
      transitions: [
        ...wf.transitions,
        { from: 'new', to: 'cab', by: ['staff'] },
        { from: 'cab', to: 'in_progress', by: ['system'] },
        { from: 'cab', to: 'new', by: ['system'] }
      ]
    }
    const put = await t.api('PUT', '/api/v1/workflows/incident', { body: definition })
    expect(put.statusCode, put.body).toBe(200)
    const [inc] = await incidents(1)
    const res = await bulk({ ids: [inc!.id], set: { status: 'cab' } })
    expect(res.statusCode).toBe(422)
    expect(res.json().errors).toEqual([
      { field: 'set.status', message: 'cab starts an approval round (incidents): move those tickets one at a time' }
    ])
  })
})

/** Many incidents straight into the table (the API would take a while for a thousand). */
async function insertIncidents(t: TestApp, n: number, requesterId: string, status: string): Promise<string[]> {
  const ids = Array.from({ length: n }, () => uuidv7())
  await t.db.execute(sql`
    INSERT INTO tickets (id, kind, number, title, status, impact, urgency, priority, requester_id, created_by, closed_at)
    SELECT id, 'incident', nextval('incident_number_seq'), 'Bulk ' || n, ${status}, 2, 2, 3, ${requesterId}::uuid,
           ${requesterId}::uuid, CASE WHEN ${status} = 'closed' THEN now() END
    FROM unnest(${sql.param(ids)}::uuid[]) WITH ORDINALITY AS g(id, n)`)
  return ids
}
