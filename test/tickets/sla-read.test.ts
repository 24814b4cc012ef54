import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { calendars } from '../../src/db/schema/index.js'
import { uuidv7 } from '../../src/lib/ids.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { PARIS } from '../helpers/calendars.js'
import { makeIncident, makeOrganisation, makeUser, suffix } from '../helpers/factories.js'
import { expectProblem, fieldsOf } from '../helpers/problem.js'

type Json = Record<string, any>

/**
 * The compact `sla` object on ticket reads, and the sla.* filters and sorts of ticket lists. The
 * issue's Paris calendar (Mon 08-12 13-17, Tue 08-17; CET = UTC+1 in December), an SLA of 60 business
 * minutes to respond and 480 to resolve, and five incidents made on Monday 7 December 2026 (the
 * clocks' time source moved to each instant):
 * - A 08:00Z (09:00 Paris): response due 09:00Z, answered at 10:00Z (120 of 60 used: breached, 200 %);
 *   resolution 420 minutes on Monday + 60 on Tuesday → due Tue 08:00Z; at 13:30Z (14:30 Paris)
 *   09-12 and 13-14:30 are 270 of 480 = 56.25 %.
 * - C 08:30Z: to pending at 09:00Z: both clocks paused after 30 minutes (50 %, 6.25 %), no due time.
 * - E 09:00Z: response due 10:00Z, resolution 360 on Monday + 120 on Tuesday → due Tue 09:00Z;
 *   resolved at 09:30Z: both met after 30 minutes (50 %, 6.25 %), due times kept.
 * - B 13:00Z (14:00 Paris): response due 14:00Z; resolution 180 on Monday + 300 on Tuesday → due Tue
 *   12:00Z; at 13:30Z both running 30 minutes (50 %, 6.25 %).
 * - D on a service without an SLA: no clocks.
 * A's requester is in the customer's organisation; the rest are the admin's.
 */
