/**
 * Report bench on PostgreSQL (issue 16): the ticket summary, ageing and trends reports and SLA
 * compliance over 1,000,000 tickets, each run N times through the real app (`app.inject`, JSON) one
 * after another, p50/p99 per report. The desk is seeded set-wise (generate_series) into a database of
 * its own, once: a run finding the same count reuses it. `npm run bench` runs it after the HTTP
 * scenarios (BENCH_ONLY=reports for it alone); `npx tsx bench/reports.ts [--tickets 1000000] [--runs 30]`
 * runs it alone (BENCH_DATABASE_URL's server, database servicedesk_bench_reports). Aim: p99 under 300 ms.
 */
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import pg from 'pg'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { openDatabase } from '../src/db/client.js'
import { ensureDatabase, migrate } from './seed.js'

export const REPORT_AIM_P99_MS = 300
const ADMIN = { username: 'admin', password: 'bench-admin-password-1' }

export interface ReportsOptions {
  tickets?: number
  runs?: number
}

export interface ReportTiming {
  report: string
  url: string
  p50: number
  p99: number
  max: number
}

export interface ReportsResult {
  tickets: number
  runs: number
  seededSeconds: number | null
  timings: ReportTiming[]
}

/**
 * The desk: 10 organisations, 20 teams, 50 technicians. Tickets spread over two years before now
 * (9 in 10 incidents, 1 in 10 requests); 2 in 10 open, the rest resolved within ~10 days and most of
 * those closed 3 days later. Every ticket with a team has an SLA resolution clock (due 1 to 5 days
 * after creation): stopped when resolved, running otherwise, breached when due before its stop or now.
 */
const SEED_SQL = `
INSERT INTO organisations (id, name)
SELECT gen_random_uuid(), 'Report Org ' || g FROM generate_series(1, 10) g ON CONFLICT DO NOTHING;
INSERT INTO teams (id, name) SELECT gen_random_uuid(), 'Report Team ' || g FROM generate_series(1, 20) g
ON CONFLICT DO NOTHING;
INSERT INTO users (id, username, display_name, email, roles)
SELECT gen_random_uuid(), 'report-tech-' || g, 'Technician ' || g, 'report-tech' || g || '@example.com', ARRAY['technician']
FROM generate_series(1, 50) g ON CONFLICT DO NOTHING;
INSERT INTO calendars (id, name, time_zone) VALUES (gen_random_uuid(), 'Report calendar', 'UTC') ON CONFLICT DO NOTHING;`

const TICKETS_SQL = `
WITH o AS (SELECT array_agg(id ORDER BY name) AS ids FROM organisations WHERE name LIKE 'Report Org %'),
tm AS (SELECT array_agg(id ORDER BY name) AS ids FROM teams WHERE name LIKE 'Report Team %'),
u AS (SELECT array_agg(id ORDER BY username) AS ids FROM users WHERE username LIKE 'report-tech-%'),
r AS (
  SELECT g, random() AS s, random() AS age, random() AS took, 1 + floor(random() * 3)::int AS impact,
         1 + floor(random() * 3)::int AS urgency, 1 + floor(random() * 10)::int AS org,
         floor(random() * 21)::int AS team, 1 + floor(random() * 50)::int AS tech,
         CASE WHEN random() < 0.9 THEN 'incident' ELSE 'request' END AS kind
  FROM generate_series(1, $1::int) g
), c AS (
  SELECT r.*, now() - age * interval '730 days' AS created_at FROM r
), d AS (
  SELECT c.*, CASE WHEN s >= 0.2 THEN least(now(), created_at + took * interval '10 days') END AS resolved_at FROM c
)
INSERT INTO tickets (id, kind, number, title, status, impact, urgency, priority, requester_id, organisation_id,
                     team_id, layer, assignee_id, created_by, version, created_at, updated_at, resolved_at, closed_at)
SELECT gen_random_uuid(), kind,
       CASE kind WHEN 'incident' THEN nextval('incident_number_seq') ELSE nextval('request_number_seq') END,
       'Report bench ticket ' || g,
       CASE WHEN resolved_at IS NULL THEN (CASE WHEN s < 0.05 THEN 'new' ELSE 'in_progress' END)
            WHEN s < 0.3 THEN 'resolved' ELSE 'closed' END,
       impact, urgency, (ARRAY[[1, 2, 3], [2, 3, 4], [3, 4, 5]])[impact][urgency],
       u.ids[tech], o.ids[org], tm.ids[team], CASE WHEN team > 0 THEN 1 END,
       CASE WHEN team > 0 AND s >= 0.05 THEN u.ids[tech] END, u.ids[tech], 2, created_at,
       coalesce(resolved_at, created_at), resolved_at,
       CASE WHEN resolved_at IS NOT NULL AND s >= 0.3 THEN least(now(), resolved_at + interval '3 days') END
FROM d, o, tm, u
ORDER BY created_at`

const CLOCKS_SQL = `
INSERT INTO sla_clocks (id, ticket_id, agreement, target, calendar_id, priority, target_minutes, state,
                        started_at, elapsed_minutes, due_at, breached_at, stopped_at)
SELECT gen_random_uuid(), t.id, 'sla', 'resolution', cal.id, t.priority, x.minutes,
       CASE WHEN t.resolved_at IS NULL AND t.closed_at IS NULL THEN 'running' ELSE 'stopped' END,
       t.created_at, 0, t.created_at + x.minutes * interval '1 minute',
       CASE WHEN t.created_at + x.minutes * interval '1 minute' < coalesce(t.resolved_at, t.closed_at, now())
            THEN t.created_at + x.minutes * interval '1 minute' END,
       coalesce(t.resolved_at, t.closed_at)
FROM tickets t, (SELECT id FROM calendars WHERE name = 'Report calendar') cal,
     LATERAL (SELECT (1440 * (1 + t.priority))::int AS minutes) x
WHERE t.team_id IS NOT NULL`

