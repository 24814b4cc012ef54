import { sql } from 'drizzle-orm'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { calendars } from '../../src/db/schema/index.js'
import { uuidv7 } from '../../src/lib/ids.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { PARIS } from '../helpers/calendars.js'
import { driver } from '../helpers/db.js'
import { makeOrganisation, makeService, makeUser, suffix } from '../helpers/factories.js'
import { expectProblem, fieldsOf } from '../helpers/problem.js'

/**
 * What a create costs in statements on node-postgres, with the per-process caches on (as served):
 * with no SLA for the kind it is the one create statement, without a transaction; with one too (the
 * clocks and their timers are part of that statement). An SLA written in this process is
 * matched by the next create at once (the cache drops on the write).
 */
describe.skipIf(driver === 'pglite')('statements of a ticket create (node-postgres)', () => {
  let t: TestApp
  const seen: string[] = []
  let counting = false
  const original = pg.Client.prototype.query

  beforeAll(async () => {
    t = await buildTestApp({ AUTH_CACHE_TTL_MS: '60000' })
    ;(pg.Client.prototype as { query: unknown }).query = function (this: pg.Client, ...args: unknown[]) {
      const first = args[0] as string | { text?: string; name?: string }
      if (counting) seen.push(String(typeof first === 'string' ? first : (first?.text ?? first?.name)).trim())
      return (original as (...a: unknown[]) => unknown).apply(this, args)
    } as typeof original
  })
  afterAll(async () => {
    pg.Client.prototype.query = original
    await t?.close()
  })

  async function statementsOf(body: Record<string, unknown>, token?: string) {
    seen.length = 0
    counting = true
    const res = await t.api('POST', '/api/v1/incidents', { body, ...(token ? { token } : {}) })
    counting = false
    expect(res.statusCode, res.body).toBe(201)
    // The session lookup is the auth cache's business, not the create's
    return { id: res.json().id as string, statements: seen.filter(s => !/from "sessions"/.test(s)) }
  }

  it('is one statement, with no SLA for the kind and with one', async () => {
    // Warm the caches (workflow, custom fields, agreements) with a first create
    await statementsOf({ title: `warm ${suffix()}`, impact: 2, urgency: 2 })
    const plain = await statementsOf({ title: `plain ${suffix()}`, impact: 2, urgency: 2 })
    expect(plain.statements).toHaveLength(1)
    expect(plain.statements[0]).toMatch(/INSERT INTO tickets/i)

    const calendarId = uuidv7()
    await t.db.insert(calendars).values({ id: calendarId, name: `Paris ${suffix()}`, ...PARIS })
    const made = await t.api('POST', '/api/v1/slas', {
      body: {
        name: `SLA ${suffix()}`,
        calendarId,
        conditions: { kind: 'incident' },
        targets: [2, 3].map(priority => ({ priority, responseMinutes: 60, resolutionMinutes: 480 }))
      }
    })
    expect(made.statusCode, made.body).toBe(201)

    // The first create after the write reads the agreements again, and starts clocks at once
    const first = await statementsOf({ title: `first ${suffix()}`, impact: 2, urgency: 2 })
    expect(first.statements.some(s => /from "slas"/.test(s))).toBe(true)
    const timed = await statementsOf({ title: `timed ${suffix()}`, impact: 2, urgency: 2 })
    // Warm: the ticket, its audit row, its two clocks and their timers are the one create statement,
    // without a transaction
    expect(timed.statements).toHaveLength(1)
    expect(timed.statements[0]).toMatch(/INSERT INTO tickets/i)
    expect(timed.statements[0]).toMatch(/INSERT INTO sla_clocks/i)
    expect(timed.statements[0]).toMatch(/INSERT INTO work_items/i)
    for (const made of [first, timed]) {
      const sla = await t.api('GET', `/api/v1/tickets/${made.id}/sla`)
      const clocks = sla.json().clocks as { id: string; target: string; state: string; dueAt: string }[]
      expect(clocks.map(c => [c.target, c.state])).toEqual([
        ['response', 'running'],
        ['resolution', 'running']
      ])
      // Each running clock's breach timer is armed at its due time
      const timers = await t.db.execute(
        sql`select key, due_at from work_items where queue = 'sla.timer' and key = any(${sql.param(clocks.map(c => c.id))}::text[])`
      )
      const byKey = new Map(
        (timers as unknown as { rows: { key: string; due_at: Date | string }[] }).rows.map(r => [
          r.key,
          new Date(r.due_at).toISOString()
        ])
      )
      expect(clocks.map(c => byKey.get(c.id))).toEqual(clocks.map(c => new Date(c.dueAt).toISOString()))
    }
  })

  it('checks a named service in the create statement itself, and says why when it fails', async () => {
    const org = await makeOrganisation(t)
    const customer = await makeUser(t, ['customer'], { organisationId: org.id })
    const shown = (await makeService(t, { customerVisible: true, organisationIds: [org.id] })) as { id: string }
    const internal = (await makeService(t, { customerVisible: false })) as { id: string }
    const retired = (await makeService(t, { status: 'retired' })) as { id: string }
    await statementsOf({ title: `warm ${suffix()}`, serviceId: shown.id })
    // An upper-case id names the same service: stored lower-case
    const staff = await statementsOf({ title: `named ${suffix()}`, serviceId: shown.id.toUpperCase() })
    expect(staff.statements).toHaveLength(1)
    expect(staff.statements[0]).toMatch(/INSERT INTO tickets/i)
    expect((await t.api('GET', `/api/v1/incidents/${staff.id}`)).json().serviceId).toBe(shown.id)
    await statementsOf({ title: `warm ${suffix()}`, serviceId: shown.id }, customer.token)
    const mine = await statementsOf({ title: `mine ${suffix()}`, serviceId: shown.id }, customer.token)
    expect(mine.statements).toHaveLength(1)

    const before = await t.db.execute(sql`select count(*)::int as n from tickets`)
    const count = (r: unknown) => (r as { rows: { n: number }[] }).rows[0]!.n
    for (const [serviceId, token] of [
      [retired.id, undefined],
      [internal.id, customer.token],
      [uuidv7(), undefined]
    ] as const) {
      const res = await t.api('POST', '/api/v1/incidents', {
        body: { title: 'refused', serviceId },
        ...(token ? { token } : {})
      })
      expect(fieldsOf(expectProblem(res, 422))).toEqual(['serviceId'])
    }
    // A service that is fine and a requester who is not: the requester is named
    const wrong = await t.api('POST', '/api/v1/incidents', {
      body: { title: 'refused', serviceId: shown.id, requesterId: uuidv7() }
    })
    expect(fieldsOf(expectProblem(wrong, 422))).toEqual(['requesterId'])
    expect(count(await t.db.execute(sql`select count(*)::int as n from tickets`))).toBe(count(before))
  })
})
