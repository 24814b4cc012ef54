import { sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sqlArray } from '../../src/lib/sql-array.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { createTestDatabase, driver, type TestDatabase } from '../helpers/db.js'
import { makeIncident, makeTeam, makeUser, suffix } from '../helpers/factories.js'
import { type Spawned, spawnEntry } from '../helpers/spawn.js'
import { rowsOf, waitFor } from '../helpers/wait.js'

const TICKETS = 5_000
const QUEUE = 'sla.escalation'

// PGlite is one process by nature; several scheduler processes need PostgreSQL (the threshold logic
// itself runs on both drivers in escalations.test.ts)
describe.skipIf(driver !== 'pg')('escalations across scheduler processes', () => {
  let testDb: TestDatabase
  let t: TestApp
  let slaId: string
  let watcherId: string
  const schedulers: Spawned[] = []

  function startScheduler(): Spawned {
    const s = spawnEntry('src/scheduler.ts', {
      DATABASE_URL: testDb.url!,
      MIGRATE_ON_START: 'false',
      LOG_LEVEL: 'info',
      SCHEDULER_POLL_MS: '500',
      SCHEDULER_LEASE_MS: '3000',
      SCHEDULER_CONCURRENCY: '2',
      NOTIFY_POLL_MS: '600000'
    })
    schedulers.push(s)
    return s
  }

  const count = async (query: ReturnType<typeof sql>) =>
    rowsOf<{ n: number }>(await t.db.execute(query))[0]!.n as number
  const ownedBy = (s: Spawned) => `%:${s.child.pid}:%`

  beforeAll(async () => {
    testDb = await createTestDatabase()
    t = await buildTestApp({}, testDb)
    const day = [['00:00', '24:00']]
    const cal = await t.api('POST', '/api/v1/calendars', {
      body: {
        name: `Always ${suffix()}`,
        timeZone: 'UTC',
        hours: { mon: day, tue: day, wed: day, thu: day, fri: day, sat: day, sun: day }
      }
    })
    const watcher = await makeUser(t, ['technician'])
    watcherId = watcher.id
    const sla = await t.api('POST', '/api/v1/slas', {
      body: {
        name: `SLA ${suffix()}`,
        calendarId: cal.json().id,
        targets: [{ priority: 5, responseMinutes: 60, resolutionMinutes: 480 }],
        escalations: [
          {
            percent: 50,
            clock: 'resolution',
            actions: [{ type: 'notify', audience: 'users', userIds: [watcherId] }, { type: 'next_layer' }]
          },
          { percent: 75, clock: 'resolution', actions: [{ type: 'raise_priority' }] }
        ]
      }
    })
    expect(sla.statusCode, sla.body).toBe(201)
    slaId = sla.json().id
    const team = await makeTeam(t)
    const template = await makeIncident(t, { impact: 3, urgency: 3, teamId: team.id })
    // The other tickets copied from the first in one statement
    await t.db.execute(sql`
      INSERT INTO tickets (id, kind, number, title, description, status, impact, urgency, priority, requester_id,
                           organisation_id, team_id, layer, assignee_id, created_by, version, created_at, updated_at)
      SELECT gen_random_uuid(), kind, nextval('incident_number_seq'), title || ' ' || g, description, status, impact,
             urgency, priority, requester_id, organisation_id, team_id, layer, assignee_id, created_by, 1, now(), now()
      FROM tickets, generate_series(1, ${TICKETS - 1}) g WHERE id = ${template.id}`)
    // Their resolution clocks as the job checks them: running for 5 of their 8 hours (the 50 % reached,
    // not the 75 %), the clock's id the ticket's (the template's own clock is replaced)
    await t.db.execute(sql`DELETE FROM sla_clocks`)
    await t.db.execute(sql`DELETE FROM work_items WHERE queue IN ('sla.timer', ${QUEUE})`)
    await t.db.execute(sql`
      INSERT INTO sla_clocks (id, ticket_id, agreement, target, sla_id, calendar_id, priority, target_minutes, run,
                              state, started_at, running_since, elapsed_minutes, due_at)
      SELECT id, id, 'sla', 'resolution', ${slaId}::uuid, ${cal.json().id}::uuid, 5, 480, 1, 'running',
             now() - interval '5 hours', now() - interval '5 hours', 0, now() + interval '3 hours'
      FROM tickets WHERE kind = 'incident'`)
  }, 120_000)

  afterAll(async () => {
    for (const s of schedulers) {
      if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL')
      await s.exited
    }
    await t?.close()
    await testDb?.drop()
  })

  /**
   * Every incident's clock has used `hours` of its 8 (so the threshold is reached, as the job checks),
   * and its `percent` threshold falls due now: one timer each, due together.
   */
  async function armAll(percent: number, hours: number) {
    await t.db.execute(sql`
      UPDATE sla_clocks SET started_at = now() - make_interval(hours => ${hours}::int),
             running_since = now() - make_interval(hours => ${hours}::int)`)
    await t.db.execute(sql`
      INSERT INTO work_items (id, queue, key, payload, due_at)
      SELECT gen_random_uuid(), ${QUEUE}, c.clock_id::text,
             jsonb_build_object('clockId', c.clock_id, 'run', 1, 'clock', 'resolution', 'ticketId', c.id,
                                'slaId', ${slaId}::uuid, 'percent', ${percent}::int), now()
      FROM (SELECT id, id AS clock_id FROM tickets WHERE kind = 'incident') c
      ON CONFLICT (queue, key) WHERE dead_at IS NULL
      DO UPDATE SET payload = excluded.payload, due_at = excluded.due_at, attempts = 0`)
  }

  it('two schedulers apply 5,000 thresholds falling due together exactly once, one of them killed with SIGKILL mid-run', async () => {
    const a = startScheduler()
    const b = startScheduler()
    await a.until('scheduler started')
    await b.until('scheduler started')
    await armAll(50, 5)

    // Kill A while it holds a batch, once both have applied some
    const held = await waitFor(
      'A to hold a batch while both have fired',
      async () => {
        const leased = rowsOf<{ key: string }>(
          await t.db.execute(
            sql`SELECT key FROM work_items WHERE queue = ${QUEUE} AND lease_owner LIKE ${ownedBy(a)} AND lease_expires_at > now()`
          )
        )
        const fired = await count(sql`SELECT count(*)::int AS n FROM sla_escalation_firings`)
        return leased.length > 0 && fired > 0 && leased.map(r => r.key)
      },
      { timeoutMs: 60_000, everyMs: 10 }
    )
    a.child.kill('SIGKILL')
    await a.exited

    await waitFor(
      'B to finish everything, A’s batch after its lease',
      // Each clock's next threshold (75 %) is armed for an hour on: what is due now is done
      async () =>
        (await count(sql`SELECT count(*)::int AS n FROM work_items WHERE queue = ${QUEUE} AND due_at <= now()`)) === 0,
      { timeoutMs: 90_000, everyMs: 200 }
    )
    expect(b.child.exitCode).toBeNull()
    // Exactly once: one firing per clock, one history row, one notice and one layer move per ticket
    expect(await count(sql`SELECT count(*)::int AS n FROM sla_escalation_firings WHERE percent = 50`)).toBe(TICKETS)
    expect(await count(sql`SELECT count(DISTINCT clock_id)::int AS n FROM sla_escalation_firings`)).toBe(TICKETS)
    const perTicket = rowsOf<{ n: number; tickets: number }>(
      await t.db.execute(sql`
        SELECT n, count(*)::int AS tickets FROM (
          SELECT entity_id, count(*)::int AS n FROM audit_log WHERE action = 'sla.escalated' GROUP BY entity_id) x
        GROUP BY n`)
    )
    expect(perTicket).toEqual([{ n: 1, tickets: TICKETS }])
    expect(
      await count(sql`SELECT count(DISTINCT ticket_id)::int AS n FROM notification_outbox WHERE event = 'sla.warning'`)
    ).toBe(TICKETS)
    expect(await count(sql`SELECT count(*)::int AS n FROM notification_outbox WHERE event = 'sla.warning'`)).toBe(
      TICKETS
    )
    const tickets = rowsOf<{ layer: number; version: number; n: number }>(
      await t.db.execute(
        sql`SELECT layer, version, count(*)::int AS n FROM tickets WHERE kind = 'incident' GROUP BY layer, version`
      )
    )
    expect(tickets).toEqual([{ layer: 2, version: 2, n: TICKETS }])
    // What A held when it died was applied (by B, after the lease)
    const heldFired = await count(
      sql`SELECT count(*)::int AS n FROM sla_escalation_firings WHERE clock_id::text = any(${sqlArray(held, 'text')})`
    )
    expect(heldFired).toBe(held.length)
  }, 240_000)

  it('SIGTERM finishes the batch in hand and exits; what it had claimed is applied, the rest left to others', async () => {
    const b = schedulers[1]!
    await armAll(75, 7)
    const held = await waitFor(
      'B to hold a batch',
      async () => {
        const leased = rowsOf<{ key: string }>(
          await t.db.execute(
            sql`SELECT key FROM work_items WHERE queue = ${QUEUE} AND lease_owner LIKE ${ownedBy(b)} AND lease_token IS NOT NULL`
          )
        )
        return leased.length > 0 && leased.map(r => r.key)
      },
      { timeoutMs: 30_000, everyMs: 5 }
    )
    const signalled = Date.now()
    b.child.kill('SIGTERM')
    expect(await b.exited).toBe(0)
    expect(Date.now() - signalled).toBeLessThan(10_000)
    // Nothing of B's is left leased, and every threshold it had claimed was applied
    expect(await count(sql`SELECT count(*)::int AS n FROM work_items WHERE lease_owner LIKE ${ownedBy(b)}`)).toBe(0)
    expect(
      await count(
        sql`SELECT count(*)::int AS n FROM sla_escalation_firings WHERE percent = 75 AND clock_id::text = any(${sqlArray(held, 'text')})`
      )
    ).toBe(held.length)
    // A third scheduler takes the rest at once (no lease to wait for) and applies each once
    startScheduler()
    await waitFor(
      'the rest to be applied',
      async () => (await count(sql`SELECT count(*)::int AS n FROM work_items WHERE queue = ${QUEUE}`)) === 0,
      { timeoutMs: 90_000, everyMs: 200 }
    )
    expect(await count(sql`SELECT count(*)::int AS n FROM sla_escalation_firings WHERE percent = 75`)).toBe(TICKETS)
    const priorities = rowsOf<{ priority: number; n: number }>(
      await t.db.execute(
        sql`SELECT priority, count(*)::int AS n FROM tickets WHERE kind = 'incident' GROUP BY priority`
      )
    )
    expect(priorities).toEqual([{ priority: 4, n: TICKETS }])
  }, 240_000)
})
