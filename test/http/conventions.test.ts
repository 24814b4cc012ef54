import type { AddressInfo } from 'node:net'
import { connect } from 'node:net'
import { gunzipSync, gzipSync } from 'node:zlib'
import type { LightMyRequestResponse } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeIncident } from '../helpers/factories.js'
import { versionOfEtag } from '../helpers/http.js'

let t: TestApp
beforeAll(async () => {
  t = await buildTestApp()
})
afterAll(async () => t?.close())

function expectProblem(res: LightMyRequestResponse, status: number, code?: string) {
  expect(res.statusCode, res.body).toBe(status)
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/)
  expect(res.headers['x-content-type-options']).toBe('nosniff')
  const body = res.json()
  expect(body).toMatchObject({ status, type: expect.any(String), title: expect.any(String) })
  if (code) expect(body.code).toBe(code)
  return body as { detail: string; code: string; instance?: string; errors?: { field: string; message: string }[] }
}

const nest = (depth: number, leaf: unknown = 1): unknown => {
  let v = leaf
  for (let i = 0; i < depth; i++) v = { a: v }
  return v
}
const deepText = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`

describe('JSON nesting is bounded at parse time (JSON_MAX_DEPTH 64)', () => {
  it('answers a body nested 5,000 levels with 400 naming the field, never a 500', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/incidents',
      headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': 'application/json' },
      payload: `{"title":"deep","customFields":${deepText(5000)}}`
    })
    const body = expectProblem(res, 400, 'BODY_TOO_DEEP')
    expect(body.errors).toEqual([{ field: 'customFields', message: 'nests deeper than 64 levels' }])
  })

  it('bounds GraphQL bodies the same way', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/graphql',
      headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': 'application/json' },
      payload: `{"query":"{ __typename }","variables":${deepText(3000)}}`
    })
    // a GraphQL error body (mercurius answers its own door), never data, never a 5xx
    expect(res.statusCode).toBeLessThan(500)
    const body = res.json()
    expect(body.data ?? null).toBeNull()
    expect(JSON.stringify(body)).toContain('BODY_TOO_DEEP')
    expect(JSON.stringify(body)).toContain('variables')
  })

  it('does not count brackets inside strings', async () => {
    const res = await t.api('POST', '/api/v1/incidents', {
      body: { title: 'braces', description: `${'{['.repeat(400)} "\\" ${'}'.repeat(100)}` }
    })
    expect(res.statusCode, res.body).toBe(201)
  })

  it('rejects a too-deep event alone, with its index, and accepts the rest of the batch', async () => {
    const ok = (n: number) => ({ source: 'deep-test', fingerprint: `fp-${n}`, severity: 'warning', summary: `ok ${n}` })
    const res = await t.api('POST', '/api/v1/events', {
      body: [ok(1), { ...ok(2), details: nest(40) }, ok(3)]
    })
    expect(res.statusCode, res.body).toBe(202)
    const out = res.json()
    expect(out).toMatchObject({ accepted: 2, rejected: 1 })
    expect(out.items[1]).toMatchObject({ index: 1, status: 'rejected' })
    expect(out.items[1].errors).toEqual([{ field: '[1].details', message: 'nests deeper than 32 levels' }])
    expect(out.items[0].status).toBe('accepted')
    expect(out.items[2].status).toBe('accepted')
  })

  it('names the item of a batch nested past the body bound', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/events',
      headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': 'application/json' },
      payload: `[{"source":"x","fingerprint":"y","severity":"info","summary":"s"},{"details":${deepText(5000)}}]`
    })
    const body = expectProblem(res, 400, 'BODY_TOO_DEEP')
    expect(body.errors?.[0]?.field).toBe('[1].details')
  })
})

describe('ETags follow the representation', () => {
  it('changes the ETag when linking a problem changes the incident, and answers If-None-Match with 304', async () => {
    const inc = await makeIncident(t)
    const first = await t.api('GET', `/api/v1/incidents/${inc.id}`)
    const tag = first.headers.etag as string
    expect(versionOfEtag(tag)).toBe(inc.version)

    const same = await t.api('GET', `/api/v1/incidents/${inc.id}`, { headers: { 'if-none-match': tag } })
    expect(same.statusCode).toBe(304)
    expect(same.body).toBe('')
    expect(same.headers.etag).toBe(tag)
    const weak = await t.api('GET', `/api/v1/incidents/${inc.id}`, { headers: { 'if-none-match': `"x", W/${tag}` } })
    expect(weak.statusCode).toBe(304)

    const problem = await t.api('POST', '/api/v1/problems', { body: { title: 'Root cause' } })
    expect(problem.statusCode, problem.body).toBe(201)
    const link = await t.api('POST', `/api/v1/problems/${problem.json().id}/incidents`, {
      body: { incidentIds: [inc.id] }
    })
    expect(link.statusCode, link.body).toBeLessThan(300)

    const after = await t.api('GET', `/api/v1/incidents/${inc.id}`, { headers: { 'if-none-match': tag } })
    expect(after.statusCode).toBe(200)
    expect(after.json().problemId).toBe(problem.json().id)
    expect(after.headers.etag).not.toBe(tag)

    // If-Match still takes the ETag as read, fresh or from before the link (the version part decides)
    const patched = await t.api('PATCH', `/api/v1/incidents/${inc.id}`, {
      body: { title: 'Renamed' },
      headers: { 'if-match': after.headers.etag as string }
    })
    expect(patched.statusCode, patched.body).toBe(200)
    expect(versionOfEtag(patched.headers.etag)).toBe(versionOfEtag(tag) + 1)
    const stale = await t.api('PATCH', `/api/v1/incidents/${inc.id}`, {
      body: { title: 'Again' },
      headers: { 'if-match': tag }
    })
    expect(stale.statusCode).toBe(412)
  })
})

describe('compression and content encodings', () => {
  it('compresses /openapi.json when the client accepts gzip', async () => {
    const res = await t.app.inject({ url: '/openapi.json', headers: { 'accept-encoding': 'gzip' } })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-encoding']).toBe('gzip')
    const plain = gunzipSync(res.rawPayload).toString('utf8')
    expect(JSON.parse(plain).openapi).toMatch(/^3\./)
    expect(res.rawPayload.length).toBeLessThan(plain.length / 4)
    const raw = await t.app.inject({ url: '/openapi.json' })
    expect(raw.headers['content-encoding']).toBeUndefined()
  })

  it('answers a Content-Encoding it does not take with 415, and takes a gzip body', async () => {
    const headers = { authorization: `Bearer ${t.adminToken}`, 'content-type': 'application/json' }
    const body = JSON.stringify({ title: 'Compressed request' })
    const odd = await t.app.inject({
      method: 'POST',
      url: '/api/v1/incidents',
      headers: { ...headers, 'content-encoding': 'x-snappy' },
      payload: body
    })
    expectProblem(odd, 415, 'UNSUPPORTED_CONTENT_ENCODING')
    const gz = await t.app.inject({
      method: 'POST',
      url: '/api/v1/incidents',
      headers: { ...headers, 'content-encoding': 'gzip' },
      payload: gzipSync(body)
    })
    expect(gz.statusCode, gz.body).toBe(201)
    expect(gz.json().title).toBe('Compressed request')
    const broken = await t.app.inject({
      method: 'POST',
      url: '/api/v1/incidents',
      headers: { ...headers, 'content-encoding': 'gzip' },
      payload: body
    })
    expectProblem(broken, 400)
  })
})

describe('errors are problem+json, never echo the URL', () => {
  it('answers a method the path does not have with 405 and Allow', async () => {
    const res = await t.api('PUT', '/api/v1/incidents')
    const body = expectProblem(res, 405, 'METHOD_NOT_ALLOWED')
    const allow = String(res.headers.allow).split(', ')
    expect(allow).toEqual(expect.arrayContaining(['GET', 'HEAD', 'POST']))
    expect(allow).not.toContain('PUT')
    expect(body.detail).not.toContain('/api/v1')
    const item = await t.api('POST', '/api/v1/incidents/00000000-0000-4000-8000-000000000000')
    expectProblem(item, 405)
    expect(String(item.headers.allow)).toContain('PATCH')
    expectProblem(await t.api('GET', '/api/v1/no-such-thing'), 404, 'ROUTE_NOT_FOUND')
  })

  it('answers an over-long path parameter with 414 and a bad URL with 400, without the URL', async () => {
    const marker = `<script>${'x'.repeat(300)}`
    const long = await t.api('GET', `/api/v1/incidents/${encodeURIComponent(marker)}`)
    const body = expectProblem(long, 414, 'URI_TOO_LONG')
    expect(long.body).not.toContain('script')
    expect(body.instance).toMatch(/^urn:servicedesk:request:/)
    const bad = await t.api('GET', '/api/v1/incidents/%E0%A4%A<b>')
    expectProblem(bad, 400, 'BAD_URL')
    expect(bad.body).not.toContain('<b>')
    const missing = await t.api('GET', '/api/v1/<i>nothing')
    expect(missing.body).not.toContain('<i>')
  })

  it('answers headers too large for the HTTP parser with 431 problem+json on a real socket', async () => {
    await t.app.listen({ port: 0, host: '127.0.0.1' })
    const { port } = t.app.server.address() as AddressInfo
    const raw = await new Promise<string>(resolve => {
      let data = ''
      const sock = connect(port, '127.0.0.1', () => {
        sock.write(`GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`)
      })
      sock.on('data', d => {
        data += String(d)
      })
      sock.on('error', () => {})
      sock.on('close', () => resolve(data))
    })
    expect(raw).toMatch(/^HTTP\/1\.1 431 /)
    expect(raw).toContain('application/problem+json')
    expect(raw.toLowerCase()).toContain('x-content-type-options: nosniff')
    expect(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)).code).toBe('HEADERS_TOO_LARGE')
  })

  it('answers a body over the limit with 413 problem+json', async () => {
    const res = await t.api('POST', '/api/v1/incidents', { body: { title: 'big', description: 'x'.repeat(1_100_000) } })
    expectProblem(res, 413)
  })

  it('answers directory sync without LDAP_URL with a 4xx naming the setting', async () => {
    const res = await t.api('POST', '/api/v1/directory/sync')
    const body = expectProblem(res, 409, 'FEATURE_NOT_CONFIGURED')
    expect(body.detail).toMatch(/LDAP_URL/)
    const gql = await t.gql('mutation { syncDirectory { created } }')
    expect(gql.body.errors?.[0]?.extensions?.code).toBe('FEATURE_NOT_CONFIGURED')
  })
})

describe('CORS', () => {
  it('sends no CORS headers when CORS_ORIGINS is unset', async () => {
    const res = await t.app.inject({ url: '/health', headers: { origin: 'https://console.example.com' } })
    expect(res.headers['access-control-allow-origin']).toBeUndefined()
  })

  let c: TestApp
  beforeAll(async () => {
    c = await buildTestApp({ CORS_ORIGINS: 'https://console.example.com, https://portal.example.com' })
  })
  afterAll(async () => c?.close())

  it('answers preflights before authentication and exposes the headers front ends read', async () => {
    {
      const pre = await c.app.inject({
        method: 'OPTIONS',
        url: '/api/v1/incidents/00000000-0000-4000-8000-000000000000',
        headers: {
          origin: 'https://portal.example.com',
          'access-control-request-method': 'PATCH',
          'access-control-request-headers': 'authorization, if-match, content-type'
        }
      })
      expect(pre.statusCode).toBe(204)
      expect(pre.headers['access-control-allow-origin']).toBe('https://portal.example.com')
      expect(String(pre.headers['access-control-allow-methods'])).toContain('PATCH')
      const allowed = String(pre.headers['access-control-allow-headers']).toLowerCase()
      for (const h of ['authorization', 'content-type', 'if-match', 'if-none-match', 'idempotency-key']) {
        expect(allowed).toContain(h)
      }
      const got = await c.api('GET', '/api/v1/incidents', { headers: { origin: 'https://console.example.com' } })
      expect(got.statusCode).toBe(200)
      expect(got.headers['access-control-allow-origin']).toBe('https://console.example.com')
      const exposed = String(got.headers['access-control-expose-headers']).toLowerCase()
      for (const h of ['etag', 'location', 'retry-after', 'idempotent-replayed', 'x-request-id']) {
        expect(exposed).toContain(h)
      }
      const stranger = await c.api('GET', '/api/v1/incidents', { headers: { origin: 'https://evil.example.net' } })
      expect(stranger.headers['access-control-allow-origin']).toBeUndefined()
    }
  })
})
