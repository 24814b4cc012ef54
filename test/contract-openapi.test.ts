import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import YAML from 'yaml'
import { generateOpenapi } from '../src/openapi.js'
import { TAGS } from '../src/plugins/openapi-document.js'
import { buildTestApp, type TestApp } from './helpers/app.js'
import { makeIncident } from './helpers/factories.js'
import { loadSchema } from './helpers/graphql.js'

interface Parameter {
  in: string
  name: string
  schema?: { pattern?: string; minLength?: number; maxLength?: number }
}
interface Operation {
  operationId?: string
  summary?: string
  description?: string
  tags?: string[]
  parameters?: Parameter[]
  responses: Record<string, unknown>
}
interface Spec {
  tags?: { name: string; description?: string }[]
  paths: Record<string, Record<string, Operation>>
}

let parsed: Spec | undefined
/** openapi.yaml parsed once (it is large) */
const spec = (): Spec => {
  parsed ??= YAML.parse(readFileSync(new URL('../openapi.yaml', import.meta.url), 'utf8')) as Spec
  return parsed
}
const operations = (doc: Spec) =>
  Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({ route: `${method.toUpperCase()} ${path}`, op }))
  )

/**
 * GraphQL fields no single REST operation carries: REST has them once per ticket kind
 * (`addIncidentLink`, …, `decideChangeApproval`, `decideRequestApproval`). Every other Query and
 * Mutation field must be the operationId of its REST twin; a field that truly has none goes here.
 */
const GRAPHQL_ONLY = new Set([
  'linkTickets',
  'unlinkTickets',
  'decideApproval',
  // One field for every kind, twin of the per-kind /{collection}/{id}/watchers routes
  'ticketWatchers',
  'watchTicket',
  'unwatchTicket'
])

