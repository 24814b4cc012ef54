import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeIncident, makeOrganisation, makeUser } from '../helpers/factories.js'
import { nodesOf } from '../helpers/graphql.js'

type Item = { id: string; number: string }

/** What a hostile or careless client may type into a search box: none of it may answer 500. */
const HOSTILE = [
  "'",
  "''",
  '\\',
  '\\\\',
  '&|!():*',
  '&',
  '|',
  '!',
  '!!',
  '(',
  ')))',
  ':*',
  'a:*',
  '*',
  '<->',
  'a <-> b',
  '"',
  '"unterminated phrase',
  '-',
  '--',
  '- printer',
  'or',
  'OR OR',
  'printer or',
  'or printer',
  '-printer',
  "printer' OR 1=1 --",
  "'; DROP TABLE tickets; --",
  '%',
  '_',
  '$1',
  '\u0000',
  'ünïcödé ✓ 日本語',
  'a'.repeat(200),
  ' ',
  'INC-',
  'INC-0',
  'INC-99999999999',
  'XYZ-000001'
]

describe('full-text search over tickets', () => {
  let t: TestApp
  let customer: { id: string; token: string }
  let other: { token: string }
  let printer: Item
  let vpn: Item
  let mail: Item
  let problem: Item

  const rest = async (path: string, q: string, token?: string) => {
    const res = await t.api('GET', `${path}?q=${encodeURIComponent(q)}&limit=100`, token ? { token } : {})
    expect(res.statusCode, `${q}: ${res.body}`).toBe(200)
    return (res.json().items as Item[]).map(i => i.id)
  }
  const incidents = (q: string, token?: string) => rest('/api/v1/incidents', q, token)
  const everything = (q: string, token?: string) => rest('/api/v1/tickets', q, token)

  beforeAll(async () => {
    t = await buildTestApp()
    const org = await makeOrganisation(t)
    customer = await makeUser(t, ['customer'], { organisationId: org.id })
    other = await makeUser(t, ['customer'], { organisationId: (await makeOrganisation(t)).id })
    printer = await makeIncident(
      t,
      { title: 'Printer jams on floor three', description: 'The paper tray is broken and the toner leaks' },
      customer.token
    )
    vpn = await makeIncident(
      t,
      { title: 'VPN down', description: 'The gateway crashed with a kernel panic; paper trail in the logs' },
      customer.token
    )
    mail = await makeIncident(t, { title: 'Mail is slow', description: 'Since Monday' }, customer.token)
    for (const body of [
      { body: 'The mailbox quota was exceeded for the whole department' },
      { body: 'Zebracorn is the codename of the mail cluster', internal: true }
    ]) {
      const res = await t.api('POST', `/api/v1/incidents/${mail.id}/notes`, { body })
      expect(res.statusCode, res.body).toBe(201)
    }
    const p = await t.api('POST', '/api/v1/problems', {
      body: { title: 'Recurring gateway crashes', description: 'Kernel panic on the edge gateway' }
    })
    expect(p.statusCode, p.body).toBe(201)
    problem = p.json() as Item
  })
  afterAll(async () => t?.close())

  it('matches words in the title and the description, any case', async () => {
    expect(await incidents('printer')).toEqual([printer.id])
    expect(await incidents('TONER')).toEqual([printer.id])
    expect(await incidents('kernel')).toEqual([vpn.id])
    expect(await incidents('nothingmatchesthis')).toEqual([])
  })

  it('matches public notes for everyone, internal notes for staff only', async () => {
    expect(await incidents('quota')).toEqual([mail.id])
    expect(await incidents('quota', customer.token)).toEqual([mail.id])
    expect(await incidents('zebracorn')).toEqual([mail.id])
    expect(await incidents('zebracorn', customer.token)).toEqual([])
    expect(await everything('zebracorn', customer.token)).toEqual([])
    expect(await everything('zebracorn')).toEqual([mail.id])
  })

  it('searches across kinds on /tickets, one kind on each collection', async () => {
    expect(new Set(await everything('gateway'))).toEqual(new Set([vpn.id, problem.id]))
    expect(await incidents('gateway')).toEqual([vpn.id])
    expect(await rest('/api/v1/problems', 'gateway')).toEqual([problem.id])
    const res = await t.api('GET', '/api/v1/tickets?q=gateway&kind=problem')
    expect(res.json().items.map((i: Item) => i.id)).toEqual([problem.id])
  })

  it('finds a ticket by its number, on its own kind and across kinds', async () => {
    expect(printer.number).toMatch(/^INC-\d{6}$/)
    expect(await incidents(printer.number)).toEqual([printer.id])
    expect(await incidents(printer.number.toLowerCase())).toEqual([printer.id])
    expect(await everything(` ${vpn.number} `)).toEqual([vpn.id])
    expect(await everything(problem.number)).toEqual([problem.id])
    // Another kind's number is no match on a collection of one kind
    expect(await incidents(problem.number)).toEqual([])
  })

  it('understands web-search syntax: "phrases", -excluded words and or', async () => {
    expect(await incidents('"paper tray"')).toEqual([printer.id])
    expect(new Set(await incidents('paper'))).toEqual(new Set([printer.id, vpn.id]))
    expect(await incidents('paper -toner')).toEqual([vpn.id])
    expect(new Set(await incidents('printer or vpn'))).toEqual(new Set([printer.id, vpn.id]))
    expect(await incidents('printer vpn')).toEqual([])
    expect(await incidents('"tray paper"')).toEqual([])
  })

  it('sees only what the caller may see', async () => {
    expect(await incidents('printer', other.token)).toEqual([])
    expect(await everything(printer.number, other.token)).toEqual([])
  })

  it('combines with filters and paging', async () => {
    const first = await t.api('GET', '/api/v1/incidents?q=paper&limit=1')
    expect(first.statusCode).toBe(200)
    const page1 = first.json()
    expect(page1.items).toHaveLength(1)
    expect(page1.nextCursor).toEqual(expect.any(String))
    const second = await t.api('GET', `/api/v1/incidents?q=paper&limit=1&cursor=${page1.nextCursor}`)
    const page2 = second.json()
    expect(new Set([page1.items[0].id, page2.items[0].id])).toEqual(new Set([printer.id, vpn.id]))
    expect(page2.nextCursor).toBeNull()
    const filtered = await t.api('GET', `/api/v1/incidents?q=paper&filter=${encodeURIComponent('title==VPN*')}`)
    expect(filtered.statusCode, filtered.body).toBe(200)
    const total = await t.api('GET', '/api/v1/incidents?q=paper&includeTotal=true')
    expect(total.json().total).toBe(2)
  })

  it('orders by relevance on request, paging exactly through ties', async () => {
    // Three pairs of tickets whose descriptions mention the word once, twice and three times
    const made: { id: string; times: number }[] = []
    for (const times of [1, 3, 2, 1, 2, 3]) {
      const inc = await makeIncident(t, { title: 'Keyboard report', description: 'clacky '.repeat(times) })
      made.push({ id: inc.id, times })
    }
    const expected = made.sort((a, b) => b.times - a.times || (a.id < b.id ? 1 : -1)).map(m => m.id)
    const all = await t.api('GET', '/api/v1/incidents?q=clacky&sort=relevance')
    expect(all.statusCode, all.body).toBe(200)
    expect(all.json().items.map((i: Item) => i.id)).toEqual(expected)
    const paged: string[] = []
    let cursor: string | null = null
    do {
      const url: string = `/api/v1/incidents?q=clacky&sort=relevance&limit=2${cursor ? `&cursor=${cursor}` : ''}`
      const page = await t.api('GET', url)
      expect(page.statusCode, page.body).toBe(200)
      paged.push(...page.json().items.map((i: Item) => i.id))
      cursor = page.json().nextCursor
    } while (cursor)
    expect(paged).toEqual(expected)
    // Across kinds too; and relevance without q is refused, as is a cursor of another sort
    const across = await t.api('GET', '/api/v1/tickets?q=gateway&sort=relevance')
    expect(across.json().items.map((i: Item) => i.id)).toEqual([problem.id, vpn.id])
    const noQ = await t.api('GET', '/api/v1/incidents?sort=relevance')
    expect(noQ.statusCode).toBe(400)
    expect(noQ.json().errors).toEqual([{ field: 'sort', message: 'relevance needs q' }])
    const first = await t.api('GET', '/api/v1/incidents?q=clacky&limit=1')
    const mixed = await t.api('GET', `/api/v1/incidents?q=clacky&sort=relevance&cursor=${first.json().nextCursor}`)
    expect(mixed.statusCode).toBe(400)
    // Hostile text ranks without failing
    for (const q of ["'", '&|!():*', '"unterminated', '-', 'or']) {
      const res = await t.api('GET', `/api/v1/incidents?q=${encodeURIComponent(q)}&sort=relevance`)
      expect(res.statusCode, `${q}: ${res.body}`).toBe(200)
    }
    // GraphQL: the same order, page by page
    const QUERY = `query($after: String) { incidents(q: "clacky", sort: "relevance", first: 4, after: $after) {
      edges { node { id } } pageInfo { hasNextPage endCursor } } }`
    const one = await t.gql(QUERY)
    expect(one.body.errors, JSON.stringify(one.body.errors)).toBeUndefined()
    const two = await t.gql(QUERY, { after: one.body.data!.incidents.pageInfo.endCursor })
    expect([...nodesOf(one.body.data!.incidents), ...nodesOf(two.body.data!.incidents)].map(n => n.id)).toEqual(
      expected
    )
    expect(two.body.data!.incidents.pageInfo.hasNextPage).toBe(false)
  })

  it('never fails on hostile input (REST, both lists)', async () => {
    for (const q of HOSTILE) {
      for (const path of ['/api/v1/incidents', '/api/v1/tickets']) {
        const res = await t.api('GET', `${path}?q=${encodeURIComponent(q)}`)
        // NUL cannot be stored or searched by PostgreSQL: a 400 like any other value holding it
        expect(res.statusCode, `${path} q=${JSON.stringify(q)}: ${res.body}`).toBe(q.includes('\u0000') ? 400 : 200)
      }
    }
    // Stop words and operators alone match nothing rather than everything
    expect(await incidents('&|!():*')).toEqual([])
    expect(await incidents("'")).toEqual([])
    const tooLong = await t.api('GET', `/api/v1/incidents?q=${'a'.repeat(201)}`)
    expect(tooLong.statusCode).toBe(400)
    expect(tooLong.json().errors[0].field).toBe('q')
  })

  it('works through GraphQL: incidents(q:) and tickets(q:)', async () => {
    const INCIDENTS = 'query($q: String) { incidents(q: $q, first: 50) { edges { node { id number } } } }'
    const TICKETS =
      'query($q: String, $kind: TicketKind) { tickets(q: $q, kind: $kind) { edges { node { id kind } } } }'
    const ids = async (query: string, variables: Record<string, unknown>, token?: string) => {
      const res = await t.gql(query, variables, token)
      expect(res.body.errors, JSON.stringify(res.body.errors)).toBeUndefined()
      const root = res.body.data!.incidents ?? res.body.data!.tickets
      return nodesOf(root).map(n => n.id)
    }
    expect(await ids(INCIDENTS, { q: 'toner' })).toEqual([printer.id])
    expect(await ids(INCIDENTS, { q: printer.number })).toEqual([printer.id])
    expect(await ids(INCIDENTS, { q: 'zebracorn' })).toEqual([mail.id])
    expect(await ids(INCIDENTS, { q: 'zebracorn' }, customer.token)).toEqual([])
    expect(new Set(await ids(TICKETS, { q: 'gateway' }))).toEqual(new Set([vpn.id, problem.id]))
    expect(await ids(TICKETS, { q: 'gateway', kind: 'problem' })).toEqual([problem.id])
    expect(await ids(TICKETS, { q: '"paper tray" -vpn' })).toEqual([printer.id])
    for (const q of HOSTILE.filter(h => !h.includes('\u0000'))) {
      const res = await t.gql(INCIDENTS, { q })
      expect(res.body.errors, `${JSON.stringify(q)}: ${JSON.stringify(res.body.errors)}`).toBeUndefined()
    }
    const tooLong = await t.gql(INCIDENTS, { q: 'a'.repeat(201) })
    expect(tooLong.body.errors?.[0]?.extensions?.code).toBe('VALIDATION_FAILED')
  })
})
