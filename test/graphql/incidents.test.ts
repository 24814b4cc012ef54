import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tickets } from '../../src/db/schema/index.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeIncident, makeOrganisation, makeTeam, makeUser } from '../helpers/factories.js'
import { countRows, errorWith, fields, type GqlBody, nodesOf } from '../helpers/graphql.js'
import { ASSIGN, CREATE, LIST, NOTE, READ, TRANSITION } from './incidents.queries.js'

type User = Awaited<ReturnType<typeof makeUser>>

describe('incidents over GraphQL', () => {
  let t: TestApp
  let tech: User
  let outsider: User // a technician in no team
  let customerA: User
  let colleagueA: User
  let customerB: User
  let teamId: string

  const ids = (body: GqlBody) => body.data!.incidents.edges.map((e: { node: { id: string } }) => e.node.id)

  beforeAll(async () => {
    t = await buildTestApp()
    const [orgA, orgB] = [await makeOrganisation(t), await makeOrganisation(t)]
    tech = await makeUser(t, ['technician'])
    outsider = await makeUser(t, ['technician'])
    customerA = await makeUser(t, ['customer'], { organisationId: orgA.id })
    colleagueA = await makeUser(t, ['customer'], { organisationId: orgA.id })
    customerB = await makeUser(t, ['customer'], { organisationId: orgB.id })
    teamId = (await makeTeam(t, [{ userId: tech.id, level: 1 }])).id
  })
  afterAll(async () => t?.close())

  describe('createIncident is retry-safe', () => {
    it('replays the first answer for the same idempotencyKey and input, creating nothing', async () => {
      const input = { title: 'Printer on fire', impact: 1 }
      const first = await t.gql(CREATE, { input, key: 'gql-arg-1' })
      expect(first.body.errors).toBeUndefined()
      const before = await countRows(t, tickets)
      const again = await t.gql(CREATE, { input, key: 'gql-arg-1' })
      expect(again.body).toEqual(first.body)
      expect(await countRows(t, tickets)).toBe(before)
    })

    it('replays for the same Idempotency-Key header, across both doors', async () => {
      const input = { title: 'VPN flaps', urgency: 1 }
      const headers = { 'idempotency-key': 'gql-header-1' }
      const first = await t.gql(CREATE, { input }, t.adminToken, headers)
      const before = await countRows(t, tickets)
      const again = await t.gql(CREATE, { input }, t.adminToken, headers)
      expect(again.body.data!.createIncident.id).toBe(first.body.data!.createIncident.id)
      // The key names one operation whichever door it came through
      const rest = await t.api('POST', '/api/v1/incidents', { body: input, headers })
      expect(rest.json().id).toBe(first.body.data!.createIncident.id)
      expect(await countRows(t, tickets)).toBe(before)
    })

    it('refuses the same key with another input: IDEMPOTENCY_KEY_REUSED', async () => {
      await t.gql(CREATE, { input: { title: 'Disk full' }, key: 'gql-arg-2' })
      const before = await countRows(t, tickets)
      for (const res of [
        await t.gql(CREATE, { input: { title: 'Disk empty' }, key: 'gql-arg-2' }),
        await t.gql(CREATE, { input: { title: 'Disk empty' } }, t.adminToken, { 'idempotency-key': 'gql-arg-2' })
      ]) {
        const err = errorWith(res.body, 'IDEMPOTENCY_KEY_REUSED')
        expect(err.extensions.status).toBe(422)
        expect(res.body.data).toBeNull()
      }
      expect(await countRows(t, tickets)).toBe(before)
    })

    it('refuses a malformed key naming it', async () => {
      const res = await t.gql(CREATE, { input: { title: 'x' }, key: 'has spaces in it' })
      errorWith(res.body, 'VALIDATION_FAILED')
      expect(fields(res.body)).toEqual(['Idempotency-Key'])
    })
  })

  describe('reads', () => {
    it('finds an incident by id and by number, NOT_FOUND otherwise', async () => {
      const inc = await makeIncident(t, { title: 'Lookup me' })
      const byId = await t.gql(`query($id: ID!) { incident(id: $id) { id number title } }`, { id: inc.id })
      expect(byId.body).toEqual({ data: { incident: { id: inc.id, number: inc.number, title: 'Lookup me' } } })
      const byNumber = await t.gql(`query($n: String!) { ticket(number: $n) { id } }`, { n: inc.number.toLowerCase() })
      expect(byNumber.body.data!.ticket.id).toBe(inc.id)
      for (const [query, v] of [
        ['query($v: ID!) { incident(id: $v) { id } }', '00000000-0000-7000-8000-000000000000'],
        ['query($v: String!) { ticket(number: $v) { id } }', 'INC-999999'],
        ['query($v: String!) { ticket(number: $v) { id } }', 'not a number']
      ]) {
        const res = await t.gql(query!, { v })
        errorWith(res.body, 'NOT_FOUND')
        expect(Object.values(res.body.data!)).toEqual([null])
      }
    })

    it('filters by status list, priority list and free text', async () => {
      const hot = await makeIncident(t, { title: 'Zebrafish tank leaking', impact: 1, urgency: 1, category: 'filters' })
      const cold = await makeIncident(t, { title: 'Zebrafish food low', impact: 3, urgency: 3, category: 'filters' })
      const assigned = await makeIncident(t, {
        title: 'Heron sighting',
        teamId,
        assigneeId: tech.id,
        category: 'filters'
      })
      const list = async (v: Record<string, unknown>) => ids((await t.gql(LIST, { category: 'filters', ...v })).body)
      expect(await list({ status: ['assigned'] })).toEqual([assigned.id])
      expect((await list({ status: ['new', 'assigned'] })).sort()).toEqual([hot.id, cold.id, assigned.id].sort())
      expect(await list({ priority: [1] })).toEqual([hot.id])
      expect((await list({ priority: [1, 5] })).sort()).toEqual([hot.id, cold.id].sort())
      expect((await list({ q: 'zebrafish' })).sort()).toEqual([hot.id, cold.id].sort())
      expect(await list({ q: 'zebrafish', priority: [5] })).toEqual([cold.id])
      expect(await list({ q: hot.number })).toEqual([hot.id])
    })

    it('pages with first/after: no duplicates, nothing missed, edge cursors resume after their edge', async () => {
      const made: string[] = []
      for (let i = 0; i < 7; i++) made.push((await makeIncident(t, { category: 'paging' })).id)
      for (const sort of ['-createdAt', 'number', '-priority']) {
        const seen: string[] = []
        let after: string | null = null
        let pages = 0
        for (;;) {
          const res: GqlBody = (await t.gql(LIST, { category: 'paging', sort, first: 3, after })).body
          expect(res.errors).toBeUndefined()
          const { edges, pageInfo } = res.data!.incidents
          seen.push(...ids(res))
          pages++
          expect(pageInfo.endCursor).toBe(edges[edges.length - 1].cursor)
          if (!pageInfo.hasNextPage) break
          after = pageInfo.endCursor
        }
        expect(pages).toBe(3)
        expect(new Set(seen).size).toBe(seen.length)
        expect([...seen].sort()).toEqual([...made].sort())
        if (sort === 'number') expect(seen).toEqual(made)
        if (sort === '-createdAt') expect(seen).toEqual([...made].reverse())
        // Any edge's cursor resumes right after that edge
        const all: GqlBody = (await t.gql(LIST, { category: 'paging', sort, first: 7 })).body
        const edges = all.data!.incidents.edges
        for (const i of [0, 3, 5]) {
          const rest = (await t.gql(LIST, { category: 'paging', sort, first: 7, after: edges[i].cursor })).body
          expect(ids(rest)).toEqual(ids(all).slice(i + 1))
        }
      }
    })
  })

  describe('changes', () => {
    it('updates with the current version and refuses a stale one with PRECONDITION_FAILED (412)', async () => {
      const inc = await makeIncident(t)
      const UPDATE = `mutation($id: ID!, $v: Int!, $title: String) {
        updateIncident(id: $id, version: $v, input: { title: $title }) { title version } }`
      const ok = await t.gql(UPDATE, { id: inc.id, v: inc.version, title: 'Renamed' })
      expect(ok.body.data!.updateIncident).toEqual({ title: 'Renamed', version: inc.version + 1 })
      const stale = await t.gql(UPDATE, { id: inc.id, v: inc.version, title: 'Lost update' })
      const err = errorWith(stale.body, 'PRECONDITION_FAILED')
      expect(err.extensions).toMatchObject({ status: 412, currentVersion: inc.version + 1 })
      const now = await t.gql(`query($id: ID!) { incident(id: $id) { title } }`, { id: inc.id })
      expect(now.body.data!.incident.title).toBe('Renamed')
    })

    it('assigns to a team, a layer and a member; refuses a non-member naming assigneeId', async () => {
      const inc = await makeIncident(t)
      const assign = async (input: Record<string, unknown>) => (await t.gql(ASSIGN, { id: inc.id, input })).body
      expect((await assign({ teamId })).data!.assignIncident).toMatchObject({
        teamId,
        layer: 1,
        assigneeId: null,
        status: 'new'
      })
      expect((await assign({ teamId, layer: 2 })).data!.assignIncident).toMatchObject({ teamId, layer: 2 })
      expect((await assign({ teamId, layer: 1, assigneeId: tech.id })).data!.assignIncident).toMatchObject({
        layer: 1,
        assigneeId: tech.id,
        status: 'assigned'
      })
      const refused = await assign({ teamId, layer: 1, assigneeId: outsider.id })
      errorWith(refused, 'VALIDATION_FAILED')
      expect(fields(refused).some(f => f === 'assigneeId' || f === 'input.assigneeId')).toBe(true)
      const unassigned = await assign({ teamId: null })
      expect(unassigned.data!.assignIncident).toMatchObject({
        teamId: null,
        layer: null,
        assigneeId: null,
        status: 'new'
      })
    })

    it('refuses an illegal transition with CONFLICT listing what is allowed', async () => {
      const inc = await makeIncident(t)
      const { allowedTransitions } = (await t.gql(READ, { id: inc.id })).body.data!.incident
      expect(allowedTransitions).not.toContain('closed')
      const res = await t.gql(TRANSITION, { id: inc.id, input: { to: 'closed' } })
      const err = errorWith(res.body, 'CONFLICT')
      expect(err.extensions).toMatchObject({ status: 409, from: 'new' })
      expect([...err.extensions.allowed].sort()).toEqual([...allowedTransitions].sort())
    })

    it('refuses to resolve without a resolution, naming it; resolves with one', async () => {
      const inc = await makeIncident(t)
      const res = await t.gql(TRANSITION, { id: inc.id, input: { to: 'resolved' } })
      const err = errorWith(res.body, 'VALIDATION_FAILED')
      expect(err.extensions.status).toBe(422)
      expect(fields(res.body)).toEqual(['resolution'])
      const ok = await t.gql(TRANSITION, { id: inc.id, input: { to: 'resolved', resolution: 'Rebooted' } })
      expect(ok.body.data!.transitionIncident).toMatchObject({ status: 'resolved', resolution: 'Rebooted' })
    })
  })

  describe('customers', () => {
    let mine: { id: string; number: string }

    beforeAll(async () => {
      const res = await t.gql(CREATE, { input: { title: 'Secret merger laptop' } }, customerA.token)
      mine = res.body.data!.createIncident
      await t.gql(NOTE, { id: mine.id, body: 'Customer is VIP, handle quietly', internal: true }, tech.token)
      await t.gql(NOTE, { id: mine.id, body: 'We are on it', internal: false }, tech.token)
      await t.gql(ASSIGN, { id: mine.id, input: { teamId, assigneeId: tech.id } }, tech.token)
    })

    it('may not write internal notes', async () => {
      const res = await t.gql(NOTE, { id: mine.id, body: 'sneaky', internal: true }, customerA.token)
      expect(errorWith(res.body, 'FORBIDDEN').extensions.status).toBe(403)
      const staff = (await t.gql(READ, { id: mine.id }, tech.token)).body.data!.incident
      expect(nodesOf(staff.notes).map(n => n.body)).not.toContain('sneaky')
    })

    it('never see internal notes, in notes or history; staff see both', async () => {
      for (const who of [customerA, colleagueA]) {
        const inc = (await t.gql(READ, { id: mine.id }, who.token)).body.data!.incident
        expect(nodesOf(inc.notes)).toEqual([{ body: 'We are on it', internal: false }])
        expect(nodesOf(inc.history).map(n => n.action)).not.toContain('note.internal')
        expect(JSON.stringify(inc)).not.toContain('VIP')
      }
      const staff = (await t.gql(READ, { id: mine.id }, tech.token)).body.data!.incident
      expect(nodesOf(staff.notes).map(n => n.internal)).toEqual([true, false])
      expect(nodesOf(staff.history).map(n => n.action)).toEqual(['created', 'note.internal', 'note.public', 'assigned'])
      const created = staff.history.edges[0].node
      expect(created.changes).toContainEqual({ field: 'title', new: 'Secret merger laptop' })
    })

    it("get NOT_FOUND with no data for another organisation's incident", async () => {
      for (const [query, v] of [
        [READ, { id: mine.id }],
        ['query($n: String!) { ticket(number: $n) { id title } }', { n: mine.number }],
        [NOTE, { id: mine.id, body: 'hello?' }],
        [TRANSITION, { id: mine.id, input: { to: 'closed' } }]
      ] as const) {
        const res = await t.gql(query, v, customerB.token)
        errorWith(res.body, 'NOT_FOUND')
        expect(Object.values(res.body.data ?? {}).every(x => x === null)).toBe(true)
        expect(JSON.stringify(res.body)).not.toMatch(/Secret merger|VIP|We are on it/)
      }
      expect(ids((await t.gql(LIST, {}, customerB.token)).body)).not.toContain(mine.id)
      expect(ids((await t.gql(LIST, {}, colleagueA.token)).body)).toContain(mine.id)
    })
  })
})
