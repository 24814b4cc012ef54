import { and, eq, inArray } from 'drizzle-orm'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { slaClocks, workItems } from '../../src/db/schema/index.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { driver } from '../helpers/db.js'
import { makeIncident, suffix } from '../helpers/factories.js'

type Json = Record<string, any>

/**
 * A bulk edit re-targets and re-arms the clocks of every ticket it names set-wise (the clocks'
 * `onChanges`): the new targets, the new run, and each clock's next threshold armed for its instant,
 * in a number of statements that does not grow with the number of tickets. An always-open calendar
 * (UTC, every day 00:00-24:00) makes business minutes wall-clock minutes; the clocks' time source
 * is moved to fixed instants.
 */
describe('bulk edits arm escalation thresholds set-wise', () => {
  let t: TestApp
  let serviceId: string
  const seen: string[] = []
  let counting = false
  const original = pg.Client.prototype.query
  const at = (iso: string) => {
    t.app.services.slaClocks.clock.now = () => new Date(iso)
  }

  beforeAll(async () => {
    t = await buildTestApp()
    const always = [['00:00', '24:00']]
    const cal = await t.api('POST', '/api/v1/calendars', {
      body: {
        name: `Always ${suffix()}`,
        timeZone: 'UTC',
        hours: { mon: always, tue: always, wed: always, thu: always, fri: always, sat: always, sun: always }
      }
    })
    expect(cal.statusCode, cal.body).toBe(201)
    serviceId = (await t.api('POST', '/api/v1/services', { body: { name: `Service ${suffix()}` } })).json().id
    const sla = await t.api('POST', '/api/v1/slas', {
      body: {
        name: `SLA ${suffix()}`,
        calendarId: cal.json().id,
        conditions: { serviceId },
        // P5 (impact 3, urgency 3) has 1,000 minutes to resolve, P2 (impact 1, urgency 2) 200
        targets: [1, 2, 3, 4, 5].map(priority => ({
          priority,
          responseMinutes: 60,
          resolutionMinutes: priority === 5 ? 1000 : 200
        })),
        escalations: [50, 75].map(percent => ({
          percent,
          clock: 'resolution',
          actions: [{ type: 'notify', audience: 'assignee' }]
        }))
      }
    })
    expect(sla.statusCode, sla.body).toBe(201)
    if (driver !== 'pglite') {
      ;(pg.Client.prototype as { query: unknown }).query = function (this: pg.Client, ...args: unknown[]) {
        const first = args[0] as string | { text?: string; name?: string }
        if (counting) seen.push(String(typeof first === 'string' ? first : (first?.text ?? first?.name)).trim())
        return (original as (...a: unknown[]) => unknown).apply(this, args)
      } as typeof original
    }
  })
  afterAll(async () => {
    pg.Client.prototype.query = original
    await t?.close()
  })

  async function tickets(n: number) {
    const out: string[] = []
    for (let i = 0; i < n; i++) out.push((await makeIncident(t, { serviceId, impact: 3, urgency: 3 })).id)
    return out
  }
  async function bulk(ids: string[], set: Json) {
    seen.length = 0
    counting = true
    const res = await t.api('POST', '/api/v1/tickets/bulk', { body: { ids, set } })
    counting = false
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json().updated).toBe(ids.length)
    return seen.filter(s => !/from "sessions"/.test(s))
  }
  const resolutionClocks = (ids: string[]) =>
    t.db
      .select()
      .from(slaClocks)
      .where(and(inArray(slaClocks.ticketId, ids), eq(slaClocks.agreement, 'sla'), eq(slaClocks.target, 'resolution')))
  const armed = async (clockIds: string[]) =>
    new Map(
      (
        await t.db
          .select()
          .from(workItems)
          .where(and(eq(workItems.queue, 'sla.escalation'), inArray(workItems.key, clockIds)))
      ).map(i => [i.key!, { dueAt: i.dueAt.toISOString(), ...(i.payload as Json) }] as const)
    )

  it('re-targets every ticket of a bulk priority change and arms its next threshold for the new target', async () => {
    at('2026-11-02T08:00:00.000Z')
    const ids = await tickets(12)
    const before = await resolutionClocks(ids)
    expect(before).toHaveLength(12)
    // Armed at create: 50 % of 1,000 minutes
    for (const [, timer] of await armed(before.map(c => c.id)))
      expect(timer).toMatchObject({ percent: 50, run: 1, dueAt: '2026-11-02T16:20:00.000Z' })

    // 100 minutes later the priority goes to P2 (200 minutes): 100 used, so 50 % is reached at once
    // (due now) and the run is a new one
    at('2026-11-02T09:40:00.000Z')
    await bulk(ids, { impact: 1, urgency: 2 })
    const after = await resolutionClocks(ids)
    const timers = await armed(after.map(c => c.id))
    for (const c of after) {
      expect(c).toMatchObject({ priority: 2, targetMinutes: 200, run: 2, state: 'running', elapsedMinutes: 100 })
      expect(timers.get(c.id)).toMatchObject({ percent: 50, run: 2, dueAt: '2026-11-02T09:40:00.000Z' })
    }

    // Back to P5 a little later: a new run on 1,000 minutes, 50 % due where 500 are used
    at('2026-11-02T09:50:00.000Z')
    await bulk(ids, { impact: 3, urgency: 3 })
    for (const c of await resolutionClocks(ids)) expect(c).toMatchObject({ priority: 5, run: 3, elapsedMinutes: 110 })
    for (const [, timer] of await armed(after.map(c => c.id)))
      expect(timer).toMatchObject({ percent: 50, run: 3, dueAt: '2026-11-02T16:20:00.000Z' })
  })

  it.skipIf(driver === 'pglite')('takes as many statements for 30 tickets as for 5 (node-postgres)', async () => {
    at('2026-11-03T08:00:00.000Z')
    const few = await tickets(5)
    const many = await tickets(30)
    at('2026-11-03T09:00:00.000Z')
    const small = await bulk(few, { impact: 1, urgency: 2 })
    const large = await bulk(many, { impact: 1, urgency: 2 })
    expect(large.length).toBe(small.length)
    // The clocks of all of them: one locking read and one UPDATE
    expect(large.filter(s => /from "sla_clocks"/i.test(s))).toHaveLength(1)
    expect(large.filter(s => /^update sla_clocks/i.test(s))).toHaveLength(1)
    for (const c of await resolutionClocks(many)) expect(c).toMatchObject({ priority: 2, run: 2 })
  })
})
