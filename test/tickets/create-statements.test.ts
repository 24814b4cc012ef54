import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { calendars } from '../../src/db/schema/index.js'
import { uuidv7 } from '../../src/lib/ids.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { PARIS } from '../helpers/calendars.js'
import { driver } from '../helpers/db.js'
import { suffix } from '../helpers/factories.js'

/**
 * What a create costs in statements on node-postgres, with the per-process caches on (as served):
 * with no SLA for the kind it is the one create statement, without a transaction; with one, the clocks
 * and their timers are one statement each, not one per clock. An SLA written in this process is
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

  async function statementsOf(body: Record<string, unknown>) {
    seen.length = 0
    counting = true
    const res = await t.api('POST', '/api/v1/incidents', { body })
    counting = false
    expect(res.statusCode, res.body).toBe(201)
    // The session lookup is the auth cache's business, not the create's
    return { id: res.json().id as string, statements: seen.filter(s => !/from "sessions"/.test(s)) }
  }

  it('is one statement with no SLA for the kind, and one per table with one', async () => {
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
    expect(first.statements.filter(s => /^insert into "sla_clocks"/i.test(s))).toHaveLength(1)
    const timed = await statementsOf({ title: `timed ${suffix()}`, impact: 2, urgency: 2 })
    expect(timed.statements.some(s => /from "slas"/.test(s))).toBe(false)
    const writes = timed.statements.filter(s => /^(insert|update|delete|with)/i.test(s))
    // The ticket, its two clocks in one INSERT, their two timers in one upsert
    expect(writes).toHaveLength(3)
    expect(writes[1]).toMatch(/^insert into "sla_clocks"/i)
    expect(writes[2]).toMatch(/^insert into "?work_items"?/i)
    expect(timed.statements[0]).toMatch(/^begin/i)
    expect(timed.statements.at(-1)).toMatch(/^commit/i)
    const clocks = (await t.api('GET', `/api/v1/tickets/${timed.id}/sla`)).json().clocks as { target: string }[]
    expect(clocks.map(c => c.target)).toEqual(['response', 'resolution'])
  })
})
