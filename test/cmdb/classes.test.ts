import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { factoryCostCentre, makeOrganisation, makeTeam, makeUser, suffix } from '../helpers/factories.js'
import { expectProblem, fieldsOf } from '../helpers/problem.js'

type Json = Record<string, any>

describe('CI classes, typed attributes and CI history over REST', () => {
  let t: TestApp
  let tech: { token: string }
  let appClass: Json

  const create = async (body: Json) => {
    const res = await t.api('POST', '/api/v1/cis', { body })
    expect(res.statusCode, res.body).toBe(201)
    return res.json() as Json
  }
  const classNamed = async (name: string) =>
    ((await t.api('GET', '/api/v1/ci-classes?limit=500')).json().items as Json[]).find(c => c.name === name)!

  beforeAll(async () => {
    t = await buildTestApp()
    tech = await makeUser(t, ['technician'])
    const parent = await classNamed('application')
    const res = await t.api('POST', '/api/v1/ci-classes', {
      body: {
        name: `payroll_${suffix()}`,
        label: 'Payroll app',
        parentId: parent.id,
        attributes: [
          { name: 'tier', type: 'enum', values: ['gold', 'silver'], default: 'silver' },
          { name: 'licence_key', type: 'text', unique: true },
          { name: 'seats', type: 'number', required: true },
          { name: 'audited', type: 'boolean' },
          { name: 'go_live', type: 'date' },
          { name: 'primary_db', type: 'ci' }
        ]
      }
    })
    expect(res.statusCode, res.body).toBe(201)
    appClass = res.json()
  })
  afterAll(async () => t?.close())

  it('ships the ITIL set with inheritance; a new class inherits its parent attributes', async () => {
    const names = (
      (await t.api('GET', '/api/v1/ci-classes?limit=500', { token: tech.token })).json().items as Json[]
    ).map(c => c.name)
    for (const n of [
      'server',
      'virtual_machine',
      'computer',
      'network_device',
      'application',
      'database',
      'service',
      'software'
    ])
      expect(names).toContain(n)
    const vm = await classNamed('virtual_machine')
    const effective = (vm.effectiveAttributes as Json[]).map(a => a.name)
    expect(effective).toEqual(expect.arrayContaining(['memory_mb', 'os_name', 'rack', 'hypervisor']))
    expect((vm.attributes as Json[]).map(a => a.name)).toEqual(['hypervisor'])
    expect((appClass.effectiveAttributes as Json[]).map(a => a.name)).toEqual(
      expect.arrayContaining(['vendor', 'environment', 'tier', 'seats'])
    )
  })

  it('refuses bad definitions, naming the attribute: duplicates, inherited names, enum without values, bad defaults', async () => {
    const app = await classNamed('application')
    const cases: [Json, number, string][] = [
      [
        {
          name: 'x1',
          label: 'X',
          attributes: [
            { name: 'a', type: 'text' },
            { name: 'a', type: 'number' }
          ]
        },
        422,
        'attributes.1.name'
      ],
      [
        { name: 'x2', label: 'X', parentId: app.id, attributes: [{ name: 'vendor', type: 'text' }] },
        422,
        'attributes.0.name'
      ],
      [{ name: 'x3', label: 'X', attributes: [{ name: 'e', type: 'enum' }] }, 422, 'attributes.0.values'],
      [
        { name: 'x4', label: 'X', attributes: [{ name: 'n', type: 'number', default: 'ten' }] },
        422,
        'attributes.0.default'
      ],
      [{ name: 'x5', label: 'X', attributes: [{ name: 'n', type: 'colour' }] }, 400, 'attributes.0.type'],
      [{ name: 'x6', label: 'X', parentId: '00000000-0000-7000-8000-000000000000' }, 422, 'parentId'],
      [{ name: 'Bad Name', label: 'X' }, 400, 'name'],
      [{ name: 'server', label: 'Again' }, 409, 'name']
    ]
    for (const [body, status, field] of cases) {
      const res = await t.api('POST', '/api/v1/ci-classes', { body })
      expect(fieldsOf(expectProblem(res, status)), JSON.stringify(body)).toContain(field)
    }
    // a class cannot be moved under itself
    const server = await classNamed('server')
    const vm = await classNamed('virtual_machine')
    const res = await t.edit(`/api/v1/ci-classes/${server.id}`, { body: { parentId: vm.id } })
    expect(fieldsOf(expectProblem(res, 422))).toEqual(['parentId'])
    expectProblem(
      await t.api('POST', '/api/v1/ci-classes', { token: tech.token, body: { name: 'y', label: 'Y' } }),
      403
    )
  })

  it('validates attributes per type on every CI write, naming attributes.<name>; defaults fill in', async () => {
    const db = await create({ name: 'pay-db', class: 'database' })
    const bad = await t.api('POST', '/api/v1/cis', {
      body: {
        name: 'pay',
        class: appClass.name,
        attributes: {
          tier: 'bronze',
          seats: 'many',
          audited: 'yes',
          go_live: '2026-02-30',
          primary_db: db.name,
          colour: 'red'
        }
      }
    })
    expect(fieldsOf(expectProblem(bad, 422)).sort()).toEqual(
      [
        'attributes.audited',
        'attributes.colour',
        'attributes.go_live',
        'attributes.primary_db',
        'attributes.seats',
        'attributes.tier'
      ].sort()
    )
    const missing = await t.api('POST', '/api/v1/cis', { body: { name: 'pay', class: appClass.name } })
    expect(fieldsOf(expectProblem(missing, 422))).toEqual(['attributes.seats'])
    const nowhere = await t.api('POST', '/api/v1/cis', {
      body: {
        name: 'pay',
        class: appClass.name,
        attributes: { seats: 1, primary_db: '00000000-0000-7000-8000-000000000000' }
      }
    })
    expect(fieldsOf(expectProblem(nowhere, 422))).toEqual(['attributes.primary_db'])

    const made = await create({
      name: 'pay',
      class: appClass.name,
      attributes: {
        seats: 40,
        audited: true,
        go_live: '2026-03-01',
        primary_db: db.id,
        licence_key: 'K-1',
        vendor: 'Acme'
      }
    })
    expect(made.attributes).toEqual({
      seats: 40,
      audited: true,
      go_live: '2026-03-01',
      primary_db: db.id,
      licence_key: 'K-1',
      vendor: 'Acme',
      tier: 'silver'
    })
    // unique across the class: a taken value is a conflict
    const dup = await t.api('POST', '/api/v1/cis', {
      body: { name: 'pay-2', class: appClass.name, attributes: { seats: 1, licence_key: 'K-1' } }
    })
    expect(fieldsOf(expectProblem(dup, 409))).toEqual(['attributes.licence_key'])
    // patch merges, null removes, a wrong type is refused naming it
    const wrong = await t.edit(`/api/v1/cis/${made.id}`, { body: { attributes: { seats: -1.5, tier: 'platinum' } } })
    expect(fieldsOf(expectProblem(wrong, 422))).toEqual(['attributes.tier'])
    const required = await t.edit(`/api/v1/cis/${made.id}`, { body: { attributes: { seats: null } } })
    expect(fieldsOf(expectProblem(required, 422))).toEqual(['attributes.seats'])
    const ok = await t.edit(`/api/v1/cis/${made.id}`, { body: { attributes: { tier: 'gold', audited: null } } })
    expect(ok.statusCode, ok.body).toBe(200)
    expect(ok.json().attributes).toMatchObject({ tier: 'gold', seats: 40 })
    expect(ok.json().attributes).not.toHaveProperty('audited')
    // moving to a class without these attributes is refused naming them
    const moved = await t.edit(`/api/v1/cis/${made.id}`, { body: { class: 'generic' } })
    expect(fieldsOf(expectProblem(moved, 422))).toContain('attributes.seats')
    expect(fieldsOf(expectProblem(await t.edit(`/api/v1/cis/${made.id}`, { body: { class: 'nope' } }), 422))).toEqual([
      'class'
    ])
  })

  it('stores status, teams, organisation, location, cost centre and identifiers; answers the full history', async () => {
    const team = await makeTeam(t)
    const org = await makeOrganisation(t)
    // a CI names a cost centre that exists (an unknown one is a 422, test/finance)
    const costCentreId = await factoryCostCentre(t)
    const made = await create({
      name: 'srv-hist',
      class: 'server',
      status: 'in_stock',
      ownerTeamId: team.id,
      supportTeamId: team.id,
      organisationId: org.id,
      location: 'Paris DC1, rack 4',
      costCentreId,
      assetTag: 'IT-0042',
      serial: 'hx-1',
      macAddresses: ['AA-BB-CC-00-11-22', 'aabb.cc00.1133'],
      attributes: { memory_mb: 65536 }
    })
    expect(made).toMatchObject({
      status: 'in_stock',
      organisationId: org.id,
      costCentreId,
      assetTag: 'IT-0042',
      serial: 'HX-1',
      macAddress: 'aa:bb:cc:00:11:22',
      macAddresses: ['aa:bb:cc:00:11:22', 'aa:bb:cc:00:11:33']
    })
    const badRefs = await t.api('POST', '/api/v1/cis', {
      body: { name: 'x', ownerTeamId: org.id, organisationId: team.id }
    })
    expect(fieldsOf(expectProblem(badRefs, 422)).sort()).toEqual(['organisationId', 'ownerTeamId'])
    expect(
      (await t.edit(`/api/v1/cis/${made.id}`, { body: { status: 'live', attributes: { memory_mb: 131072 } } }))
        .statusCode
    ).toBe(200)
    // the same write again changes nothing and records nothing
    expect((await t.edit(`/api/v1/cis/${made.id}`, { body: { status: 'live' } })).json().version).toBe(2)

    const history = (await t.api('GET', `/api/v1/cis/${made.id}/history`, { token: tech.token })).json()
    expect(history.items.map((h: Json) => h.action)).toEqual(['created', 'updated'])
    expect(history.items[0].changes).toContainEqual({ field: 'attributes.memory_mb', old: null, new: 65536 })
    expect(history.items[1]).toMatchObject({
      actor: 'admin',
      source: null,
      changes: [
        { field: 'status', old: 'in_stock', new: 'live' },
        { field: 'attributes.memory_mb', old: 65536, new: 131072 }
      ]
    })
    const page = (await t.api('GET', `/api/v1/cis/${made.id}/history?limit=1`)).json()
    const next = (await t.api('GET', `/api/v1/cis/${made.id}/history?limit=1&cursor=${page.nextCursor}`)).json()
    expect(next.items.map((h: Json) => h.action)).toEqual(['updated'])
    expect(next.nextCursor).toBeNull()
  })

  it('lists with RSQL over fields and attributes.<name>, keyset pages and includeTotal', async () => {
    const tag = suffix()
    const a = await create({
      name: `rsql-${tag}-a`,
      class: 'server',
      attributes: { memory_mb: 1024, os_name: 'Ubuntu' }
    })
    const b = await create({
      name: `rsql-${tag}-b`,
      class: 'server',
      attributes: { memory_mb: 4096, os_name: 'Debian' }
    })
    const c = await create({
      name: `rsql-${tag}-c`,
      class: 'workstation',
      status: 'retired',
      attributes: { memory_mb: 8192 }
    })
    const list = async (filter: string, extra = '') => {
      const res = await t.api('GET', `/api/v1/cis?filter=${encodeURIComponent(filter)}${extra}`)
      expect(res.statusCode, res.body).toBe(200)
      return res.json() as { items: Json[]; nextCursor: string | null; total?: number }
    }
    const ids = async (filter: string) => (await list(filter)).items.map(i => i.id)
    expect(await ids(`name==rsql-${tag}-*;attributes.memory_mb=ge=4096`)).toEqual([b.id, c.id])
    expect(await ids(`name==rsql-${tag}-*;attributes.os_name==Ubuntu`)).toEqual([a.id])
    expect(await ids(`name==rsql-${tag}-*;(status==retired,attributes.os_name=like=deb)`)).toEqual([b.id, c.id])
    expect(await ids(`name==rsql-${tag}-*;attributes.os_name=isnull=true`)).toEqual([c.id])
    const first = await list(`name==rsql-${tag}-*`, '&limit=2&includeTotal=true')
    expect(first.total).toBe(3)
    expect(first.items.map(i => i.id)).toEqual([a.id, b.id])
    const second = await list(`name==rsql-${tag}-*`, `&limit=2&cursor=${first.nextCursor}`)
    expect(second.items.map(i => i.id)).toEqual([c.id])
    expect(second).not.toHaveProperty('total')
    const bad = await t.api('GET', `/api/v1/cis?filter=${encodeURIComponent('attributes.nope==1')}`)
    expect(fieldsOf(expectProblem(bad, 400))).toEqual(['filter'])
    const badType = await t.api('GET', `/api/v1/cis?filter=${encodeURIComponent('attributes.memory_mb==lots')}`)
    expect(fieldsOf(expectProblem(badType, 400))).toEqual(['filter'])
  })

  it('deletes a class only while nothing uses it', async () => {
    const res = await t.api('POST', '/api/v1/ci-classes', { body: { name: `tmp_${suffix()}`, label: 'Tmp' } })
    const cls = res.json()
    const ci = await create({ name: 'uses-tmp', class: cls.name })
    expectProblem(await t.api('DELETE', `/api/v1/ci-classes/${cls.id}`), 409)
    expect((await t.edit(`/api/v1/cis/${ci.id}`, { body: { class: 'generic' } })).statusCode).toBe(200)
    expect((await t.api('DELETE', `/api/v1/ci-classes/${cls.id}`)).statusCode).toBe(204)
    const server = await classNamed('server')
    expectProblem(await t.api('DELETE', `/api/v1/ci-classes/${server.id}`), 409)
  })
})
