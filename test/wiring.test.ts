import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../src/config.js'
import type { Deps } from '../src/lib/context.js'
import { provide, WiringError } from '../src/lib/ports.js'
import { modules } from '../src/modules/index.js'
import type { ModuleManifest } from '../src/modules/manifest.js'
import { createWorkflowService } from '../src/modules/workflows/workflows.service.js'
import { createServices } from '../src/services.js'
import { createTestDatabase, type TestDatabase } from './helpers/db.js'

/** The service assembly from the module manifests: every declared port built, bad wiring refused at start. */
describe('module wiring', () => {
  let testDb: TestDatabase
  let deps: Deps
  beforeAll(async () => {
    testDb = await createTestDatabase()
    const config = loadConfig({ LOG_LEVEL: 'silent' })
    const { default: pino } = await import('pino')
    deps = { db: testDb.database.db, config, log: pino({ level: 'silent' }) }
  })
  afterAll(async () => testDb?.drop())

  const without = (name: string) => modules.filter(m => m.name !== name)

  it('builds every port the manifests provide, and plugs each module’s kind hooks into the core', () => {
    const services = createServices(deps) as unknown as Record<string, unknown>
    const declared = modules.flatMap(m => (m.provides ?? []).flatMap(p => p.provides))
    expect(declared.length).toBeGreaterThan(30)
    expect(declared.filter(name => services[name] === undefined)).toEqual([])
    expect(Object.keys(services).sort()).toEqual([...declared].sort())
    const core = createServices(deps).tickets
    expect([...core.hooks.keys()].sort()).toEqual(['change', 'incident', 'problem', 'release', 'request'])
  })

  it('refuses a port no module provides, naming who needs it', () => {
    expect(() => createServices(deps, without('categories'))).toThrow(WiringError)
    expect(() => createServices(deps, without('categories'))).toThrow(
      'module tickets needs port "categoryPort", which no module provides'
    )
  })

  it('refuses ports that need each other, naming the cycle', () => {
    // Categories made to need the ticket core, which needs the categories' port
    const categories = modules.find(m => m.name === 'categories')!
    const looping: ModuleManifest = {
      ...categories,
      provides: (categories.provides ?? []).map(p => ({ ...p, needs: [...p.needs, 'tickets' as const] }))
    }
    const list = modules.map(m => (m === categories ? looping : m))
    expect(() => createServices(deps, list)).toThrow(WiringError)
    expect(() => createServices(deps, list)).toThrow(/^ports form a cycle: (\w+ → )+\w+$/)
    expect(() => createServices(deps, list)).toThrow(/tickets → categor(ies|yPort)|categor(ies|yPort) → tickets/)
  })

  it('refuses a port two modules provide', () => {
    const twice: ModuleManifest = {
      name: 'twice',
      provides: [provide(['workflows'], [], d => ({ workflows: createWorkflowService(d) }))]
    }
    expect(() => createServices(deps, [...modules, twice])).toThrow(
      'port "workflows" is provided by both module workflows and module twice'
    )
  })

  it('refuses two modules giving hooks for one kind', () => {
    const again: ModuleManifest = { name: 'again', tickets: () => ({ kinds: { request: {} } }) }
    expect(() => createServices(deps, [...modules, again])).toThrow(
      'kind "request" has hooks from both module requests and module again'
    )
  })
})
