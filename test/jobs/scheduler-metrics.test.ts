import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { sql } from 'drizzle-orm'
import parsePrometheusTextFormat, { type PrometheusFamily } from 'parse-prometheus-text-format'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../src/config.js'
import { enqueue } from '../../src/jobs/queue.js'
import { createTestDatabase, driver, type TestDatabase } from '../helpers/db.js'
import { randomPort, type Spawned, spawnEntry } from '../helpers/spawn.js'
import { rowsOf, waitFor } from '../helpers/wait.js'

const meteredModule = pathToFileURL(resolve('test/jobs/fixtures/metrics-job.ts')).href
const TOKEN = 'scheduler-metrics-token-0123'

const family = (families: PrometheusFamily[], name: string) => {
  const found = families.find(f => f.name === name)
  if (!found) throw new Error(`no metric family ${name}`)
  return found
}

describe('SCHEDULER_METRICS_PORT is checked at start', () => {
  it('is a port, and not the API metrics listener', () => {
    expect(loadConfig({ SCHEDULER_METRICS_PORT: '9465' }).SCHEDULER_METRICS_PORT).toBe(9465)
    expect(loadConfig({}).SCHEDULER_METRICS_PORT).toBeUndefined()
    expect(() => loadConfig({ SCHEDULER_METRICS_PORT: '70000' })).toThrow(
      new ConfigError('invalid configuration: SCHEDULER_METRICS_PORT must be <= 65535')
    )
    expect(() => loadConfig({ SCHEDULER_METRICS_PORT: 'ninety' })).toThrow(/SCHEDULER_METRICS_PORT must be integer/)
    expect(() => loadConfig({ SCHEDULER_METRICS_PORT: '9464', METRICS_PORT: '9464' })).toThrow(
      /SCHEDULER_METRICS_PORT must differ from METRICS_PORT \(9464\)/
    )
  })
})

