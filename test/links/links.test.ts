import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeApiToken, makeIncident, makeOrganisation, makeUser } from '../helpers/factories.js'
import { EVERY_FIELD_LIMITS, errorWith, fields, loadSchema, selectAll, shapeProblems } from '../helpers/graphql.js'

type User = Awaited<ReturnType<typeof makeUser>>
type Link = { id: string; type: string; ticketId: string; number: string; kind: string }

const schema = loadSchema()

describe('ticket links', () => {
  let t: TestApp
  let customerA: User
  let customerB: User
  let orgA: { id: string }

  beforeAll(async () => {
    t = await buildTestApp(EVERY_FIELD_LIMITS)
    orgA = await makeOrganisation(t)
    customerA = await makeUser(t, ['customer'], { organisationId: orgA.id })
    customerB = await makeUser(t, ['customer'], { organisationId: (await makeOrganisation(t)).id })
  })
  afterAll(async () => t?.close())

  const problem = async (title = 'Problem') => {
    const res = await t.api('POST', '/api/v1/problems', { body: { title } })
    expect(res.statusCode).toBe(201)
    return res.json() as { id: string; number: string }
  }
  const link = (collection: string, id: string, type: string, ticketId: string, token?: string) =>
    t.api('POST', `/api/v1/${collection}/${id}/links`, { body: { type, ticketId }, ...(token ? { token } : {}) })
  const linksOf = async (collection: string, id: string, token?: string) => {
    const res = await t.api('GET', `/api/v1/${collection}/${id}/links`, { ...(token ? { token } : {}) })
    expect(res.statusCode).toBe(200)
    return res.json().items as Link[]
  }
  const history = async (collection: string, id: string) =>
    (await t.api('GET', `/api/v1/${collection}/${id}/history`)).json().items as {
      action: string
      changes: { field: string; old: unknown; new: unknown }[]
    }[]

  it('reads caused_by from the incident and causes from the problem, auditing both tickets', async () => {
    const inc = await makeIncident(t)
    const p = await problem()
    const res = await link('incidents', inc.id, 'caused_by', p.id)
    expect(res.statusCode, res.body).toBe(201)
    expect(res.json()).toMatchObject({ type: 'caused_by', ticketId: p.id, number: p.number, kind: 'problem' })
    expect(await linksOf('problems', p.id)).toEqual([
      expect.objectContaining({ id: res.json().id, type: 'causes', ticketId: inc.id, number: inc.number })
    ])
    expect((await history('incidents', inc.id)).at(-1)).toMatchObject({
      action: 'link.added',
      changes: [{ field: 'caused_by', old: null, new: p.id }]
    })
    expect((await history('problems', p.id)).at(-1)).toMatchObject({
      action: 'link.added',
      changes: [{ field: 'causes', old: null, new: inc.id }]
    })
  })

  it('stores a link named from the far end the same way (duplicated_by, parent_of, causes)', async () => {
    const [a, b, c, d] = [await makeIncident(t), await makeIncident(t), await makeIncident(t), await makeIncident(t)]
    expect((await link('incidents', a.id, 'duplicated_by', b.id)).json().type).toBe('duplicated_by')
    expect((await linksOf('incidents', b.id)).map(l => [l.type, l.ticketId])).toEqual([['duplicate_of', a.id]])
    expect((await link('incidents', c.id, 'parent_of', d.id)).json().type).toBe('parent_of')
    expect((await linksOf('incidents', d.id)).map(l => [l.type, l.ticketId])).toEqual([['child_of', c.id]])
    const p = await problem()
    expect((await link('problems', p.id, 'causes', a.id)).statusCode).toBe(201)
    expect((await linksOf('incidents', a.id)).map(l => l.type).sort()).toEqual(['caused_by', 'duplicated_by'])
  })

  it('related_to reads the same from both ends and is stored once', async () => {
    const [a, b] = [await makeIncident(t), await makeIncident(t)]
    const res = await link('incidents', b.id, 'related_to', a.id)
    expect(res.statusCode).toBe(201)
    expect((await linksOf('incidents', a.id)).map(l => [l.type, l.ticketId])).toEqual([['related_to', b.id]])
    expect((await linksOf('incidents', b.id)).map(l => [l.type, l.ticketId])).toEqual([['related_to', a.id]])
    const again = await link('incidents', a.id, 'related_to', b.id)
    expect(again.statusCode).toBe(409)
    expect(again.json().linkId).toBe(res.json().id)
  })

  it('refuses a duplicate link (409), a self link and an unknown ticket (422), a bad type (400)', async () => {
    const [a, b] = [await makeIncident(t), await makeIncident(t)]
    expect((await link('incidents', a.id, 'child_of', b.id)).statusCode).toBe(201)
    expect((await link('incidents', a.id, 'child_of', b.id)).statusCode).toBe(409)
    // The same link named from the other end
    expect((await link('incidents', b.id, 'parent_of', a.id)).statusCode).toBe(409)
    const self = await link('incidents', a.id, 'related_to', a.id)
    expect(self.statusCode).toBe(422)
    expect(self.json().errors[0].field).toBe('ticketId')
    const unknown = await link('incidents', a.id, 'related_to', '00000000-0000-4000-8000-000000000000')
    expect(unknown.statusCode).toBe(422)
    expect(unknown.json().errors[0].field).toBe('ticketId')
    const badType = await link('incidents', a.id, 'blocks', b.id)
    expect(badType.statusCode).toBe(400)
    expect(badType.json().errors[0].field).toBe('type')
    // The ticket must be of the collection named in the path
    expect((await link('problems', a.id, 'related_to', b.id)).statusCode).toBe(404)
    expect(await linksOf('incidents', a.id)).toHaveLength(1)
  })

  it('refuses cycles: two tickets, three tickets, and of caused_by too', async () => {
    const [a, b, c] = [await makeIncident(t), await makeIncident(t), await makeIncident(t)]
    expect((await link('incidents', a.id, 'child_of', b.id)).statusCode).toBe(201)
    const two = await link('incidents', b.id, 'child_of', a.id)
    expect(two.statusCode).toBe(409)
    expect(two.json().detail).toContain('cycle')
    expect((await link('incidents', b.id, 'child_of', c.id)).statusCode).toBe(201)
    const three = await link('incidents', c.id, 'child_of', a.id)
    expect(three.statusCode).toBe(409)
    expect(three.json().detail).toContain('cycle')
    // As parent_of from a: c child_of a, the same cycle
    expect((await link('incidents', a.id, 'parent_of', c.id)).statusCode).toBe(409)
    const [p, q] = [await problem(), await problem()]
    expect((await link('problems', p.id, 'caused_by', q.id)).statusCode).toBe(201)
    expect((await link('problems', q.id, 'caused_by', p.id)).statusCode).toBe(409)
    // related_to has no direction: no cycle to speak of
    expect((await link('incidents', b.id, 'related_to', a.id)).statusCode).toBe(201)
  })

  it('refuses a second parent, a second original and a second problem (409)', async () => {
    const [a, b, c] = [await makeIncident(t), await makeIncident(t), await makeIncident(t)]
    expect((await link('incidents', a.id, 'child_of', b.id)).statusCode).toBe(201)
    const parent = await link('incidents', a.id, 'child_of', c.id)
    expect(parent.statusCode).toBe(409)
    expect(parent.json().ticketId).toBe(b.id)
    expect((await link('incidents', c.id, 'parent_of', a.id)).statusCode).toBe(409)
    // A parent may have many children
    expect((await link('incidents', c.id, 'child_of', b.id)).statusCode).toBe(201)

    const [x, y, z] = [await makeIncident(t), await makeIncident(t), await makeIncident(t)]
    expect((await link('incidents', x.id, 'duplicate_of', y.id)).statusCode).toBe(201)
    expect((await link('incidents', x.id, 'duplicate_of', z.id)).statusCode).toBe(409)
    expect((await link('incidents', z.id, 'duplicated_by', x.id)).statusCode).toBe(409)

    const [p1, p2] = [await problem(), await problem()]
    expect((await link('incidents', x.id, 'caused_by', p1.id)).statusCode).toBe(201)
    const second = await link('problems', p2.id, 'causes', x.id)
    expect(second.statusCode).toBe(409)
    expect(second.json().detail).toContain(p1.number)
  })

  it('concurrent links cannot close a cycle together', async () => {
    const [a, b, c] = [await makeIncident(t), await makeIncident(t), await makeIncident(t)]
    const results = await Promise.all([
      link('incidents', a.id, 'child_of', b.id),
      link('incidents', b.id, 'child_of', c.id),
      link('incidents', c.id, 'child_of', a.id)
    ])
    const codes = results.map(r => r.statusCode)
    expect(codes.filter(s => s === 201).length).toBeLessThanOrEqual(2)
    expect(codes.every(s => s === 201 || s === 409)).toBe(true)
  })

  it("a customer never sees a link to another organisation's ticket, and cannot link", async () => {
    const mine = await makeIncident(t, { title: 'Mine' }, customerA.token)
    const theirs = await makeIncident(t, { title: 'Theirs' }, customerB.token)
    const colleague = await makeIncident(t, { title: 'Colleague' }, customerA.token)
    await link('incidents', mine.id, 'related_to', theirs.id)
    await link('incidents', mine.id, 'duplicate_of', colleague.id)
    expect((await linksOf('incidents', mine.id)).map(l => l.ticketId).sort()).toEqual([theirs.id, colleague.id].sort())
    expect((await linksOf('incidents', mine.id, customerA.token)).map(l => l.ticketId)).toEqual([colleague.id])
    const gql = await t.gql(
      'query($id: ID!) { incident(id: $id) { links { type ticketId ticket { id } } } }',
      { id: mine.id },
      customerA.token
    )
    expect(gql.body.data!.incident.links).toEqual([
      { type: 'duplicate_of', ticketId: colleague.id, ticket: { id: colleague.id } }
    ])
    expect((await t.api('GET', `/api/v1/incidents/${theirs.id}/links`, { token: customerA.token })).statusCode).toBe(
      404
    )
    const refused = await link('incidents', mine.id, 'related_to', colleague.id, customerA.token)
    expect(refused.statusCode).toBe(403)
  })

  it('staff pinned to an organisation neither see nor remove a link to a ticket outside it', async () => {
    const mine = await makeIncident(t, {}, customerA.token)
    const theirs = await makeIncident(t, {}, customerB.token)
    const made = (await link('incidents', mine.id, 'related_to', theirs.id)).json()
    const pinned = await makeApiToken(t, { scopes: ['tickets:read', 'tickets:write'], organisationId: orgA.id })
    expect(await linksOf('incidents', mine.id, pinned.token)).toEqual([])
    const del = await t.api('DELETE', `/api/v1/incidents/${mine.id}/links/${made.id}`, { token: pinned.token })
    expect(del.statusCode).toBe(404)
    expect(await linksOf('incidents', mine.id)).toHaveLength(1)
  })

  it('removes a link from either end, auditing both tickets; 404 for an unknown link', async () => {
    const [a, b, c] = [await makeIncident(t), await makeIncident(t), await makeIncident(t)]
    const made = (await link('incidents', a.id, 'child_of', b.id)).json()
    expect((await t.api('DELETE', `/api/v1/incidents/${c.id}/links/${made.id}`)).statusCode).toBe(404)
    const del = await t.api('DELETE', `/api/v1/incidents/${b.id}/links/${made.id}`)
    expect(del.statusCode).toBe(204)
    expect(await linksOf('incidents', a.id)).toEqual([])
    expect((await history('incidents', a.id)).at(-1)).toMatchObject({
      action: 'link.removed',
      changes: [{ field: 'child_of', old: b.id, new: null }]
    })
    expect((await history('incidents', b.id)).at(-1)).toMatchObject({
      action: 'link.removed',
      changes: [{ field: 'parent_of', old: a.id, new: null }]
    })
    expect((await t.api('DELETE', `/api/v1/incidents/${a.id}/links/${made.id}`)).statusCode).toBe(404)
    // Gone, so a new parent is allowed
    expect((await link('incidents', a.id, 'child_of', c.id)).statusCode).toBe(201)
  })

  it('links and unlinks over GraphQL, with every TicketLink field and the far end resolved', async () => {
    const inc = await makeIncident(t)
    const p = await problem('Over GraphQL')
    const made = await t.gql(
      `mutation($id: ID!, $to: ID!) { linkTickets(id: $id, type: "caused_by", ticketId: $to) ${selectAll(schema, 'TicketLink')} }`,
      { id: inc.id, to: p.id }
    )
    expect(made.body.errors).toBeUndefined()
    const value = made.body.data!.linkTickets
    expect(shapeProblems(schema, 'TicketLink', value, { strict: true })).toEqual([])
    expect(value).toMatchObject({ type: 'caused_by', ticketId: p.id, ticket: { __typename: 'Problem', id: p.id } })

    const read = await t.gql(`query($id: ID!) { problem(id: $id) { links { id type ticketId ticket { number } } } }`, {
      id: p.id
    })
    expect(read.body.data!.problem.links).toEqual([
      { id: value.id, type: 'causes', ticketId: inc.id, ticket: { number: inc.number } }
    ])
    const dup = await t.gql(
      'mutation($id: ID!, $to: ID!) { linkTickets(id: $id, type: "causes", ticketId: $to) { id } }',
      {
        id: p.id,
        to: inc.id
      }
    )
    errorWith(dup.body, 'CONFLICT')
    const self = await t.gql('mutation($id: ID!) { linkTickets(id: $id, type: "related_to", ticketId: $id) { id } }', {
      id: inc.id
    })
    errorWith(self.body, 'VALIDATION_FAILED')
    expect(fields(self.body)).toEqual(['ticketId'])
    const badType = await t.gql('mutation($id: ID!) { linkTickets(id: $id, type: "blocks", ticketId: $id) { id } }', {
      id: inc.id
    })
    expect(fields(badType.body)).toEqual(['type'])

    const gone = await t.gql('mutation($id: ID!, $l: ID!) { unlinkTickets(id: $id, linkId: $l) }', {
      id: p.id,
      l: value.id
    })
    expect(gone.body).toEqual({ data: { unlinkTickets: true } })
    expect(await linksOf('incidents', inc.id)).toEqual([])
    errorWith(
      (await t.gql('mutation($id: ID!, $l: ID!) { unlinkTickets(id: $id, linkId: $l) }', { id: p.id, l: value.id }))
        .body,
      'NOT_FOUND'
    )
  })

  it('pages a long list of links with keyset cursors', async () => {
    const hub = await makeIncident(t)
    const others: string[] = []
    for (let i = 0; i < 5; i++) {
      const other = await makeIncident(t)
      others.push(other.id)
      expect((await link('incidents', hub.id, 'related_to', other.id)).statusCode).toBe(201)
    }
    const seen: string[] = []
    let cursor: string | null = null
    do {
      const res = await t.api('GET', `/api/v1/incidents/${hub.id}/links?limit=2${cursor ? `&cursor=${cursor}` : ''}`)
      expect(res.statusCode, res.body).toBe(200)
      const page = res.json() as { items: Link[]; nextCursor: string | null }
      expect(page.items.length).toBeLessThanOrEqual(2)
      seen.push(...page.items.map(l => l.ticketId))
      cursor = page.nextCursor
    } while (cursor)
    expect(seen).toEqual(others)
    expect((await t.api('GET', `/api/v1/incidents/${hub.id}/links?limit=0`)).statusCode).toBe(400)
    expect((await t.api('GET', `/api/v1/incidents/${hub.id}/links?cursor=junk!`)).statusCode).toBe(400)
  })
})
