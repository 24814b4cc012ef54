import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import YAML from 'yaml'
import { generateOpenapi } from '../src/openapi.js'
import { buildTestApp, type TestApp } from './helpers/app.js'

describe('openapi.yaml', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await buildTestApp()
  })
  afterAll(async () => t?.close())

  it('is what the routes generate (run `npm run openapi` when this fails)', async () => {
    const committed = readFileSync(new URL('../openapi.yaml', import.meta.url), 'utf8')
    expect(committed).toBe(await generateOpenapi())
  })

  it('documents every registered /api/v1 route', async () => {
    const spec = YAML.parse(readFileSync(new URL('../openapi.yaml', import.meta.url), 'utf8'))
    const documented = new Set<string>()
    for (const [path, ops] of Object.entries(spec.paths as Record<string, Record<string, unknown>>)) {
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

  it('is served at /openapi.json and the docs at /docs without auth', async () => {
    const spec = await t.app.inject({ method: 'GET', url: '/openapi.json' })
    expect(spec.statusCode).toBe(200)
    expect(spec.json().openapi).toBe('3.1.0')
    const docs = await t.app.inject({ method: 'GET', url: '/docs' })
    expect([200, 302]).toContain(docs.statusCode)
  })
})
