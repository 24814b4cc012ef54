import { and, eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { auditLog } from '../../src/db/schema/index.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { auditOf as auditRows } from '../helpers/audit.js'
import { makeApiToken, makeOrganisation, makeTeam, makeUser } from '../helpers/factories.js'
import { expectProblem, fieldsOf } from '../helpers/problem.js'

interface Ci {
  id: string
  name: string
  class: string
  hostname: string | null
  fqdn: string | null
  serial: string | null
  status: string
  supportTeamId: string | null
}

const NOWHERE = '00000000-0000-7000-8000-000000000000'

describe('configuration items over REST', () => {
  let t: TestApp
  let tech: { id: string; token: string }
  let finance: { id: string; token: string }
  let customer: { id: string; token: string }
  let teamId: string

  const create = async (body: Record<string, unknown>, token?: string) => {
    const res = await t.api('POST', '/api/v1/cis', { body, ...(token ? { token } : {}) })
    expect(res.statusCode, res.body).toBe(201)
    return res.json() as Ci
  }
  const auditOf = (id: string) => auditRows(t, 'ci', id)

  beforeAll(async () => {
    t = await buildTestApp()
    tech = await makeUser(t, ['technician'])
    finance = await makeUser(t, ['finance'])
    const org = await makeOrganisation(t)
    customer = await makeUser(t, ['customer'], { organisationId: org.id })
    teamId = (await makeTeam(t)).id
  })
  afterAll(async () => t?.close())

  it('creates a CI with defaults, host names lower-cased, and audits it', async () => {
    const res = await t.api('POST', '/api/v1/cis', {
      body: { name: 'Web 01', hostname: 'WEB-01', fqdn: 'Web-01.Example.COM.', serial: 'SN-ABC', supportTeamId: teamId }
    })
    expect(res.statusCode).toBe(201)
    const ci = res.json() as Ci
    expect(res.headers.location).toBe(`/api/v1/cis/${ci.id}`)
    expect(ci).toMatchObject({
      name: 'Web 01',
      class: 'generic',
      status: 'live',
      hostname: 'web-01',
      fqdn: 'web-01.example.com',
      serial: 'SN-ABC',
      supportTeamId: teamId
    })
    const got = await t.api('GET', `/api/v1/cis/${ci.id}`)
    expect(got.json()).toEqual(ci)
    const audit = await auditOf(ci.id)
    expect(audit.map(a => a.action)).toEqual(['created'])
    expect(audit[0]!.changes).toContainEqual({ field: 'fqdn', old: null, new: 'web-01.example.com' })
  })

  it('names the field of bad input: 400 for the schema, 422 for an unknown team', async () => {
    const cases: [Record<string, unknown>, number, string][] = [
      [{}, 400, 'name'],
      [{ name: '' }, 400, 'name'],
      [{ name: 'x', hostname: 'bad host' }, 400, 'hostname'],
      [{ name: 'x', fqdn: 'nodots' }, 400, 'fqdn'],
      [{ name: 'x', status: 'exploded' }, 400, 'status'],
      [{ name: 'x', class: 'no spaces' }, 400, 'class'],
      [{ name: 'x', colour: 'red' }, 400, 'colour'],
      [{ name: 'x', supportTeamId: 'not-a-uuid' }, 400, 'supportTeamId'],
      [{ name: 'x', supportTeamId: NOWHERE }, 422, 'supportTeamId']
    ]
    for (const [body, status, field] of cases) {
      const res = await t.api('POST', '/api/v1/cis', { body })
      expect(fieldsOf(expectProblem(res, status)), JSON.stringify(body)).toContain(field)
    }
    expectProblem(await t.api('GET', `/api/v1/cis/${NOWHERE}`), 404)
    expect(fieldsOf(expectProblem(await t.api('GET', '/api/v1/cis/nope'), 400))).toContain('id')
  })

  it('lists with exact filters (host names case-insensitively), q, and keyset pages', async () => {
    const a = await create({ name: 'db-primary', class: 'database', hostname: 'DB-01', serial: 'S-1' })
    const b = await create({ name: 'db-replica', class: 'database', fqdn: 'db-02.corp.example', status: 'planned' })
    await create({ name: 'switch-core', class: 'switch', serial: 'S-2' })
    const ids = async (qs: string) =>
      ((await t.api('GET', `/api/v1/cis?${qs}`)).json() as { items: Ci[] }).items.map(c => c.id)
    expect(await ids('class=database')).toEqual([a.id, b.id])
    expect(await ids('hostname=Db-01')).toEqual([a.id])
    expect(await ids('fqdn=DB-02.corp.example.')).toEqual([b.id])
    expect(await ids('serial=S-1')).toEqual([a.id])
    // Serials are one spelling (upper-case, trimmed) since the CI identification was unified (issue 11 #5)
    expect(await ids('serial=s-1')).toEqual([a.id])
    expect(await ids('status=planned')).toEqual([b.id])
    expect(await ids('q=replica')).toEqual([b.id])
    expect(await ids('q=corp.EXAMPLE')).toEqual([b.id])

    const first = (await t.api('GET', '/api/v1/cis?class=database&limit=1')).json() as {
      items: Ci[]
      nextCursor: string
    }
    expect(first.items.map(c => c.id)).toEqual([a.id])
    const second = (await t.api('GET', `/api/v1/cis?class=database&limit=1&cursor=${first.nextCursor}`)).json() as {
      items: Ci[]
      nextCursor: string | null
    }
    expect(second).toEqual({ items: [expect.objectContaining({ id: b.id })], nextCursor: null })

    expect(fieldsOf(expectProblem(await t.api('GET', '/api/v1/cis?cursor=garbage!'), 400))).toContain('cursor')
    expect(fieldsOf(expectProblem(await t.api('GET', '/api/v1/cis?limit=501'), 400))).toContain('limit')
    expect(fieldsOf(expectProblem(await t.api('GET', '/api/v1/cis?hostname=a%20b'), 400))).toContain('hostname')
  })

  it('patches fields, null clears, and the audit row holds the difference', async () => {
    const ci = await create({ name: 'app-01', hostname: 'app-01', serial: 'X1' })
    const res = await t.edit(`/api/v1/cis/${ci.id}`, {
      body: { name: 'app-01 (prod)', hostname: 'APP-01-PROD', serial: null, status: 'maintenance' }
    })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json()).toMatchObject({
      name: 'app-01 (prod)',
      hostname: 'app-01-prod',
      serial: null,
      status: 'maintenance'
    })
    const audit = await auditOf(ci.id)
    expect(audit.map(a => a.action)).toEqual(['created', 'updated'])
    expect(audit[1]!.changes).toEqual([
      { field: 'name', old: 'app-01', new: 'app-01 (prod)' },
      { field: 'hostname', old: 'app-01', new: 'app-01-prod' },
      { field: 'serial', old: 'X1', new: null },
      { field: 'status', old: 'live', new: 'maintenance' }
    ])
    expectProblem(await t.api('PATCH', `/api/v1/cis/${ci.id}`, { body: {} }), 400)
    const bad = await t.edit(`/api/v1/cis/${ci.id}`, { body: { supportTeamId: NOWHERE } })
    expect(fieldsOf(expectProblem(bad, 422))).toEqual(['supportTeamId'])
    expectProblem(await t.api('PATCH', `/api/v1/cis/${NOWHERE}`, { body: { name: 'x' } }), 404)
    // Refused writes leave no audit trace
    expect((await auditOf(ci.id)).length).toBe(2)
  })

  it('staff and finance read, customers do not; only admins and cmdb:import tokens write', async () => {
    const ci = await create({ name: 'visible' })
    for (const who of [tech, finance]) {
      expect((await t.api('GET', `/api/v1/cis/${ci.id}`, { token: who.token })).statusCode).toBe(200)
      expect((await t.api('GET', '/api/v1/cis', { token: who.token })).statusCode).toBe(200)
      expectProblem(await t.api('POST', '/api/v1/cis', { token: who.token, body: { name: 'no' } }), 403)
      expectProblem(await t.api('PATCH', `/api/v1/cis/${ci.id}`, { token: who.token, body: { name: 'no' } }), 403)
    }
    expectProblem(await t.api('GET', `/api/v1/cis/${ci.id}`, { token: customer.token }), 403)
    expectProblem(await t.api('GET', '/api/v1/cis', { token: customer.token }), 403)
    expectProblem(await t.api('GET', `/api/v1/cis/${ci.id}/relationships`, { token: customer.token }), 403)
    expectProblem(await t.api('GET', '/api/v1/cis', { token: null }), 401)

    const importer = await makeApiToken(t, { scopes: ['cmdb:import', 'cmdb:read'] })
    const made = await create({ name: 'from-discovery', class: 'server' }, importer.token)
    expect((await auditOf(made.id))[0]!.actorLabel).toBe('admin (token)')
    const reader = await makeApiToken(t, { scopes: ['cmdb:read'] })
    expect((await t.api('GET', `/api/v1/cis/${made.id}`, { token: reader.token })).statusCode).toBe(200)
    const denied = expectProblem(await t.api('POST', '/api/v1/cis', { token: reader.token, body: { name: 'x' } }), 403)
    expect(denied.missingScope).toBe('cmdb:import')
    const ticketsOnly = await makeApiToken(t, { scopes: ['tickets:read'] })
    const noRead = expectProblem(await t.api('GET', '/api/v1/cis', { token: ticketsOnly.token }), 403)
    expect(noRead.missingScope).toBe('cmdb:read')
  })
})

