import type autocannon from 'autocannon'
import type { Load } from './load.js'
import { type BenchData, SITE_FIELD } from './seed.js'
import { settings } from './settings.js'

/** Events per batch request, batch senders at once, and how many fingerprints the events spread over. */
const EVENT_BATCH = 1000
const EVENT_BATCH_CONNECTIONS = 4
const EVENT_FINGERPRINTS = 2000

export type CeilingKey = 'json' | 'insert' | 'pk' | 'keyset'
export type AppKey =
  | 'create'
  | 'createSla'
  | 'get'
  | 'list'
  | 'graphql'
  | 'search'
  | 'bulk'
  | 'eventsBatch'
  | 'eventsSingle'

/** The rows of the report: an app scenario beside the ceiling it is compared with. */
export const ROWS: { scenario: string; app: AppKey | null; ceiling: CeilingKey | null; aim: number | null }[] = [
  { scenario: 'small JSON (bare Fastify)', app: null, ceiling: 'json', aim: null },
  { scenario: 'create incident (REST)', app: 'create', ceiling: 'insert', aim: 0.7 },
  { scenario: 'create incident with SLA clocks (REST)', app: 'createSla', ceiling: 'insert', aim: 0.6 },
  { scenario: 'get incident (REST)', app: 'get', ceiling: 'pk', aim: 0.75 },
  { scenario: 'list 50 in_progress (REST)', app: 'list', ceiling: 'keyset', aim: 0.65 },
  { scenario: 'get incident (GraphQL)', app: 'graphql', ceiling: 'pk', aim: 0.65 },
  { scenario: 'full-text search, 50 newest (REST)', app: 'search', ceiling: null, aim: null },
  { scenario: 'bulk update 1,000 tickets (REST)', app: 'bulk', ceiling: null, aim: null },
  { scenario: `events, batches of ${EVENT_BATCH} (20% re-sent)`, app: 'eventsBatch', ceiling: null, aim: null },
  { scenario: 'events, one per request (20% re-sent)', app: 'eventsSingle', ceiling: null, aim: null }
]

/** Event ingest is judged in events per second (aims from the seams issue, #9). */
export const EVENT_AIMS: Partial<Record<AppKey, { perRequest: number; aim: number }>> = {
  eventsBatch: { perRequest: EVENT_BATCH, aim: 10_000 },
  eventsSingle: { perRequest: 1, aim: 1500 }
}

export const CEILING_NAMES: Record<CeilingKey, string> = {
  json: '(a) small JSON',
  insert: '(b) pg INSERT',
  pk: '(c) pg PK SELECT',
  keyset: '(d) pg keyset 50'
}

/** Reads before writes, each ceiling just before the app scenarios it bounds (same table state). */
export const ORDER: ({ ceiling: CeilingKey } | { app: AppKey })[] = [
  { ceiling: 'json' },
  { ceiling: 'pk' },
  { app: 'get' },
  { app: 'graphql' },
  { ceiling: 'keyset' },
  { app: 'list' },
  { app: 'search' },
  { ceiling: 'insert' },
  { app: 'create' },
  { app: 'createSla' },
  { app: 'bulk' },
  { app: 'eventsBatch' },
  { app: 'eventsSingle' }
]

/** Bulk requests in flight at once: each locks 1,000 rows, so a few clients, not fifty. */
const BULK_CONNECTIONS = 4

/**
 * Monitoring events as senders deliver them: most repeat a fingerprint that already has an open incident
 * (a monitor re-notifies while a problem lasts), new fingerprints open incidents, and one event in five is
 * an exact re-send of an earlier one (same event id: a retry or an HA twin) that must count nothing.
 */
function eventBodies(batch: number): () => string {
  let seq = 0
  let picks = 0
  const run = Date.now().toString(36)
  const recent: object[] = []
  return () => {
    const items: object[] = []
    for (let i = 0; i < batch; i++) {
      if (recent.length >= 50 && picks++ % 5 === 0) {
        items.push(recent[(picks * 7919) % recent.length]!)
        continue
      }
      const n = seq++
      const host = `bench-host-${n % EVENT_FINGERPRINTS}`
      const e = {
        source: 'bench-monitor',
        eventId: `${run}-${n}`,
        fingerprint: `bench-fp-${n % EVENT_FINGERPRINTS}`,
        family: 'NodeFilesystemAlmostFull',
        severity: n % 3 === 0 ? 'critical' : 'warning',
        summary: `${settings.writeMarker}: filesystem / on ${host} is almost full`,
        labels: { alertname: 'NodeFilesystemAlmostFull', instance: `${host}:9100`, mountpoint: '/' }
      }
      if (recent.length < 1000) recent.push(e)
      else recent[n % 1000] = e
      items.push(e)
    }
    return JSON.stringify(batch === 1 ? items[0] : items)
  }
}

const STATUS = 'in_progress'
const JSON_HEADERS = { 'content-type': 'application/json' }
const GRAPHQL_GET = 'query($id: ID!){ incident(id:$id){ id number title status priority createdAt } }'

/** A few different create bodies, cycled; every title starts with the marker the clean-up looks for. */
const createBodies = [
  { title: 'VPN drops every few minutes', impact: 2, urgency: 2 },
  { title: 'Printer on floor 3 jams on every job', impact: 3, urgency: 2 },
  { title: 'Cannot open the payroll application', impact: 1, urgency: 2 },
  { title: 'Outlook keeps asking for my password', impact: 2, urgency: 1 }
].map(b =>
  JSON.stringify({
    ...b,
    title: `${settings.writeMarker}: ${b.title}`,
    description: `${b.title}. It started after the last update and happens to several colleagues as well.`
  })
)