describe('the sla object on ticket reads, sla.* filters and sorts', () => {
  let t: TestApp
  let calendarId: string
  let serviceId: string
  let bareServiceId: string
  let customer: Awaited<ReturnType<typeof makeUser>>
  const ids: Record<'A' | 'B' | 'C' | 'D' | 'E', string> = { A: '', B: '', C: '', D: '', E: '' }
  const at = (iso: string) => {
    t.app.services.slaClocks.clock.now = () => new Date(iso)
  }
  const move = async (id: string, to: string, extra: Json = {}) => {
    const res = await t.api('POST', `/api/v1/incidents/${id}/transitions`, { body: { to, ...extra } })
    expect(res.statusCode, res.body).toBe(200)
  }
  const nameOf = (id: string) => Object.entries(ids).find(([, v]) => v === id)?.[0] ?? id
  const ours = () => `serviceId=in=(${serviceId},${bareServiceId})`

  /** Names of a list's items in order, through the cross-kind list, every page followed. */
  async function listAll(filter: string, sort?: string, limit = 2, token?: string) {
    const pages: string[][] = []
    let cursor: string | null = null
    do {
      const params = new URLSearchParams({ filter, limit: String(limit) })
      if (sort) params.set('sort', sort)
      if (cursor) params.set('cursor', cursor)
      const res = await t.api('GET', `/api/v1/tickets?${params}`, token ? { token } : {})
      expect(res.statusCode, res.body).toBe(200)
      const body = res.json() as Json
      pages.push(body.items.map((i: Json) => nameOf(i.id)))
      cursor = body.nextCursor
    } while (cursor && pages.length < 10)
    return pages
  }
  const names = async (filter: string, token?: string) =>
    (await listAll(`${ours()};${filter}`, 'number', 50, token)).flat()

  const A_SLA = {
    response: { state: 'breached', dueAt: '2026-12-07T09:00:00.000Z', breached: true, percentUsed: 200 },
    resolution: { state: 'running', dueAt: '2026-12-08T08:00:00.000Z', breached: false, percentUsed: 56.25 }
  }
  const B_SLA = {
    response: { state: 'running', dueAt: '2026-12-07T14:00:00.000Z', breached: false, percentUsed: 50 },
    resolution: { state: 'running', dueAt: '2026-12-08T12:00:00.000Z', breached: false, percentUsed: 6.25 }
  }
  const C_SLA = {
    response: { state: 'paused', dueAt: null, breached: false, percentUsed: 50 },
    resolution: { state: 'paused', dueAt: null, breached: false, percentUsed: 6.25 }
  }
  const E_SLA = {
    response: { state: 'met', dueAt: '2026-12-07T10:00:00.000Z', breached: false, percentUsed: 50 },
    resolution: { state: 'met', dueAt: '2026-12-08T09:00:00.000Z', breached: false, percentUsed: 6.25 }
  }
  const NO_SLA = { response: null, resolution: null }

  beforeAll(async () => {
    t = await buildTestApp()
    calendarId = uuidv7()
    await t.db.insert(calendars).values({ id: calendarId, name: `Paris ${suffix()}`, ...PARIS })
    const service = async () =>
      (await t.api('POST', '/api/v1/services', { body: { name: `Service ${suffix()}` } })).json().id as string
    serviceId = await service()
    bareServiceId = await service()
    const sla = await t.api('POST', '/api/v1/slas', {
      body: {
        name: `SLA ${suffix()}`,
        calendarId,
        conditions: { serviceId },
        targets: [1, 2, 3, 4, 5].map(priority => ({ priority, responseMinutes: 60, resolutionMinutes: 480 }))
      }
    })
    expect(sla.statusCode, sla.body).toBe(201)
    const org = await makeOrganisation(t)
    customer = await makeUser(t, ['customer'], { organisationId: org.id })
    const orgMate = await makeUser(t, ['customer'], { organisationId: org.id })

    at('2026-12-07T08:00:00.000Z')
    ids.A = (await makeIncident(t, { serviceId, requesterId: orgMate.id })).id
    at('2026-12-07T08:30:00.000Z')
    ids.C = (await makeIncident(t, { serviceId })).id
    at('2026-12-07T09:00:00.000Z')
    ids.E = (await makeIncident(t, { serviceId })).id
    await move(ids.C, 'pending')
    at('2026-12-07T09:30:00.000Z')
    await move(ids.E, 'in_progress')
    await move(ids.E, 'resolved', { resolution: 'Replaced the cable' })
    at('2026-12-07T10:00:00.000Z')
    const reply = await t.api('POST', `/api/v1/incidents/${ids.A}/notes`, { body: { body: 'On it' } })
    expect(reply.statusCode, reply.body).toBe(201)
    at('2026-12-07T13:00:00.000Z')
    const created = await makeIncident(t, { serviceId })
    ids.B = created.id
    // The create answer has the clocks it just started: nothing used yet
    expect(created.sla).toEqual({
      response: { state: 'running', dueAt: '2026-12-07T14:00:00.000Z', breached: false, percentUsed: 0 },
      resolution: { state: 'running', dueAt: '2026-12-08T12:00:00.000Z', breached: false, percentUsed: 0 }
    })
    ids.D = (await makeIncident(t, { serviceId: bareServiceId })).id
    at('2026-12-07T13:30:00.000Z')
  })
  afterAll(async () => t?.close())

  it('answers the sla object on single reads (by kind, by number, cross-kind) and on list items', async () => {
    const read = async (url: string) => {
      const res = await t.api('GET', url)
      expect(res.statusCode, res.body).toBe(200)
      return res.json().sla
    }
    expect(await read(`/api/v1/incidents/${ids.A}`)).toEqual(A_SLA)
    expect(await read(`/api/v1/incidents/${ids.B}`)).toEqual(B_SLA)
    expect(await read(`/api/v1/incidents/${ids.C}`)).toEqual(C_SLA)
    expect(await read(`/api/v1/incidents/${ids.E}`)).toEqual(E_SLA)
    expect(await read(`/api/v1/incidents/${ids.D}`)).toEqual(NO_SLA)
    const number = (await t.api('GET', `/api/v1/incidents/${ids.A}`)).json().number as string
    expect(await read(`/api/v1/tickets/${number}`)).toEqual(A_SLA)

    // Time moves on: the running clocks use more (A's resolution 14:30 → 16:30 Paris: 390 of 480)
    at('2026-12-07T15:30:00.000Z')
    expect((await read(`/api/v1/incidents/${ids.A}`)).resolution.percentUsed).toBe(81.25)
    at('2026-12-07T13:30:00.000Z')

    for (const url of [
      `/api/v1/incidents?filter=${encodeURIComponent(ours())}`,
      `/api/v1/tickets?filter=${encodeURIComponent(ours())}`
    ]) {
      const res = await t.api('GET', url)
      expect(res.statusCode, res.body).toBe(200)
      const byName = Object.fromEntries((res.json().items as Json[]).map(i => [nameOf(i.id), i.sla]))
      expect(byName).toEqual({ A: A_SLA, B: B_SLA, C: C_SLA, D: NO_SLA, E: E_SLA })
    }
  })

  it('answers it in GraphQL: single reads, lists and write answers', async () => {
    const clock = 'state dueAt breached percentUsed'
    const sel = `sla { response { ${clock} } resolution { ${clock} } }`
    const one = await t.gql(`{ incident(id: "${ids.A}") { id ${sel} } }`)
    expect(one.body.errors).toBeUndefined()
    expect(one.body.data!.incident.sla).toEqual(A_SLA)
    const list = await t.gql(
      `query($f: String) { tickets(filter: $f, sort: "sla.resolutionDueAt", first: 10) { edges { node { id ${sel} } } } }`,
      { f: ours() }
    )
    expect(list.body.errors).toBeUndefined()
    expect(list.body.data!.tickets.edges.map((e: Json) => [nameOf(e.node.id), e.node.sla])).toEqual([
      ['A', A_SLA],
      ['E', E_SLA],
      ['B', B_SLA],
      ['C', C_SLA],
      ['D', NO_SLA]
    ])
    // A write answer carries the sla too (a title change moves no clock)
    const version = (await t.api('GET', `/api/v1/incidents/${ids.B}`)).json().version as number
    const written = await t.gql(
      `mutation($id: ID!, $v: Int!) { updateIncident(id: $id, version: $v, input: { title: "Printer on fire" }) { title ${sel} } }`,
      { id: ids.B, v: version }
    )
    expect(written.body.errors).toBeUndefined()
    expect(written.body.data!.updateIncident).toEqual({ title: 'Printer on fire', sla: B_SLA })
  })

  it('filters on due times (every operator, nulls as RSQL says), breach and state', async () => {
    expect(await names('sla.responseDueAt=lt=2026-12-07T10:00:00Z')).toEqual(['A'])
    expect(await names('sla.responseDueAt=le=2026-12-07T10:00:00Z')).toEqual(['A', 'E'])
    expect(await names('sla.responseDueAt=gt=2026-12-07T10:00:00Z')).toEqual(['B'])
    expect(await names('sla.responseDueAt=ge=2026-12-07T10:00:00Z')).toEqual(['E', 'B'])
    expect(await names('sla.responseDueAt==2026-12-07T14:00:00Z')).toEqual(['B'])
    expect(await names('sla.resolutionDueAt=lt=2026-12-08T10:00:00Z')).toEqual(['A', 'E'])
    expect(await names('sla.resolutionDueAt=ge=2026-12-08T09:00:00Z')).toEqual(['E', 'B'])
    expect(await names('sla.resolutionDueAt=isnull=true')).toEqual(['C', 'D'])
    expect(await names('sla.resolutionDueAt=isnull=false')).toEqual(['A', 'E', 'B'])
    // != keeps the tickets without a due time (C paused, D without clocks)
    expect(await names('sla.resolutionDueAt!=2026-12-08T08:00:00Z')).toEqual(['C', 'E', 'B', 'D'])
    expect(await names('sla.breached==true')).toEqual(['A'])
    expect(await names('sla.breached==false')).toEqual(['C', 'E', 'B', 'D'])
    expect(await names('sla.responseState==met')).toEqual(['E'])
    expect(await names('sla.resolutionState=in=(paused,met)')).toEqual(['C', 'E'])
    expect(await names('sla.resolutionState!=running')).toEqual(['C', 'E', 'D'])
    expect(await names('sla.breached==false;sla.responseDueAt=lt=2026-12-07T12:00:00Z')).toEqual(['E'])
    // The kind's own list takes them too
    const kindList = await t.api(
      'GET',
      `/api/v1/incidents?filter=${encodeURIComponent(`${ours()};sla.breached==true`)}`
    )
    expect(kindList.json().items.map((i: Json) => nameOf(i.id))).toEqual(['A'])
  })

  it('refuses bad values, operators and sorts with a 400 naming the parameter', async () => {
    const bad = async (query: string, field: string) =>
      expect(fieldsOf(expectProblem(await t.api('GET', `/api/v1/tickets?${query}`), 400))).toEqual([field])
    const filter = (f: string) => `filter=${encodeURIComponent(f)}`
    await bad(filter('sla.responseDueAt=lt=tomorrow'), 'filter')
    await bad(filter('sla.breached==maybe'), 'filter')
    await bad(filter('sla.breached=lt=true'), 'filter')
    await bad(filter('sla.responseState==late'), 'filter')
    await bad('sort=sla.breached', 'sort')
    const forged = Buffer.from(JSON.stringify(['sla.resolutionDueAt', 'soon', ids.A])).toString('base64url')
    await bad(`sort=sla.resolutionDueAt&cursor=${forged}`, 'cursor')
  })

  it('sorts by due time, tickets without one last, with keyset pages that stay right', async () => {
    expect(await listAll(ours(), 'sla.resolutionDueAt')).toEqual([['A', 'E'], ['B', 'C'], ['D']])
    expect(await listAll(ours(), '-sla.resolutionDueAt')).toEqual([['D', 'C'], ['B', 'E'], ['A']])
    expect(await listAll(ours(), 'sla.responseDueAt', 3)).toEqual([
      ['A', 'E', 'B'],
      ['C', 'D']
    ])
    expect(await listAll(`${ours()};sla.breached==false`, 'sla.responseDueAt', 1)).toEqual([['E'], ['B'], ['C'], ['D']])
    // GraphQL pages by the same cursors
    const page = async (after: string | null) => {
      const res = await t.gql(
        `query($f: String, $a: String) { tickets(filter: $f, sort: "-sla.responseDueAt", first: 2, after: $a) { edges { node { id } } pageInfo { hasNextPage endCursor } } }`,
        { f: ours(), a: after }
      )
      expect(res.body.errors).toBeUndefined()
      return res.body.data!.tickets
    }
    const first = await page(null)
    const second = await page(first.pageInfo.endCursor)
    const third = await page(second.pageInfo.endCursor)
    expect([first, second, third].map(p => p.edges.map((e: Json) => nameOf(e.node.id)))).toEqual([
      ['D', 'C'],
      ['B', 'E'],
      ['A']
    ])
    expect(third.pageInfo.hasNextPage).toBe(false)
  })

  it("shows customers only their organisation's tickets, with their sla", async () => {
    expect(await names('sla.resolutionDueAt=isnull=false', customer.token)).toEqual(['A'])
    expect(await names('sla.breached==false', customer.token)).toEqual([])
    expect(await listAll(ours(), 'sla.resolutionDueAt', 2, customer.token)).toEqual([['A']])
    const own = await t.api('GET', `/api/v1/incidents/${ids.A}`, { token: customer.token })
    expect(own.statusCode, own.body).toBe(200)
    expect(own.json().sla).toEqual(A_SLA)
    expectProblem(await t.api('GET', `/api/v1/incidents/${ids.B}`, { token: customer.token }), 404)
  })
})
