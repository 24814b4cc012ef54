import parsePrometheusTextFormat, { type PrometheusFamily } from 'parse-prometheus-text-format'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { PeriodicJob } from '../../src/jobs/job.js'
import { createJobRunner } from '../../src/jobs/runner.js'
import { event, makeIntegration, post } from '../events/helpers.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeIncident } from '../helpers/factories.js'
import { httpGet, randomPort } from '../helpers/spawn.js'

const TOKEN = 'metrics-token-0123456789'

const family = (families: PrometheusFamily[], name: string) => {
  const found = families.find(f => f.name === name)
  if (!found) throw new Error(`no ${name} in the exposition`)
  return found
}

describe('GET /metrics with METRICS_TOKEN', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await buildTestApp({ METRICS_TOKEN: TOKEN })
  })
  afterAll(async () => t?.close())

  it('answers 401 without the token or with a wrong one', async () => {
    const none = await t.app.inject('/metrics')
    expect(none.statusCode).toBe(401)
    expect(none.headers['www-authenticate']).toBe('Bearer realm="metrics"')
    const wrong = await t.app.inject({ url: '/metrics', headers: { authorization: `Bearer ${TOKEN}x` } })
    expect(wrong.statusCode).toBe(401)
    // A user's API session is not the metrics token
    const session = await t.app.inject({ url: '/metrics', headers: { authorization: `Bearer ${t.adminToken}` } })
    expect(session.statusCode).toBe(401)
  })

  it('exposes request counts by route pattern and open tickets by kind and priority', async () => {
    // impact/urgency 1/1 is priority 1, 2/2 priority 3 (the default matrix), 3/3 priority 5
    const made = [
      await makeIncident(t, { impact: 1, urgency: 1 }),
      await makeIncident(t, { impact: 2, urgency: 2 }),
      await makeIncident(t, { impact: 2, urgency: 2 }),
      await makeIncident(t, { impact: 3, urgency: 3 }),
      await makeIncident(t, { impact: 1, urgency: 1 }),
      await makeIncident(t, { impact: 3, urgency: 3 }),
      await makeIncident(t, { impact: 2, urgency: 2 })
    ]
    expect(made.map(m => m.priority)).toEqual([1, 3, 3, 5, 1, 5, 3])
    const move = async (id: string, body: object) =>
      expect((await t.api('POST', `/api/v1/incidents/${id}/transitions`, { body })).statusCode).toBe(200)
    const [, , , , resolved, closed, pending] = made as { id: string }[]
    // Resolved but not closed is not open; closed is not; pending (an open-phase status pausing SLA) is
    await move(resolved!.id, { to: 'resolved', resolution: 'restarted the service' })
    await move(closed!.id, { to: 'resolved', resolution: 'replaced the disk' })
    await move(closed!.id, { to: 'closed' })
    await move(pending!.id, { to: 'pending' })
    const first = made[0] as { number: string }
    expect((await t.api('GET', `/api/v1/tickets/${first.number}`)).statusCode).toBe(200)
    expect((await t.api('GET', '/api/v1/tickets/INC-999999')).statusCode).toBe(404)
    expect((await t.api('GET', '/no/such/route')).statusCode).toBe(404)

    const res = await t.app.inject({ url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/)
    const families = parsePrometheusTextFormat(res.body)

    const requests = family(families, 'servicedesk_http_requests_total')
    expect(requests.type).toBe('COUNTER')
    const count = (route: string, status: string, method = 'GET') =>
      requests.metrics.find(
        m => m.labels?.route === route && m.labels?.status === status && m.labels?.method === method
      )?.value
    expect(count('/api/v1/tickets/:number', '200')).toBe('1')
    expect(count('/api/v1/tickets/:number', '404')).toBe('1')
    expect(count('/api/v1/incidents', '201', 'POST')).toBe('7')
    expect(count('/api/v1/incidents/:id/transitions', '200', 'POST')).toBe('4')
    expect(count('unmatched', '404')).toBe('1')
    // Never the raw ticket number as a label
    expect(requests.metrics.some(m => m.labels?.route?.includes('INC-'))).toBe(false)

    const duration = family(families, 'servicedesk_http_request_duration_seconds')
    expect(duration.type).toBe('HISTOGRAM')
    // The parser drops the labels of histogram samples: the _count line is read from the text
    expect(res.body).toMatch(
      /^servicedesk_http_request_duration_seconds_count\{method="POST",route="\/api\/v1\/incidents",status="201"\} 7$/m
    )

    const open = family(families, 'servicedesk_open_tickets')
    const byPriority = Object.fromEntries(
      open.metrics.filter(m => m.labels?.kind === 'incident').map(m => [m.labels?.priority, m.value])
    )
    // Priority 1: one open, one resolved; 3: two new and one pending; 5: one open, one closed
    expect(byPriority).toEqual({ '1': '1', '3': '3', '5': '1' })

    expect(family(families, 'servicedesk_outbox_dead').metrics[0]?.value).toBe('0')
    expect(family(families, 'servicedesk_sla_breached_clocks').metrics[0]?.value).toBe('0')
    expect(family(families, 'servicedesk_outbox_pending').type).toBe('GAUGE')
    expect(family(families, 'servicedesk_work_items_due').type).toBe('GAUGE')
    expect(family(families, 'servicedesk_work_items_oldest_due_lag_seconds').type).toBe('GAUGE')
    expect(family(families, 'servicedesk_nodejs_eventloop_lag_seconds').type).toBe('GAUGE')
    expect(family(families, 'servicedesk_process_resident_memory_bytes').type).toBe('GAUGE')
    const pool = families.find(f => f.name === 'servicedesk_db_pool_connections')
    if (t.app.database.driver === 'pg') {
      expect(pool?.metrics.map(m => m.labels?.pool)).toEqual(['primary'])
      expect(Number(pool?.metrics[0]?.value)).toBeGreaterThanOrEqual(1)
    } else expect(pool).toBeUndefined()
    // No DATABASE_READ_URL: no replica to report on
    expect(families.find(f => f.name === 'servicedesk_db_replica_lag_seconds')).toBeUndefined()
  })
})

