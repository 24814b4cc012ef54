/**
 * Scheduler throughput: 100,000 open incidents on a fresh PostgreSQL database, each with a running
 * resolution clock and its threshold timer on the escalation queue, 10,000 of them due at once (the
 * others in an hour). The scheduler's runner applies them (notify a user through the outbox, move to the next layer: a ticket write with
 * its audit, history and outbox rows) in batches, one transaction each. Escalations applied per second
 * from the first claim until none is due. `npm run bench` runs it after the HTTP scenarios
 * (BENCH_ONLY=escalations for it alone); `tsx bench/escalations.ts` runs it alone too.
 */
import { fileURLToPath } from 'node:url'
import { sql } from 'drizzle-orm'
import pg from 'pg'
import pino from 'pino'
import { loadConfig } from '../src/config.js'
import { openDatabase } from '../src/db/client.js'
import { runMigrations } from '../src/db/migrate.js'
import { createJobRunner } from '../src/jobs/runner.js'
import { escalationJob } from '../src/modules/sla-escalations/escalation.job.js'
import { createServices } from '../src/services.js'
import { settings } from './settings.js'

export const ESCALATION_AIM = 2000
/** `BENCH_ESCALATIONS_DB` names the scratch database (sessions sharing a server each pick their own). */
const DB = process.env.BENCH_ESCALATIONS_DB ?? 'servicedesk_bench_escalations'
if (!/^[a-z_][a-z0-9_]*$/.test(DB)) throw new Error(`BENCH_ESCALATIONS_DB must be a plain identifier, not "${DB}"`)

/** `BENCH_ESCALATIONS_OPEN` / `BENCH_ESCALATIONS_DUE` shrink the run while iterating (the sizes by default). */
function count(value: string | undefined, fallback: number) {
  if (value === undefined || value === '') return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1) throw new Error(`escalation bench sizes are positive integers, not "${value}"`)
  return n
}

