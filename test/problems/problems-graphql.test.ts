import { sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { knownErrorQuery } from '../../src/modules/problems/problems.service.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeIncident, makeOrganisation, makeService, makeUser } from '../helpers/factories.js'
import {
  EVERY_FIELD_LIMITS,
  errorWith,
  fields,
  type GqlBody,
  loadSchema,
  nodesOf,
  selectAll,
  shapeProblems
} from '../helpers/graphql.js'

type User = Awaited<ReturnType<typeof makeUser>>

const schema = loadSchema()
const PROBLEM = selectAll(schema, 'Problem')
const FIELDS = 'id number status rootCause workaround knownError knownErrorAt incidentCount version'

const CREATE = `mutation($input: CreateProblemInput!) { createProblem(input: $input) ${PROBLEM} }`
const UPDATE = `mutation($id: ID!, $version: Int!, $input: UpdateProblemInput!) {
  updateProblem(id: $id, version: $version, input: $input) { ${FIELDS} } }`
const TRANSITION = `mutation($id: ID!, $input: TransitionTicketInput!) {
  transitionProblem(id: $id, input: $input) { ${FIELDS} resolution } }`
const LINK = `mutation($p: ID!, $ids: [ID!]!) { linkIncidentsToProblem(problemId: $p, incidentIds: $ids) { ${FIELDS} } }`
const UNLINK = `mutation($p: ID!, $i: ID!) { unlinkIncidentFromProblem(problemId: $p, incidentId: $i) { ${FIELDS} } }`
const FROM_INCIDENT = `mutation($i: ID!, $input: CreateProblemFromIncidentInput) {
  createProblemFromIncident(incidentId: $i, input: $input) { ${FIELDS} title impact urgency category } }`
const INCIDENTS = `query($p: ID!, $first: Int, $after: String) { problemIncidents(problemId: $p, first: $first, after: $after) {
  edges { cursor node { id number status problemId problem { id number knownError } } } pageInfo { hasNextPage endCursor } } }`
const KNOWN = `query($q: String, $first: Int, $after: String) { knownErrors(q: $q, first: $first, after: $after) {
  edges { node { id title rootCause workaround knownError knownErrorAt } } pageInfo { hasNextPage endCursor } } }`

const ok = (body: GqlBody) => {
  expect(body.errors).toBeUndefined()
  return body.data!
}

describe('problems over GraphQL', () => {
  let t: TestApp
  let tech: User
  let customer: User
  beforeAll(async () => {
    t = await buildTestApp(EVERY_FIELD_LIMITS)
    tech = await makeUser(t, ['technician'])
    customer = await makeUser(t, ['customer'], { organisationId: (await makeOrganisation(t)).id })
  })
  afterAll(async () => t?.close())

  it('creates a problem answering every Problem field, updates it, refuses a known error without a workaround', async () => {
    const created = await t.gql(
      CREATE,
      { input: { title: 'Queue stalls', rootCause: 'Lock', workaround: 'Restart', knownError: true } },
      tech.token
    )
    const p = ok(created.body).createProblem
    // Every field of Problem answers through the real app (nulls only where nothing is set yet)
    expect(shapeProblems(schema, 'Problem', p)).toEqual([])
    expect(p).toMatchObject({ rootCause: 'Lock', workaround: 'Restart', knownError: true, incidentCount: 0 })
    expect(p.knownErrorAt).toMatch(/Z$/)

    const bad = await t.gql(CREATE, { input: { title: 'x', knownError: true } })
    errorWith(bad.body, 'VALIDATION_FAILED')
    expect(fields(bad.body)).toEqual(['workaround'])

    const cleared = await t.gql(UPDATE, { id: p.id, version: 1, input: { knownError: false, rootCause: null } })
    expect(ok(cleared.body).updateProblem).toMatchObject({ knownError: false, knownErrorAt: null, rootCause: null })
    const again = await t.gql(UPDATE, { id: p.id, version: 2, input: { workaround: null, knownError: true } })
    expect(fields(again.body)).toEqual(['workaround'])
  })

  it('a closed problem answers every field of Problem, ProblemEdge and ProblemConnection', async () => {
    const team = await t.api('POST', '/api/v1/teams', { body: { name: 'Problem managers' } })
    const teamId = team.json().id
    await t.api('POST', `/api/v1/teams/${teamId}/members`, { body: { userId: tech.id, level: 1 } })
    const category = await t.api('POST', '/api/v1/categories', { body: { kind: 'problem', name: 'Storage' } })
    const input = {
      title: 'SAN latency',
      description: 'Spikes at 02:00',
      impact: 1,
      urgency: 2,
      categoryId: category.json().id,
      requesterId: customer.id,
      teamId,
      assigneeId: tech.id,
      rootCause: 'Snapshot schedule',
      workaround: 'Move the snapshot window',
      knownError: true,
      serviceId: (await makeService(t)).id
    }
    const p = ok((await t.gql(CREATE, { input }, tech.token)).body).createProblem
    ok((await t.gql(LINK, { p: p.id, ids: [(await makeIncident(t)).id] }, tech.token)).body)
    const note = 'mutation($id: ID!) { addProblemNote(id: $id, input: { body: "Vendor called" }) { id } }'
    ok((await t.gql(note, { id: p.id }, tech.token)).body)
    for (const step of [
      { to: 'root_cause_analysis' },
      { to: 'fix_in_progress' },
      { to: 'resolved', resolution: 'Rescheduled snapshots', resolutionCode: 'fixed' },
      { to: 'closed' }
    ]) {
      ok((await t.gql(TRANSITION, { id: p.id, input: step }, tech.token)).body)
    }
    const list = await t.gql(
      `{ problems(filter: "knownError==true", first: 1) ${selectAll(schema, 'ProblemConnection')} }`
    )
    const one = await t.gql(`query($id: ID!) { problem(id: $id) ${PROBLEM} }`, { id: p.id })
    const data = { ...ok(list.body), ...ok(one.body) }
    // Strict on the problem's own fields; the users and team around it are the identity tests' business
    const own = (problems: string[]) => problems.filter(m => !/\((User|Team)\./.test(m))
    // No SLA applies to this problem: no clocks
    const allowNull = [
      'FieldChange.old',
      'FieldChange.new',
      'ProblemConnection.totalCount',
      'TicketSlaSummary.response',
      'TicketSlaSummary.resolution'
    ]
    expect(own(shapeProblems(schema, 'ProblemConnection', data.problems, { strict: true, allowNull }))).toEqual([])
    expect(own(shapeProblems(schema, 'Problem', data.problem, { strict: true, allowNull }))).toEqual([])
    // List rows leave out the long text: the loaders fill it in to the same answer
    expect(nodesOf(data.problems)).toEqual([data.problem])
    expect(data.problem).toMatchObject({ incidentCount: 1, knownError: true, status: 'closed' })
  })

  it('links incidents, lists them with their problem, unlinks, and refuses a second problem', async () => {
    const p = ok((await t.gql(CREATE, { input: { title: 'Wi-Fi drops' } })).body).createProblem
    const other = ok((await t.gql(CREATE, { input: { title: 'Other' } })).body).createProblem
    const a = await makeIncident(t)
    const b = await makeIncident(t)
    const linked = await t.gql(LINK, { p: p.id, ids: [a.id, b.id] })
    expect(ok(linked.body).linkIncidentsToProblem.incidentCount).toBe(2)

    const first = ok((await t.gql(INCIDENTS, { p: p.id, first: 1 })).body).problemIncidents
    expect(nodesOf(first)).toEqual([
      {
        id: b.id,
        number: b.number,
        status: 'new',
        problemId: p.id,
        problem: { id: p.id, number: p.number, knownError: false }
      }
    ])
    const second = ok((await t.gql(INCIDENTS, { p: p.id, first: 1, after: first.pageInfo.endCursor })).body)
    expect(nodesOf(second.problemIncidents).map(n => n.id)).toEqual([a.id])
    expect(second.problemIncidents.pageInfo.hasNextPage).toBe(false)

    const one = await t.gql('query($id: ID!) { incident(id: $id) { problemId problem { number } } }', { id: a.id })
    expect(ok(one.body).incident).toEqual({ problemId: p.id, problem: { number: p.number } })

    const taken = await t.gql(LINK, { p: other.id, ids: [a.id] })
    const err = errorWith(taken.body, 'CONFLICT')
    expect(err.message).toContain(p.number)
    const unknown = await t.gql(LINK, { p: p.id, ids: ['00000000-0000-4000-8000-000000000000'] })
    expect(fields(unknown.body)).toEqual(['incidentIds'])
    const badCursor = await t.gql(INCIDENTS, { p: p.id, after: 'nope' })
    expect(fields(badCursor.body)).toEqual(['after'])

    const unlinked = await t.gql(UNLINK, { p: p.id, i: a.id })
    expect(ok(unlinked.body).unlinkIncidentFromProblem.incidentCount).toBe(1)
    const none = await t.gql('query($id: ID!) { incident(id: $id) { problemId problem { id } } }', { id: a.id })
    expect(ok(none.body).incident).toEqual({ problemId: null, problem: null })
    errorWith((await t.gql(UNLINK, { p: p.id, i: a.id })).body, 'NOT_FOUND')
  })

  it('the problem field on incidents of a list is batched and hidden from customers who cannot see it', async () => {
    const p = ok((await t.gql(CREATE, { input: { title: 'Portal slow' } })).body).createProblem
    const mine = await makeIncident(t, {}, customer.token)
    ok((await t.gql(LINK, { p: p.id, ids: [mine.id] })).body)
    const asCustomer = await t.gql(
      '{ incidents { edges { node { id problemId problem { id } } } } }',
      {},
      customer.token
    )
    // a customer sees neither the problem nor its id (issue 10 #12: no ids of tickets they cannot see)
    expect(nodesOf(ok(asCustomer.body).incidents)).toEqual([{ id: mine.id, problemId: null, problem: null }])
  })

  it('resolves the problem and, with resolveLinkedIncidents, its open incidents', async () => {
    const p = ok(
      (await t.gql(CREATE, { input: { title: 'Cert expired', rootCause: 'No renewal' } })).body
    ).createProblem
    const inc = await makeIncident(t)
    ok((await t.gql(LINK, { p: p.id, ids: [inc.id] })).body)
    for (const to of ['root_cause_analysis', 'fix_in_progress'])
      ok((await t.gql(TRANSITION, { id: p.id, input: { to } })).body)
    const done = await t.gql(TRANSITION, {
      id: p.id,
      input: { to: 'resolved', resolution: 'Renewed', resolveLinkedIncidents: true }
    })
    expect(ok(done.body).transitionProblem).toMatchObject({ status: 'resolved', resolution: 'Renewed' })
    const got = await t.gql(
      'query($id: ID!) { incident(id: $id) { status resolution notes { edges { node { body } } } } }',
      {
        id: inc.id
      }
    )
    expect(ok(got.body).incident).toMatchObject({ status: 'resolved', resolution: 'Renewed' })
    expect(nodesOf(ok(got.body).incident.notes).map(n => n.body)).toEqual([
      `Resolved with problem ${p.number}: Renewed`
    ])

    const other = await makeIncident(t)
    const refused = await t.gql(
      'mutation($id: ID!) { transitionIncident(id: $id, input: { to: "pending", resolveLinkedIncidents: true }) { id } }',
      { id: other.id }
    )
    expect(fields(refused.body)).toEqual(['resolveLinkedIncidents'])
    const illegal = await t.gql(TRANSITION, { id: p.id, input: { to: 'new' } })
    const err = errorWith(illegal.body, 'CONFLICT')
    expect(err.extensions.allowed).toEqual(['fix_in_progress', 'closed'])
  })

  it('raises a problem from an incident, with or without input; a second time is CONFLICT', async () => {
    const inc = await makeIncident(t, { title: 'Laptop reboots', impact: 1, urgency: 1, category: 'Hardware' })
    const made = await t.gql(FROM_INCIDENT, { i: inc.id })
    expect(ok(made.body).createProblemFromIncident).toMatchObject({
      title: 'Laptop reboots',
      impact: 1,
      urgency: 1,
      category: 'Hardware',
      incidentCount: 1
    })
    errorWith((await t.gql(FROM_INCIDENT, { i: inc.id, input: { title: 'Again' } })).body, 'CONFLICT')
    const other = await makeIncident(t, { title: 'Fan noise' })
    const custom = await t.gql(FROM_INCIDENT, {
      i: other.id,
      input: { title: 'Fan firmware', workaround: 'Set BIOS fan curve' }
    })
    expect(ok(custom.body).createProblemFromIncident).toMatchObject({
      title: 'Fan firmware',
      workaround: 'Set BIOS fan curve'
    })
    const bad = await t.gql(FROM_INCIDENT, { i: other.id, input: { impact: 9 } })
    expect(fields(bad.body)).toEqual(['input.impact'])
  })
})

describe('known-error search (both doors)', () => {
  let t: TestApp
  let customer: User
  let tech: User
  const ids: Record<string, string> = {}
  beforeAll(async () => {
    t = await buildTestApp(EVERY_FIELD_LIMITS)
    tech = await makeUser(t, ['technician'])
    customer = await makeUser(t, ['customer'], { organisationId: (await makeOrganisation(t)).id })
    const make = async (key: string, body: Record<string, unknown>) => {
      const res = await t.api('POST', '/api/v1/problems', { body })
      expect(res.statusCode, res.body).toBe(201)
      ids[key] = res.json().id
    }
    await make('outlook', {
      title: 'Outlook crashes on start',
      workaround: 'Start Outlook in safe mode and disable the zebra add-in',
      knownError: true
    })
    await make('printer', {
      title: 'Printers offline',
      description: 'Spooler hangs',
      rootCause: 'A zebra driver leaks handles',
      workaround: 'Restart the spooler',
      knownError: true
    })
    // Matches the words but is not a known error
    await make('plain', { title: 'Zebra add-in slow', workaround: 'safe mode helps', rootCause: 'zebra' })
    await make('vpn', { title: 'VPN resets', workaround: 'Reconnect', knownError: true })
  })
  afterAll(async () => t?.close())

  const search = async (query: string, token?: string) =>
    t.api('GET', `/api/v1/known-errors${query}`, { ...(token ? { token } : {}) })

  it('finds known errors by workaround, root cause and title words; never plain problems', async () => {
    const byWorkaround = (await search('?q=safe%20mode')).json()
    expect(byWorkaround.items.map((i: { id: string }) => i.id)).toEqual([ids.outlook])
    expect(byWorkaround.items[0]).toMatchObject({
      knownError: true,
      workaround: 'Start Outlook in safe mode and disable the zebra add-in',
      incidentCount: 0
    })
    // Newest known error first: the printer one was made after the Outlook one
    const zebra = (await search('?q=zebra', tech.token)).json()
    expect(zebra.items.map((i: { id: string }) => i.id)).toEqual([ids.printer, ids.outlook])
    expect((await search('?q=spooler%20hangs')).json().items.map((i: { id: string }) => i.id)).toEqual([ids.printer])
    expect((await search('?q=nothing-like-this')).json().items).toEqual([])
    // Web-search syntax: a quoted phrase and an exclusion
    const phrase = (await search(`?q=${encodeURIComponent('"zebra driver" -outlook')}`)).json()
    expect(phrase.items.map((i: { id: string }) => i.id)).toEqual([ids.printer])
  })

  it('pages with a cursor and lists every known error without q', async () => {
    const all = (await search('')).json()
    expect(all.items.map((i: { id: string }) => i.id)).toEqual([ids.vpn, ids.printer, ids.outlook])
    const first = (await search('?limit=2')).json()
    expect(first.items).toHaveLength(2)
    const rest = (await search(`?limit=2&cursor=${first.nextCursor}`)).json()
    expect(rest).toEqual({ items: [expect.objectContaining({ id: ids.outlook })], nextCursor: null })
    expect((await search('?cursor=garbage')).statusCode).toBe(400)
    expect((await search('?limit=501')).statusCode).toBe(400)
    // A problem that stops being a known error leaves the list
    await t.api('PATCH', `/api/v1/problems/${ids.vpn}`, { body: { knownError: false, version: 1 } })
    expect((await search('')).json().items.map((i: { id: string }) => i.id)).not.toContain(ids.vpn)
  })

  it('plans the search without a sequential scan of problems or tickets', async () => {
    const lines = await t.db.transaction(async tx => {
      await tx.execute(sql`set local enable_seqscan = off`)
      const query = knownErrorQuery(tx, 'zebra mode', null, null, 50).getSQL()
      const result = await tx.execute(sql`explain ${query}`)
      return (result as unknown as { rows: Record<string, string>[] }).rows.map(r => Object.values(r)[0]!)
    })
    const plan = lines.join('\n')
    expect(plan).toMatch(/problem_details_search_idx/)
    expect(plan).toMatch(/tickets_search_idx/)
    expect(plan).not.toMatch(/Seq Scan/)
  })

  it('is for staff only: customers get 403 on both doors', async () => {
    const res = await search('?q=zebra', customer.token)
    expect(res.statusCode).toBe(403)
    const gql = await t.gql(KNOWN, { q: 'zebra' }, customer.token)
    errorWith(gql.body, 'FORBIDDEN')
  })

  it('answers the same over GraphQL, paging with first/after', async () => {
    const first = ok((await t.gql(KNOWN, { q: 'zebra', first: 1 }, tech.token)).body).knownErrors
    expect(nodesOf(first)).toEqual([
      expect.objectContaining({ id: ids.printer, rootCause: 'A zebra driver leaks handles', knownError: true })
    ])
    expect(first.pageInfo.hasNextPage).toBe(true)
    const next = ok((await t.gql(KNOWN, { q: 'zebra', first: 1, after: first.pageInfo.endCursor })).body).knownErrors
    expect(nodesOf(next).map(n => n.id)).toEqual([ids.outlook])
    expect(fields((await t.gql(KNOWN, { first: 0 })).body)).toEqual(['first'])
  })
})