describe('openapi.yaml', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await buildTestApp()
    spec()
  })
  afterAll(async () => t?.close())

  it('is what the routes generate (run `npm run openapi` when this fails)', async () => {
    const committed = readFileSync(new URL('../openapi.yaml', import.meta.url), 'utf8')
    expect(committed).toBe(await generateOpenapi())
  }, 120_000)

  it('documents every registered /api/v1 route', async () => {
    const documented = new Set<string>()
    for (const [path, ops] of Object.entries(spec().paths)) {
      for (const method of Object.keys(ops)) documented.add(`${method.toUpperCase()} ${path}`)
    }
    const routes = t.app
      .printRoutes({ commonPrefix: false })
      .split('\n')
      .filter(l => l.includes('/api/v1'))
    expect(routes.length).toBeGreaterThan(0)
    for (const key of [
      'POST /api/v1/incidents',
      'GET /api/v1/incidents',
      'GET /api/v1/incidents/{id}',
      'PATCH /api/v1/incidents/{id}',
      'POST /api/v1/incidents/{id}/transitions',
      'POST /api/v1/incidents/{id}/notes',
      'GET /api/v1/incidents/{id}/history',
      'GET /api/v1/tickets/{number}',
      'POST /api/v1/auth/login'
    ]) {
      expect(documented).toContain(key)
    }
  })

  it('names every operation once, in camelCase, with a tag and a description', () => {
    const doc = spec()
    const missing: string[] = []
    const seen = new Map<string, string>()
    for (const { route, op } of operations(doc)) {
      if (!op.operationId || !/^[a-z][a-zA-Z0-9]*$/.test(op.operationId))
        missing.push(`${route}: operationId ${op.operationId}`)
      else if (seen.has(op.operationId))
        missing.push(`${route}: operationId ${op.operationId} is also ${seen.get(op.operationId)}`)
      else seen.set(op.operationId, route)
      if (!op.tags?.length) missing.push(`${route}: no tag (declare schema.tags on the route)`)
      if (!op.description?.trim()) missing.push(`${route}: no description (declare schema.summary on the route)`)
    }
    expect(missing, missing.join('\n')).toEqual([])
  })

  it('lists every tag at the top with a description', () => {
    const doc = spec()
    const used = new Set(operations(doc).flatMap(({ op }) => op.tags ?? []))
    const top = new Map((doc.tags ?? []).map(t => [t.name, t.description]))
    const undescribed = [...used].filter(t => !top.get(t)?.trim())
    expect(undescribed, `add these to TAGS in src/plugins/openapi-document.ts: ${undescribed}`).toEqual([])
    expect([...top.keys()].every(t => used.has(t) && TAGS[t])).toBe(true)
  })

  it('uses the GraphQL field name as the operationId of each REST twin', () => {
    const ids = new Map(operations(spec()).map(({ route, op }) => [op.operationId, route]))
    const schema = loadSchema()
    const fields = ['Query', 'Mutation'].flatMap(root =>
      Object.keys((schema.getType(root) as { getFields(): Record<string, unknown> }).getFields())
    )
    const unmatched = fields.filter(f => !GRAPHQL_ONLY.has(f) && !ids.has(f))
    expect(unmatched, 'GraphQL fields without a REST operation of that name').toEqual([])
    // and the twins are the operations the names promise
    expect(
      Object.fromEntries(['createIncident', 'incidents', 'incident', 'updateIncident'].map(f => [f, ids.get(f)]))
    ).toEqual({
      createIncident: 'POST /api/v1/incidents',
      incidents: 'GET /api/v1/incidents',
      incident: 'GET /api/v1/incidents/{id}',
      updateIncident: 'PATCH /api/v1/incidents/{id}'
    })
    expect(ids.get('assignIncident')).toBe('PUT /api/v1/incidents/{id}/assignment')
    expect(ids.get('transitionIncident')).toBe('POST /api/v1/incidents/{id}/transitions')
    expect(ids.get('addIncidentNote')).toBe('POST /api/v1/incidents/{id}/notes')
    expect(ids.get('updateRequestTask')).toBe('PATCH /api/v1/requests/{id}/tasks/{taskId}')
    expect(ids.get('removeTeamMember')).toBe('DELETE /api/v1/teams/{id}/members/{userId}')
    expect(ids.get('rotateApiToken')).toBe('POST /api/v1/api-tokens/{id}/rotate')
    expect(ids.get('ticket')).toBe('GET /api/v1/tickets/{number}')
    expect(ids.get('me')).toBe('GET /api/v1/auth/me')
    for (const f of GRAPHQL_ONLY) expect(fields, `${f} left schema.graphql: drop it from GRAPHQL_ONLY`).toContain(f)
  })

  it('declares the header rules the server enforces, and 428 with If-Match', () => {
    const problems: string[] = []
    for (const { route, op } of operations(spec())) {
      const headers = (op.parameters ?? []).filter(p => p.in === 'header')
      for (const h of headers) {
        if (
          /^idempotency-key$/i.test(h.name) &&
          (h.name !== 'Idempotency-Key' || !h.schema?.pattern || h.schema.maxLength !== 255)
        )
          problems.push(`${route}: ${h.name} without its rule`)
        if (/^if-match$/i.test(h.name) && (h.name !== 'If-Match' || !h.schema?.pattern))
          problems.push(`${route}: ${h.name} without its rule`)
      }
      if (op.responses['428'] && !headers.some(h => h.name === 'If-Match'))
        problems.push(`${route}: 428 without If-Match`)
    }
    expect(problems, problems.join('\n')).toEqual([])
    const patch = spec().paths['/api/v1/incidents/{id}']!.patch!
    expect(patch.responses).toHaveProperty('428')
    expect(spec().paths['/api/v1/incidents']!.post!.parameters?.map(p => p.name)).toContain('Idempotency-Key')
    expect(spec().paths['/graphql']!.post!.parameters?.map(p => p.name)).toContain('Idempotency-Key')
  })

  it('answers as the declared header rules say', async () => {
    const doc = spec()
    const keyRule = new RegExp(
      doc.paths['/api/v1/incidents']!.post!.parameters!.find(p => p.name === 'Idempotency-Key')!.schema!.pattern!
    )
    const post = (key: string) =>
      t.api('POST', '/api/v1/incidents', { body: { title: 'Header rules' }, headers: { 'idempotency-key': key } })
    for (const key of ['k', '~!x'.repeat(85), 'a'.repeat(255)]) {
      expect(keyRule.test(key)).toBe(true)
      expect((await post(key)).statusCode).toBe(201)
    }
    for (const key of ['a'.repeat(256), 'with space', 'caf\u00e9']) {
      expect(keyRule.test(key)).toBe(false)
      expect((await post(key)).statusCode).toBe(400)
    }

    const ifMatchRule = new RegExp(
      doc.paths['/api/v1/incidents/{id}']!.patch!.parameters!.find(p => p.name === 'If-Match')!.schema!.pattern!
    )
    const incident = await makeIncident(t)
    const patch = (headers: Record<string, string>) =>
      t.api('PATCH', `/api/v1/incidents/${incident.id}`, { body: { title: 'Renamed' }, headers })
    // neither If-Match nor version: 428, as the document declares
    const required = await patch({})
    expect(required.statusCode).toBe(428)
    expect(doc.paths['/api/v1/incidents/{id}']!.patch!.responses).toHaveProperty('428')
    for (const bad of ['banana', '"1', '*', 'W/1x']) {
      expect(ifMatchRule.test(bad)).toBe(false)
      expect((await patch({ 'if-match': bad })).statusCode).toBe(400)
    }
    expect(ifMatchRule.test('W/"1"')).toBe(true)
    expect((await patch({ 'if-match': 'W/"1"' })).statusCode).toBe(200)
    expect(ifMatchRule.test('"2"')).toBe(true)
    expect((await patch({ 'if-match': '"2"' })).statusCode).toBe(200)
  })

  it('is served at /openapi.json and the docs at /docs without auth', async () => {
    const spec = await t.app.inject({ method: 'GET', url: '/openapi.json' })
    expect(spec.statusCode).toBe(200)
    expect(spec.json().openapi).toBe('3.1.0')
    expect(spec.json().paths['/api/v1/incidents'].post.operationId).toBe('createIncident')
    expect(spec.json().tags.length).toBeGreaterThan(10)
    const docs = await t.app.inject({ method: 'GET', url: '/docs' })
    expect([200, 302]).toContain(docs.statusCode)
  })
})