export async function measureEscalations(
  serverUrl: string,
  open = count(process.env.BENCH_ESCALATIONS_OPEN, 100_000),
  due = Math.min(open, count(process.env.BENCH_ESCALATIONS_DUE, 10_000))
) {
  const url = new URL(serverUrl)
  url.pathname = `/${DB}`
  const admin = new pg.Client({ connectionString: serverUrl })
  await admin.connect()
  await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`)
  await admin.query(`CREATE DATABASE ${DB}`)
  const database = await openDatabase({ url: url.toString(), poolSize: 10 })
  try {
    await runMigrations(database, url.toString())
    const c = new pg.Client({ connectionString: url.toString() })
    await c.connect()
    const ids = {
      user: '01900000-0000-7000-8000-000000000001',
      team: '01900000-0000-7000-8000-000000000002',
      calendar: '01900000-0000-7000-8000-000000000003',
      sla: '01900000-0000-7000-8000-000000000004'
    }
    await c.query(
      `INSERT INTO users (id, username, display_name, email, roles) VALUES ($1, 'ops', 'Ops', 'ops@example.test', '{technician}')`,
      [ids.user]
    )
    await c.query(`INSERT INTO teams (id, name) VALUES ($1, 'Desk')`, [ids.team])
    await c.query(`INSERT INTO team_layers (team_id, level, name) VALUES ($1, 1, '1st'), ($1, 2, '2nd')`, [ids.team])
    await c.query(`INSERT INTO calendars (id, name, time_zone, hours) VALUES ($1, 'Always', 'UTC', $2::jsonb)`, [
      ids.calendar,
      JSON.stringify(
        Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map(d => [d, [['00:00', '24:00']]]))
      )
    ])
    const escalations = [
      {
        percent: 50,
        clock: 'resolution',
        actions: [{ type: 'notify', audience: 'users', userIds: [ids.user] }, { type: 'next_layer' }]
      }
    ]
    await c.query(
      `INSERT INTO slas (id, name, calendar_id, targets, escalations) VALUES ($1, 'Bench SLA', $2, $3::jsonb, $4::jsonb)`,
      [
        ids.sla,
        ids.calendar,
        JSON.stringify([{ priority: 4, responseMinutes: 60, resolutionMinutes: 480 }]),
        JSON.stringify(escalations)
      ]
    )
    await c.query(
      `INSERT INTO tickets (id, kind, number, title, description, status, impact, urgency, priority, requester_id,
                            created_by, team_id, layer, version, created_at, updated_at)
       SELECT gen_random_uuid(), 'incident', nextval('incident_number_seq'), 'Bench incident ' || g, 'Something broke',
              'assigned', 2, 3, 4, $1, $1, $2, 1, 1, now(), now()
       FROM generate_series(1, $3::int) g`,
      [ids.user, ids.team, open]
    )
    // A running resolution clock per ticket (its id the ticket's): five of its eight hours used, so
    // the 50 % is reached (the job checks it under lock) and nothing after it is
    await c.query(
      `INSERT INTO sla_clocks (id, ticket_id, agreement, target, sla_id, calendar_id, priority, target_minutes, run,
                               state, started_at, running_since, elapsed_minutes, due_at)
       SELECT t.id, t.id, 'sla', 'resolution', $1, $2, 4, 480, 1, 'running', now() - interval '5 hours',
              now() - interval '5 hours', 0, now() + interval '3 hours'
       FROM tickets t`,
      [ids.sla, ids.calendar]
    )
    // One threshold timer per open ticket: `due` of them now, the rest in an hour
    await c.query(
      `INSERT INTO work_items (id, queue, key, payload, due_at)
       SELECT gen_random_uuid(), 'sla.escalation', t.id::text,
              jsonb_build_object('clockId', t.id, 'run', 1, 'clock', 'resolution', 'ticketId', t.id,
                                 'slaId', $1::uuid, 'percent', 50),
              CASE WHEN row_number() OVER (ORDER BY t.id) <= $2 THEN now() ELSE now() + interval '1 hour' END
       FROM tickets t`,
      [ids.sla, due]
    )
    await c.query('ANALYZE')
    await c.end()

    const config = loadConfig({ DATABASE_URL: url.toString(), LOG_LEVEL: 'warn' })
    const log = pino({ level: 'warn' })
    const deps = { db: database.db, config, log }
    const runner = createJobRunner({ ...deps, services: createServices(deps) }, [escalationJob], 60_000, {
      concurrency: 2
    })
    const started = performance.now()
    for (;;) {
      await runner.tick()
      const left = await database.db.execute(
        sql`SELECT count(*)::int AS n FROM work_items WHERE queue = 'sla.escalation' AND due_at <= now()`
      )
      if ((left as unknown as { rows: { n: number }[] }).rows[0]!.n === 0) break
    }
    const seconds = (performance.now() - started) / 1000
    const fired = await database.db.execute(sql`SELECT count(*)::int AS n FROM sla_escalation_firings`)
    const applied = (fired as unknown as { rows: { n: number }[] }).rows[0]!.n
    return { open, due, applied, seconds, perSecond: applied / seconds }
  } finally {
    await database.close()
    if (process.env.BENCH_ESCALATIONS_KEEP !== '1') await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`)
    await admin.end()
  }
}

export function printEscalations(r: Awaited<ReturnType<typeof measureEscalations>>) {
  const verdict = r.perSecond >= ESCALATION_AIM ? 'ok' : 'BELOW'
  console.log(
    `\nscheduler escalations (${r.open.toLocaleString('en')} open tickets, ${r.due.toLocaleString('en')} thresholds due at once, notify + next layer): ${r.applied}/${r.due} in ${r.seconds.toFixed(1)} s = ${r.perSecond.toFixed(0)} escalations/s  ${verdict} (aim >= ${ESCALATION_AIM})`
  )
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  measureEscalations(settings.databaseUrl.replace(/\/[^/]*$/, '/postgres')).then(
    r => {
      printEscalations(r)
      process.exit(r.applied === r.due ? 0 : 1)
    },
    err => {
      console.error(err)
      process.exit(1)
    }
  )
}