async function seed(url: string, tickets: number): Promise<number | null> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM tickets')
    if (rows[0]?.n === tickets) {
      console.log(`reports: database holds ${tickets.toLocaleString('en')} tickets`)
      return null
    }
    const started = performance.now()
    console.log(`reports: seeding ${tickets.toLocaleString('en')} tickets and their SLA clocks…`)
    await client.query('BEGIN')
    await client.query(SEED_SQL)
    await client.query('TRUNCATE tickets CASCADE')
    await client.query(`DELETE FROM audit_log WHERE entity_type = 'ticket'`)
    await client.query('ALTER SEQUENCE incident_number_seq RESTART WITH 1')
    await client.query('ALTER SEQUENCE request_number_seq RESTART WITH 1')
    await client.query(TICKETS_SQL, [tickets])
    await client.query(CLOCKS_SQL)
    await client.query('COMMIT')
    await client.query('VACUUM ANALYZE tickets, sla_clocks')
    const seconds = (performance.now() - started) / 1000
    console.log(`reports: seeded in ${seconds.toFixed(0)} s`)
    return seconds
  } finally {
    await client.end()
  }
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!
const ms = (n: number) => Math.round(n * 10) / 10

export async function measureReports(serverUrl: string, opts: ReportsOptions = {}): Promise<ReportsResult> {
  const tickets = opts.tickets ?? 1_000_000
  const runs = opts.runs ?? 30
  const url = new URL(serverUrl)
  url.pathname = '/servicedesk_bench_reports'
  await ensureDatabase(url.toString())
  await migrate(url.toString())
  const seededSeconds = await seed(url.toString(), tickets)

  const config = loadConfig({
    DATABASE_URL: url.toString(),
    LOG_LEVEL: 'warn',
    ADMIN_USERNAME: ADMIN.username,
    ADMIN_PASSWORD: ADMIN.password,
    RUN_SCHEDULER: 'false',
    MIGRATE_ON_START: 'false',
    MAX_EVENT_LOOP_DELAY_MS: '0'
  })
  const database = await openDatabase({ url: url.toString(), poolSize: 10 })
  const app = await buildApp({ config, database, logger: false })
  try {
    await app.ready()
    await app.services.sessions.ensureBootstrapAdmin()
    const login = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: ADMIN })
    if (login.statusCode !== 200) throw new Error(`reports: login answered ${login.statusCode} ${login.body}`)
    const token = login.json().token as string
    const day = 86_400_000
    const iso = (t: number) => new Date(t).toISOString()
    const now = Date.now()
    const month = `from=${iso(now - 30 * day)}&to=${iso(now)}`
    const year = `from=${iso(now - 365 * day)}&to=${iso(now)}`
    const cases: [string, string][] = [
      ['summary, last 30 days by team', `/api/v1/reports/summary?${month}&groupBy=team`],
      ['summary, last year by priority', `/api/v1/reports/summary?${year}&groupBy=priority`],
      ['ageing (every open ticket)', '/api/v1/reports/ageing'],
      ['trends, 30 days by day', `/api/v1/reports/trends?${month}&interval=day`],
      ['trends, a year by month', `/api/v1/reports/trends?${year}&interval=month&timeZone=Europe/Paris`],
      ['sla compliance, 30 days by team', `/api/v1/reports/sla/compliance?${month}&groupBy=team`]
    ]
    const timings: ReportTiming[] = []
    for (const [report, path] of cases) {
      const get = () => app.inject({ url: path, headers: { authorization: `Bearer ${token}` } })
      const first = await get()
      if (first.statusCode !== 200) throw new Error(`reports: ${path} answered ${first.statusCode} ${first.body}`)
      const took: number[] = []
      for (let i = 0; i < runs; i++) {
        const started = performance.now()
        const res = await get()
        took.push(performance.now() - started)
        if (res.statusCode !== 200) throw new Error(`reports: ${path} answered ${res.statusCode}`)
      }
      took.sort((a, b) => a - b)
      timings.push({
        report,
        url: path,
        p50: ms(quantile(took, 0.5)),
        p99: ms(quantile(took, 0.99)),
        max: ms(took[took.length - 1]!)
      })
    }
    return { tickets, runs, seededSeconds, timings }
  } finally {
    await app.close()
    await database.close()
  }
}

/** Prints the table; answers whether every report met the aim. */
export function printReports(r: ReportsResult): boolean {
  console.log(
    `\nreports over ${r.tickets.toLocaleString('en')} tickets, ${r.runs} runs each, one at a time (aim: p99 < ${REPORT_AIM_P99_MS} ms)`
  )
  const width = Math.max(...r.timings.map(t => t.report.length))
  let ok = true
  for (const t of r.timings) {
    const met = t.p99 < REPORT_AIM_P99_MS
    ok &&= met
    console.log(
      `  ${t.report.padEnd(width)}  p50 ${String(t.p50).padStart(7)} ms  p99 ${String(t.p99).padStart(7)} ms  max ${String(t.max).padStart(7)} ms  ${met ? 'ok' : 'ABOVE AIM'}`
    )
  }
  return ok
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { tickets: { type: 'string' }, runs: { type: 'string' } } })
  const server = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/servicedesk_bench'
  measureReports(server, {
    ...(values.tickets ? { tickets: Number(values.tickets) } : {}),
    ...(values.runs ? { runs: Number(values.runs) } : {})
  }).then(
    r => process.exit(printReports(r) ? 0 : 1),
    err => {
      console.error(err instanceof Error ? (err.stack ?? err.message) : err)
      process.exit(1)
    }
  )
}