export function ceilingLoads(url: string, ids: string[]): Record<CeilingKey, Load> {
  return {
    json: { url, requests: [{ method: 'GET', path: '/json' }] },
    insert: {
      url,
      requests: createBodies.map(body => ({ method: 'POST', path: '/incidents', headers: JSON_HEADERS, body }))
    },
    pk: { url, requests: ids.map(id => ({ method: 'GET', path: `/incidents/${id}` })) },
    keyset: { url, requests: [{ method: 'GET', path: `/incidents?status=${STATUS}&limit=50` }] }
  }
}

/**
 * Bodies of the bulk scenario, one per request from a shared counter: request k takes chunk
 * k mod n (chunks are disjoint, so the few requests in flight never wait on each other's locks) and
 * alternates per round between moving the chunk to the other layer of the bench team and giving it a
 * new site, so every request changes all 1,000 tickets (the seed puts the chunks on layer 2 first).
 */
function bulkBodies(data: BenchData): () => string {
  let k = 0
  const run = Date.now().toString(36)
  return () => {
    const n = k++
    const round = Math.floor(n / data.chunks.length)
    const ids = data.chunks[n % data.chunks.length]!
    const set =
      round % 2 === 0
        ? { teamId: data.teamId, layer: round % 4 === 0 ? 1 : 2 }
        : { customFields: { [SITE_FIELD]: `site-${run}-${n}` } }
    return JSON.stringify({ ids, set })
  }
}

export function appLoads(url: string, token: string, data: BenchData): Record<AppKey, Load> {
  const { ids } = data
  const auth = { authorization: `Bearer ${token}` }
  const post = { ...auth, ...JSON_HEADERS }
  const nextBulk = bulkBodies(data)
  const nextBatch = eventBodies(EVENT_BATCH)
  const nextEvent = eventBodies(1)
  const events = (connections: number | undefined, next: () => string, accept: (body: string) => boolean): Load => ({
    url,
    ...(connections ? { connections } : {}),
    requests: [
      {
        method: 'POST',
        path: '/api/v1/events',
        headers: post,
        setupRequest: (req: autocannon.Request) => ({ ...req, body: next() })
      }
    ],
    accept
  })
  return {
    eventsBatch: events(EVENT_BATCH_CONNECTIONS, nextBatch, body => body.includes(`"accepted":${EVENT_BATCH},`)),
    eventsSingle: events(undefined, nextEvent, body => body.includes('"status":"accepted"')),
    create: {
      url,
      requests: createBodies.map(body => ({ method: 'POST', path: '/api/v1/incidents', headers: post, body }))
    },
    // The same bodies naming the bench service: its SLA starts two clocks, their timers and a threshold
    createSla: {
      url,
      requests: createBodies.map(body => ({
        method: 'POST',
        path: '/api/v1/incidents',
        headers: post,
        body: JSON.stringify({ ...JSON.parse(body), serviceId: data.slaServiceId })
      })),
      accept: body => body.includes('"state":"running"')
    },
    get: { url, requests: ids.map(id => ({ method: 'GET', path: `/api/v1/incidents/${id}`, headers: auth })) },
    list: {
      url,
      requests: [{ method: 'GET', path: `/api/v1/incidents?status=${STATUS}&limit=50`, headers: auth }]
    },
    graphql: {
      url,
      requests: ids.map(id => ({
        method: 'POST',
        path: '/graphql',
        headers: post,
        body: JSON.stringify({ query: GRAPHQL_GET, variables: { id } })
      })),
      // GraphQL answers 200 even when the resolver failed
      accept: body => !body.includes('"errors"') && body.includes('"incident":{')
    },
    search: {
      url,
      requests: data.words.map(w => ({
        method: 'GET',
        path: `/api/v1/incidents?q=${encodeURIComponent(w.word)}`,
        headers: auth
      }))
    },
    bulk: {
      url,
      connections: BULK_CONNECTIONS,
      requests: [
        {
          method: 'POST',
          path: '/api/v1/tickets/bulk',
          headers: post,
          setupRequest: (req: autocannon.Request) => ({ ...req, body: nextBulk() })
        }
      ],
      accept: body => body.includes('"updated":1000,')
    }
  }
}

/** One request of a load, checked by hand before any timing: a wrong route or token fails fast. */
export async function probe(name: string, load: Load): Promise<void> {
  const first = load.requests[0]!
  const r = typeof first.setupRequest === 'function' ? first.setupRequest({ ...first }, {}) : first
  const res = await fetch(load.url + r.path, {
    method: r.method ?? 'GET',
    headers: (r.headers ?? {}) as Record<string, string>,
    ...(r.body !== undefined ? { body: String(r.body) } : {})
  })
  const body = await res.text()
  if (!res.ok || (load.accept && !load.accept(body))) {
    throw new Error(`${name}: ${r.method} ${r.path} answered ${res.status}: ${body.slice(0, 300)}`)
  }
}

/** Signs in as the bootstrap admin; answers the bearer token. */
export async function login(url: string): Promise<string> {
  const res = await fetch(`${url}/api/v1/auth/login`, {
    method: 'POST',
    headers: JSON_HEADERS,
    body: JSON.stringify(settings.admin)
  })
  const body = (await res.json()) as { token?: string }
  if (!res.ok || !body.token) {
    throw new Error(`login as ${settings.admin.username} failed (${res.status}): ${JSON.stringify(body)}`)
  }
  return body.token
}
