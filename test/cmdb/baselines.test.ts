import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { relate } from '../helpers/changes.js'
import { makeUser, suffix } from '../helpers/factories.js'
import { expectProblem, fieldsOf } from '../helpers/problem.js'

type Json = Record<string, any>

describe('CMDB baselines and their diffs over REST', () => {
  let t: TestApp
  let tech: { token: string }
  const make = async (body: Json) => {
    const res = await t.api('POST', '/api/v1/cis', { body })
    expect(res.statusCode, res.body).toBe(201)
    return res.json() as Json
  }
  const baseline = async (body: Json) => {
    const res = await t.api('POST', '/api/v1/baselines', { body })
    expect(res.statusCode, res.body).toBe(201)
    return res.json() as Json
  }
  const diffOf = async (id: string, against = 'now') => {
    const res = await t.api('GET', `/api/v1/baselines/${id}/diff?against=${against}`, { token: tech.token })
    expect(res.statusCode, res.body).toBe(200)
    return res.json() as Json
  }

  beforeAll(async () => {
    t = await buildTestApp()
    tech = await makeUser(t, ['technician'])
  })
  afterAll(async () => t?.close())

  it('freezes a filter set; the diff against now answers added, removed, changed attributes and relationships', async () => {
    const tag = suffix()
    const a = await make({ name: `bl-${tag}-a`, class: 'server', attributes: { memory_mb: 1024, os_name: 'Ubuntu' } })
    const b = await make({ name: `bl-${tag}-b`, class: 'server', status: 'live' })
    await relate(t, a.id, b.id, 'depends_on')
    const base = await baseline({ name: 'before the upgrade', filter: `name==bl-${tag}-*` })
    expect(base).toMatchObject({ ciCount: 2, relationshipCount: 1, scope: { filter: `name==bl-${tag}-*` } })
    expect(await diffOf(base.id)).toMatchObject({
      added: [],
      removed: [],
      changed: [],
      relationships: { added: [], removed: [] }
    })

    expect(
      (await t.edit(`/api/v1/cis/${a.id}`, { body: { status: 'maintenance', attributes: { memory_mb: 2048 } } }))
        .statusCode
    ).toBe(200)
    expect((await t.edit(`/api/v1/cis/${b.id}`, { body: { name: `gone-${tag}` } })).statusCode).toBe(200)
    const c = await make({ name: `bl-${tag}-c`, class: 'server', status: 'live' })
    await relate(t, a.id, c.id, 'runs_on')
    const d = await diffOf(base.id)
    expect(d.added).toEqual([{ id: c.id, name: c.name, class: 'server', status: 'live' }])
    expect(d.removed).toEqual([{ id: b.id, name: b.name, class: 'server', status: 'live' }])
    expect(d.changed).toEqual([
      {
        ci: { id: a.id, name: a.name, class: 'server', status: 'maintenance' },
        changes: [
          { field: 'status', old: 'live', new: 'maintenance' },
          { field: 'attributes.memory_mb', old: 1024, new: 2048 }
        ]
      }
    ])
    // b left the set, so its relationship did; c's came
    expect(d.relationships).toEqual({
      added: [{ sourceId: a.id, targetId: c.id, type: 'runs_on' }],
      removed: [{ sourceId: a.id, targetId: b.id, type: 'depends_on' }]
    })

    const later = await baseline({ name: 'after', filter: `name==bl-${tag}-*` })
    const between = await diffOf(base.id, later.id)
    expect(between.added.map((x: Json) => x.id)).toEqual([c.id])
    expect(between.changed).toHaveLength(1)
    expect((await diffOf(later.id)).changed).toEqual([])
  })

  it("freezes a service's downstream graph; refuses bad scopes", async () => {
    const tag = suffix()
    const svc = await make({ name: `svc-${tag}`, class: 'business_service' })
    const app = await make({ name: `app-${tag}`, class: 'application' })
    const vm = await make({ name: `vm-${tag}`, class: 'virtual_machine' })
    await relate(t, svc.id, app.id, 'depends_on')
    await relate(t, app.id, vm.id, 'runs_on')
    const base = await baseline({ name: 'service', serviceId: svc.id, depth: 5 })
    expect(base).toMatchObject({ ciCount: 3, relationshipCount: 2 })
    const host = await make({ name: `host-${tag}`, class: 'server', status: 'live' })
    await relate(t, vm.id, host.id, 'runs_on')
    const d = await diffOf(base.id)
    expect(d.added.map((x: Json) => x.name)).toEqual([`host-${tag}`])
    expect(d.relationships.added).toEqual([{ sourceId: vm.id, targetId: host.id, type: 'runs_on' }])

    expect(fieldsOf(expectProblem(await t.api('POST', '/api/v1/baselines', { body: { name: 'x' } }), 422))).toEqual([
      'filter'
    ])
    expect(
      fieldsOf(expectProblem(await t.api('POST', '/api/v1/baselines', { body: { name: 'x', filter: 'nope==1' } }), 400))
    ).toEqual(['filter'])
    const nowhere = '00000000-0000-7000-8000-000000000000'
    expect(
      fieldsOf(
        expectProblem(await t.api('POST', '/api/v1/baselines', { body: { name: 'x', serviceId: nowhere } }), 422)
      )
    ).toEqual(['serviceId'])
    expect(
      fieldsOf(expectProblem(await t.api('GET', `/api/v1/baselines/${base.id}/diff?against=${nowhere}`), 422))
    ).toEqual(['against'])
    expectProblem(
      await t.api('POST', '/api/v1/baselines', { token: tech.token, body: { name: 'x', filter: 'name==x' } }),
      403
    )
    const list = (await t.api('GET', '/api/v1/baselines?limit=1', { token: tech.token })).json()
    expect(list.items).toHaveLength(1)
    expect(list.nextCursor).toEqual(expect.any(String))
  })
})
