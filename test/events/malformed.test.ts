import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import {
  alertmanagerFiring,
  grafanaFiring,
  notifyItsmProblem,
  pagerdutyTrigger,
  zabbixAnsible,
  zabbixItsmProblem
} from './fixtures.js'
import { event, makeIntegration } from './helpers.js'

let t: TestApp
let token: string

beforeAll(async () => {
  t = await buildTestApp()
  token = (await makeIntegration(t)).token
})
afterAll(async () => t.close())

/** Values that break naive parsers: wrong types, empties, deep nesting, prototype keys, odd numbers. */
const HOSTILE: unknown[] = [
  null,
  true,
  0,
  -1,
  1e308,
  '',
  ' ',
  '{EVENT.ID}',
  'x'.repeat(5000),
  '\u0000nul',
  '<script>alert(1)</script>',
  "'; drop table tickets; --",
  [],
  [null],
  {},
  { __proto__: { polluted: true } },
  JSON.parse('{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}'),
  (() => {
    let deep: unknown = 'bottom'
    for (let i = 0; i < 200; i++) deep = { a: deep }
    return deep
  })()
]

const ROUTES: [string, Record<string, unknown>][] = [
  ['/api/v1/events', event() as Record<string, unknown>],
  ['/api/v1/events/alertmanager', alertmanagerFiring],
  ['/api/v1/events/grafana', grafanaFiring],
  ['/api/v1/events/zabbix', zabbixAnsible],
  ['/api/v1/events/zabbix', zabbixItsmProblem],
  ['/api/v1/events/nagios', { ...notifyItsmProblem, problem_id: '184213' }],
  ['/api/v1/events/icinga', notifyItsmProblem],
  ['/api/v1/events/pagerduty', pagerdutyTrigger]
]

/** Every top-level field of a valid body replaced by every hostile value, and whole-body garbage. */
function* mutations(body: Record<string, unknown>) {
  for (const value of HOSTILE) yield value
  for (const key of Object.keys(body)) for (const value of HOSTILE) yield { ...body, [key]: value }
  const alerts = body.alerts as Record<string, unknown>[] | undefined
  if (alerts?.[0]) {
    for (const key of Object.keys(alerts[0])) {
      for (const value of HOSTILE) yield { ...body, alerts: [{ ...alerts[0], [key]: value }, alerts[1] ?? alerts[0]] }
    }
  }
}

describe('malformed payloads on every ingest route', () => {
  it.each(ROUTES)(
    '%s never answers 5xx; every 4xx is problem+json',
    async (url, body) => {
      let n = 0
      for (const payload of mutations(body)) {
        const res = await t.app.inject({
          method: 'POST',
          url,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          payload: JSON.stringify(payload)
        })
        n++
        expect(
          res.statusCode,
          `${url} ${JSON.stringify(payload).slice(0, 200)} → ${res.body.slice(0, 300)}`
        ).toBeLessThan(500)
        if (res.statusCode >= 400) expect(res.headers['content-type']).toMatch(/application\/problem\+json/)
        else expect(res.statusCode).toBe(202)
      }
      expect(n).toBeGreaterThan(HOSTILE.length)
      expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    },
    120_000
  )
})

describe('NUL bytes', () => {
  it('a NUL in one alert of an Alertmanager group is dropped, not a reason to refuse the group', async () => {
    const [first, second] = alertmanagerFiring.alerts
    const body = {
      ...alertmanagerFiring,
      alerts: [
        {
          ...first,
          labels: { ...first!.labels, instance: 'nul-host:9100' },
          fingerprint: undefined,
          annotations: { ...first!.annotations, summary: 'disk\u0000full', description: 'a\u0000b' }
        },
        { ...second, labels: { ...second!.labels, instance: 'nul-host-2:9100' }, fingerprint: undefined }
      ]
    }
    const res = await t.api('POST', '/api/v1/events/alertmanager', { token, body })
    expect(res.statusCode, res.body).toBe(202)
    expect(res.json()).toMatchObject({ accepted: 2, rejected: 0 })
    const incident = (await t.api('GET', `/api/v1/incidents/${res.json().items[0].incidentId}`)).json()
    expect(incident.title).toBe('diskfull')
  })
})