describe('job and event ingest metrics', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await buildTestApp({ METRICS_TOKEN: TOKEN })
  })
  afterAll(async () => t?.close())

  const scrape = async () => {
    const res = await t.app.inject({ url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } })
    expect(res.statusCode).toBe(200)
    return { text: res.body, families: parsePrometheusTextFormat(res.body) }
  }

  it('counts job runs per job and outcome, failures per job, and times each run', async () => {
    const ok: PeriodicJob = {
      name: 'metrics-test-ok',
      everyMs: 3_600_000,
      run: () => new Promise(resolve => setTimeout(() => resolve({ done: true }), 40))
    }
    const boom: PeriodicJob = {
      name: 'metrics-test-boom',
      everyMs: 3_600_000,
      run: async () => {
        throw new Error('boom')
      }
    }
    const slow: PeriodicJob = {
      name: 'metrics-test-timeout',
      everyMs: 3_600_000,
      timeoutMs: 30,
      run: ({ signal }) =>
        new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason)))
    }
    const deps = { db: t.db, config: t.app.config, log: t.app.log, services: t.app.services }
    const runner = createJobRunner(deps, [ok, boom, slow], 60_000, { observe: t.app.metrics.observeJob })
    await runner.tick()

    const { text, families } = await scrape()
    const failed = family(families, 'servicedesk_jobs_failed_total')
    expect(failed.type).toBe('COUNTER')
    const failures = Object.fromEntries(failed.metrics.map(m => [m.labels?.job, m.value]))
    expect(failures).toEqual({ 'metrics-test-boom': '1', 'metrics-test-timeout': '1' })

    const runs = family(families, 'servicedesk_job_runs_total')
    const byJob = Object.fromEntries(runs.metrics.map(m => [`${m.labels?.job} ${m.labels?.outcome}`, m.value]))
    expect(byJob).toEqual({
      'metrics-test-ok ok': '1',
      'metrics-test-boom failed': '1',
      'metrics-test-timeout failed': '1'
    })

    expect(family(families, 'servicedesk_job_duration_seconds').type).toBe('HISTOGRAM')
    expect(text).toMatch(/^servicedesk_job_duration_seconds_count\{job="metrics-test-ok"\} 1$/m)
    // The ok run slept 40 ms, the timed-out one was cut at 30 ms
    const sum = (job: string) =>
      Number(new RegExp(`^servicedesk_job_duration_seconds_sum\\{job="${job}"\\} (\\S+)$`, 'm').exec(text)?.[1])
    expect(sum('metrics-test-ok')).toBeGreaterThanOrEqual(0.035)
    expect(sum('metrics-test-ok')).toBeLessThan(5)
    expect(sum('metrics-test-timeout')).toBeGreaterThanOrEqual(0.025)
  })

  it('counts ingested events by source and outcome, rejected ones included, replays not', async () => {
    const { token } = await makeIntegration(t)
    const disk = event({ source: 'zabbix-prod', fingerprint: 'metrics-disk' })
    expect((await post(t, token, '/api/v1/events', disk)).json().action).toBe('opened')
    // A repeat while firing counts on the alert; its replay under the same Idempotency-Key is not news
    const again = await post(t, token, '/api/v1/events', disk, { 'idempotency-key': 'metrics-repeat-1' })
    expect(again.json().action).toBe('deduplicated')
    const replay = await post(t, token, '/api/v1/events', disk, { 'idempotency-key': 'metrics-repeat-1' })
    expect(replay.headers['idempotent-replayed']).toBe('true')
    // A batch: a new alert from another source, a recovery of the first, and an item that does not validate
    const batch = await post(t, token, '/api/v1/events', [
      event({ source: 'nagios', fingerprint: 'metrics-ping' }),
      { ...disk, status: 'resolved', summary: 'Disk / on srv-app01 is 60% full' },
      { source: 'nagios', severity: 'apocalyptic', summary: 'no such severity' }
    ])
    expect(batch.json().items.map((i: { action: string }) => i.action)).toEqual(['opened', 'resolved', 'rejected'])
    // A single event refused as a whole (400) still counts as rejected for the source it named
    expect((await post(t, token, '/api/v1/events', { source: 'zabbix-prod', summary: 'no severity' })).statusCode).toBe(
      400
    )

    const ingested = family((await scrape()).families, 'servicedesk_events_ingested_total')
    expect(ingested.type).toBe('COUNTER')
    const counts = Object.fromEntries(ingested.metrics.map(m => [`${m.labels?.source} ${m.labels?.outcome}`, m.value]))
    expect(counts).toEqual({
      'zabbix-prod opened': '1',
      'zabbix-prod deduplicated': '1',
      'zabbix-prod resolved': '1',
      'zabbix-prod rejected': '1',
      'nagios opened': '1',
      'nagios rejected': '1'
    })
  })
})

describe('GET /metrics without a token', () => {
  let t: TestApp
  const port = randomPort()
  beforeAll(async () => {
    t = await buildTestApp({ METRICS_PORT: String(port) })
  })
  afterAll(async () => t?.close())

  it('is not on the API port, and METRICS_PORT serves it from its own listener', async () => {
    // Unknown paths answer 401 to the anonymous (the API hides what exists), 404 to a signed-in user
    expect((await t.api('GET', '/metrics')).statusCode).toBe(404)
    await t.app.listen({ port: 0, host: '127.0.0.1' })
    const res = await httpGet(port, '/metrics')
    expect(res.status).toBe(200)
    const families = parsePrometheusTextFormat(res.body)
    expect(
      family(families, 'servicedesk_http_requests_total').metrics.find(m => m.labels?.route === 'unmatched')?.value
    ).toBe('1')
    expect((await httpGet(port, '/other')).status).toBe(404)
  })
})