describe('CI relationships over REST', () => {
  let t: TestApp
  let web: Ci
  let vm: Ci
  let db: Ci

  const relate = (id: string, body: Record<string, unknown>, token?: string) =>
    t.api('POST', `/api/v1/cis/${id}/relationships`, { body, ...(token ? { token } : {}) })
  const rels = async (id: string, qs = '') =>
    (await t.api('GET', `/api/v1/cis/${id}/relationships${qs}`)).json() as {
      items: Record<string, any>[]
      nextCursor: string | null
    }

  beforeAll(async () => {
    t = await buildTestApp()
    const make = async (name: string) => (await t.api('POST', '/api/v1/cis', { body: { name } })).json() as Ci
    web = await make('web')
    vm = await make('vm')
    db = await make('db')
  })
  afterAll(async () => t?.close())

  it('relates two CIs and lists the relationship from both ends with its direction', async () => {
    const res = await relate(web.id, { targetId: vm.id, type: 'runs_on' })
    expect(res.statusCode, res.body).toBe(201)
    const rel = res.json()
    expect(rel).toMatchObject({
      type: 'runs_on',
      sourceId: web.id,
      targetId: vm.id,
      direction: 'outgoing',
      relatedCiId: vm.id,
      relatedCi: { id: vm.id, name: 'vm' }
    })
    expect((await relate(web.id, { targetId: db.id, type: 'depends_on' })).statusCode).toBe(201)

    const fromWeb = await rels(web.id)
    expect(fromWeb.items.map(r => [r.direction, r.type, r.relatedCi.name])).toEqual([
      ['outgoing', 'runs_on', 'vm'],
      ['outgoing', 'depends_on', 'db']
    ])
    const fromVm = await rels(vm.id)
    expect(fromVm.items).toEqual([
      { ...rel, direction: 'incoming', label: 'hosts', relatedCiId: web.id, relatedCi: web }
    ])
    expect(rel.label).toBe('runs on')

    const page1 = await rels(web.id, '?limit=1')
    expect(page1.items).toHaveLength(1)
    const page2 = await rels(web.id, `?limit=1&cursor=${page1.nextCursor}`)
    expect(page2).toEqual({ items: [expect.objectContaining({ relatedCiId: db.id })], nextCursor: null })

    const audit = await t.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.entityType, 'ci'), eq(auditLog.action, 'relationship.added')))
    expect(audit.filter(a => a.entityId === vm.id)[0]!.changes).toEqual([
      {
        field: 'relationships.incoming',
        old: null,
        new: { id: rel.id, type: 'runs_on', sourceId: web.id, targetId: vm.id }
      }
    ])
    expect(audit.filter(a => a.entityId === web.id)).toHaveLength(2)
  })

  it('refuses a self-relationship (422), an unknown target (422), a duplicate (409), unknown types (422), malformed ones (400)', async () => {
    expect(fieldsOf(expectProblem(await relate(web.id, { targetId: web.id, type: 'depends_on' }), 422))).toEqual([
      'targetId'
    ])
    expect(fieldsOf(expectProblem(await relate(web.id, { targetId: NOWHERE, type: 'depends_on' }), 422))).toEqual([
      'targetId'
    ])
    expectProblem(await relate(web.id, { targetId: vm.id, type: 'runs_on' }), 409, 'CONFLICT')
    // The same pair under another type is another relationship
    expect((await relate(web.id, { targetId: vm.id, type: 'connects_to' })).statusCode).toBe(201)
    // A type is one of the catalogue's names: a reading (hosts) is none
    expect(fieldsOf(expectProblem(await relate(web.id, { targetId: vm.id, type: 'hosts' }), 422))).toEqual(['type'])
    expect(fieldsOf(expectProblem(await relate(web.id, { targetId: vm.id, type: 'Runs On' }), 400))).toContain('type')
    expect(fieldsOf(expectProblem(await relate(web.id, { type: 'runs_on' }), 400))).toContain('targetId')
    expectProblem(await relate(NOWHERE, { targetId: vm.id, type: 'runs_on' }), 404)
    expectProblem(await t.api('GET', `/api/v1/cis/${NOWHERE}/relationships`), 404)
  })

  it('deletes a relationship from either end, once; another CI cannot delete it', async () => {
    const rel = (await relate(db.id, { targetId: vm.id, type: 'runs_on' })).json()
    expectProblem(await t.api('DELETE', `/api/v1/cis/${web.id}/relationships/${rel.id}`), 404)
    const del = await t.api('DELETE', `/api/v1/cis/${vm.id}/relationships/${rel.id}`)
    expect(del.statusCode).toBe(204)
    expect((await rels(db.id)).items.map(r => r.id)).not.toContain(rel.id)
    expectProblem(await t.api('DELETE', `/api/v1/cis/${db.id}/relationships/${rel.id}`), 404)
    const removed = await t.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.entityType, 'ci'), eq(auditLog.action, 'relationship.removed')))
    expect(removed.map(a => a.entityId).sort()).toEqual([db.id, vm.id].sort())
  })

  it('only ci.manage may relate or unrelate', async () => {
    const tech = await makeUser(t, ['technician'])
    expectProblem(await relate(web.id, { targetId: db.id, type: 'part_of' }, tech.token), 403)
    const rel = (await rels(web.id)).items[0]!
    expectProblem(await t.api('DELETE', `/api/v1/cis/${web.id}/relationships/${rel.id}`, { token: tech.token }), 403)
    expect((await t.api('GET', `/api/v1/cis/${web.id}/relationships`, { token: tech.token })).statusCode).toBe(200)
  })
})