// The scheduler runs apart from the API on PostgreSQL only (PGlite runs it in the API process)
describe.skipIf(driver !== 'pg')('the scheduler process serves /metrics on SCHEDULER_METRICS_PORT', () => {
  let testDb: TestDatabase
  let scheduler: Spawned | undefined
  const port = randomPort()
  const scrape = (headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }, path = '/metrics') =>
    fetch(`http://127.0.0.1:${port}${path}`, { headers })

  beforeAll(async () => {
    testDb = await createTestDatabase()
    const { db } = testDb.database
    // Two runs that succeed, one that fails for good (one attempt: a dead letter of the queue)
    await enqueue(db, { queue: 'test-metered', payload: { ms: 50, fail: false } })
    await enqueue(db, { queue: 'test-metered', payload: { ms: 50, fail: false } })
    await enqueue(db, { queue: 'test-metered', payload: { ms: 0, fail: true }, maxAttempts: 1 })
    // A dead outbox row, and a pending one not due before tomorrow (the dispatcher leaves it alone)
    await db.execute(sql`insert into notification_outbox (id, event, dead_at, attempts, available_at)
      values (gen_random_uuid(), 'ticket.created', now(), 8, now()),
             (gen_random_uuid(), 'ticket.created', null, 0, now() + interval '1 day')`)
    scheduler = spawnEntry(
      'src/scheduler.ts',
      {
        DATABASE_URL: testDb.url!,
        MIGRATE_ON_START: 'false',
        LOG_LEVEL: 'info',
        SCHEDULER_POLL_MS: '200',
        SCHEDULER_CONCURRENCY: '2',
        NOTIFY_POLL_MS: '600000',
        SCHEDULER_METRICS_PORT: String(port),
        METRICS_TOKEN: TOKEN
      },
      [meteredModule]
    )
    await scheduler.until('scheduler metrics listener started')
    await scheduler.until('scheduler started')
  }, 240_000)

  afterAll(async () => {
    if (scheduler && scheduler.child.exitCode === null && scheduler.child.signalCode === null) {
      scheduler.child.kill('SIGTERM')
    }
    await scheduler?.exited
    await testDb?.drop()
  }, 60_000)

  it('asks for the metrics token as the API does, and serves nothing else', async () => {
    const anonymous = await scrape({})
    expect(anonymous.status).toBe(401)
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer realm="metrics"')
    expect(anonymous.headers.get('content-type')).toBe('application/problem+json')
    expect(await anonymous.json()).toMatchObject({ status: 401, code: 'UNAUTHENTICATED' })
    expect((await scrape({ authorization: 'Bearer not-the-token-at-all' })).status).toBe(401)
    expect((await scrape(undefined, '/other')).status).toBe(404)
  })

  it('counts the runs it made by job and outcome, their failures and durations; reads backlog and dead letters', async () => {
    // Every metered item ran: the two that succeeded are gone, the failed one is a dead letter
    await waitFor(
      'the metered items run',
      async () => {
        const [row] = rowsOf<{ live: number; dead: number }>(
          await testDb.database.db.execute(sql`select
            count(*) filter (where dead_at is null)::int as live, count(*) filter (where dead_at is not null)::int as dead
            from work_items where queue = 'test-metered'`)
        )
        return row?.live === 0 && row.dead === 1
      },
      { timeoutMs: 60_000, everyMs: 200 }
    )
    const res = await scrape()
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
    const text = await res.text()
    const families = parsePrometheusTextFormat(text)

    const runs = family(families, 'servicedesk_job_runs_total')
    expect(runs.type).toBe('COUNTER')
    const metered = Object.fromEntries(
      runs.metrics.filter(m => m.labels?.job === 'test-metered').map(m => [m.labels?.outcome, m.value])
    )
    expect(metered).toEqual({ ok: '2', failed: '1' })
    const failed = family(families, 'servicedesk_jobs_failed_total')
    expect(failed.metrics.find(m => m.labels?.job === 'test-metered')?.value).toBe('1')
    expect(family(families, 'servicedesk_job_duration_seconds').type).toBe('HISTOGRAM')
    expect(text).toMatch(/^servicedesk_job_duration_seconds_count\{job="test-metered"\} 3$/m)
    // Two runs slept 50 ms each
    const sum = Number(/^servicedesk_job_duration_seconds_sum\{job="test-metered"\} (\S+)$/m.exec(text)?.[1])
    expect(sum).toBeGreaterThanOrEqual(0.09)
    expect(sum).toBeLessThan(30)

    // Figures read from the database on scrape, as the API's /metrics reads them
    expect(family(families, 'servicedesk_outbox_dead').metrics[0]?.value).toBe('1')
    expect(family(families, 'servicedesk_outbox_pending').metrics[0]?.value).toBe('1')
    expect(family(families, 'servicedesk_work_items_due').type).toBe('GAUGE')
    expect(family(families, 'servicedesk_work_items_oldest_due_lag_seconds').type).toBe('GAUGE')
    expect(
      Number(family(families, 'servicedesk_work_items_oldest_due_lag_seconds').metrics[0]?.value)
    ).toBeGreaterThanOrEqual(0)
    expect(family(families, 'servicedesk_sla_breached_clocks').metrics[0]?.value).toBe('0')
    expect(family(families, 'servicedesk_nodejs_eventloop_lag_seconds').type).toBe('GAUGE')
    const pool = family(families, 'servicedesk_db_pool_connections')
    expect(pool.metrics.map(m => m.labels?.pool)).toEqual(['primary'])
    // No HTTP traffic is served here: the family exists with no series
    expect(family(families, 'servicedesk_http_requests_total').metrics).toEqual([])
  })

  it('stops its listener on SIGTERM and exits cleanly', async () => {
    scheduler!.child.kill('SIGTERM')
    expect(await scheduler!.exited).toBe(0)
    await expect(scrape()).rejects.toThrow()
  })
})
