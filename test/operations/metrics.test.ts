import parsePrometheusTextFormat, { type PrometheusFamily } from 'parse-prometheus-text-format'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
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
      await makeIncident(t, { impact: 3, urgency: 3 })
    ]
    expect(made.map(m => m.priority)).toEqual([1, 3, 3, 5])
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
    expect(count('/api/v1/incidents', '201', 'POST')).toBe('4')
    expect(count('unmatched', '404')).toBe('1')
    // Never the raw ticket number as a label
    expect(requests.metrics.some(m => m.labels?.route?.includes('INC-'))).toBe(false)

    const duration = family(families, 'servicedesk_http_request_duration_seconds')
    expect(duration.type).toBe('HISTOGRAM')
    // The parser drops the labels of histogram samples: the _count line is read from the text
    expect(res.body).toMatch(
      /^servicedesk_http_request_duration_seconds_count\{method="POST",route="\/api\/v1\/incidents",status="201"\} 4$/m
    )

    const open = family(families, 'servicedesk_open_tickets')
    const byPriority = Object.fromEntries(
      open.metrics.filter(m => m.labels?.kind === 'incident').map(m => [m.labels?.priority, m.value])
    )
    expect(byPriority).toEqual({ '1': '1', '3': '2', '5': '1' })

    expect(family(families, 'servicedesk_outbox_dead').metrics[0]?.value).toBe('0')
    expect(family(families, 'servicedesk_sla_breached_clocks').metrics[0]?.value).toBe('0')
    expect(family(families, 'servicedesk_outbox_pending').type).toBe('GAUGE')
    expect(family(families, 'servicedesk_work_items_due').type).toBe('GAUGE')
    expect(family(families, 'servicedesk_work_items_oldest_due_lag_seconds').type).toBe('GAUGE')
    expect(family(families, 'servicedesk_nodejs_eventloop_lag_seconds').type).toBe('GAUGE')
    expect(family(families, 'servicedesk_process_resident_memory_bytes').type).toBe('GAUGE')
    const pool = families.find(f => f.name === 'servicedesk_db_pool_connections')
    if (t.app.database.driver === 'pg') expect(Number(pool?.metrics[0]?.value)).toBeGreaterThanOrEqual(1)
    else expect(pool).toBeUndefined()
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
