import { and, eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { auditLog } from '../../src/db/schema/index.js'
import { loadOffering } from '../../src/modules/catalog/catalog.service.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeTeam, makeUser } from '../helpers/factories.js'
import { versionOfEtag } from '../helpers/http.js'
import { expectProblem, fieldsOf } from '../helpers/problem.js'

describe('catalog offerings', () => {
  let t: TestApp
  let customer: { id: string; token: string }
  let technician: { id: string; token: string }
  let manager: { id: string; token: string }
  let team: { id: string }
  const ghost = '00000000-0000-7000-8000-000000000000'
  const post = (body: Record<string, unknown>, token?: string) =>
    t.api('POST', '/api/v1/catalog/offerings', { body, ...(token ? { token } : {}) })
  const patch = (id: string, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
    t.api('PATCH', `/api/v1/catalog/offerings/${id}`, { body, headers })
  async function create(body: Record<string, unknown>) {
    const res = await post(body)
    expect(res.statusCode, res.body).toBe(201)
    return res.json() as Record<string, any> & { id: string }
  }

  beforeAll(async () => {
    t = await buildTestApp()
    customer = await makeUser(t, ['customer'])
    technician = await makeUser(t, ['technician'])
    manager = await makeUser(t, ['manager'])
    team = await makeTeam(t)
  })
  afterAll(async () => t?.close())

  it('creates an offering with approval and tasks, reads it back, audited', async () => {
    const body = {
      name: 'New laptop',
      description: 'A standard laptop',
      teamId: team.id,
      approval: { rule: 'quorum', quorum: 2, approverIds: [technician.id, manager.id], approverTeamId: team.id },
      tasks: ['Order hardware', 'Image laptop', 'Hand over']
    }
    const res = await post(body)
    expect(res.statusCode, res.body).toBe(201)
    expect(versionOfEtag(res.headers.etag)).toBe(1)
    const offering = res.json()
    expect(offering).toMatchObject({ ...body, active: true, version: 1 })
    expect((await t.api('GET', `/api/v1/catalog/offerings/${offering.id}`)).json()).toEqual(offering)
    const audit = await t.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.entityType, 'offering'), eq(auditLog.entityId, offering.id)))
    expect(audit.map(a => a.action)).toEqual(['created'])
    expect(audit[0]!.changes).toContainEqual({ field: 'tasks', old: null, new: body.tasks })

    // Defaults: no approval, no tasks
    const bare = await create({ name: 'Password reset' })
    expect(bare).toMatchObject({ approval: null, tasks: [], teamId: null, description: '' })
  })

  it('updates with If-Match; null clears approval and team; changes audited', async () => {
    const o = await create({ name: 'Monitor', teamId: team.id, approval: { rule: 'any', approverIds: [manager.id] } })
    expectProblem(await patch(o.id, { name: 'Screen' }, { 'if-match': '"9"' }), 412)
    const res = await patch(o.id, { approval: null, teamId: null, tasks: ['Deliver'] }, { 'if-match': '"1"' })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json()).toMatchObject({ approval: null, teamId: null, tasks: ['Deliver'], version: 2 })
    // Same approval in another key order is no change
    const again = await patch(o.id, { approval: { approverIds: [manager.id], rule: 'any' } }, { 'if-match': '"2"' })
    expect(again.json().version).toBe(3)
    const noop = await patch(o.id, { approval: { rule: 'any', approverIds: [manager.id] } }, { 'if-match': '"3"' })
    expect(noop.json().version).toBe(3)
    const audit = await t.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.entityType, 'offering'), eq(auditLog.entityId, o.id)))
      .orderBy(auditLog.id)
    expect(audit.map(a => a.action)).toEqual(['created', 'updated', 'updated'])
    expect((audit[1]!.changes as { field: string }[]).map(c => c.field).sort()).toEqual(['approval', 'tasks', 'teamId'])
  })

  it('keeps names unique regardless of case (409 name)', async () => {
    await create({ name: 'VPN access' })
    expect(fieldsOf(expectProblem(await post({ name: 'vpn ACCESS' }), 409))).toEqual(['name'])
    const other = await create({ name: 'Wifi access' })
    expect(fieldsOf(expectProblem(await patch(other.id, { name: 'VPN Access' }, { 'if-match': '"1"' }), 409))).toEqual([
      'name'
    ])
  })

  it('refuses approval rules that cannot work, naming the field (422)', async () => {
    const disabled = await makeUser(t, ['technician'])
    await t.edit(`/api/v1/users/${disabled.id}`, { body: { active: false } })
    const cases: [Record<string, unknown>, string][] = [
      [{ teamId: ghost }, 'teamId'],
      [{ approval: { rule: 'all', approverIds: [] } }, 'approval.approverIds'],
      [{ approval: { rule: 'quorum', approverIds: [manager.id] } }, 'approval.quorum'],
      [{ approval: { rule: 'quorum', quorum: 2, approverIds: [manager.id] } }, 'approval.quorum'],
      [{ approval: { rule: 'all', quorum: 1, approverIds: [manager.id] } }, 'approval.quorum'],
      [{ approval: { rule: 'any', approverIds: [manager.id, customer.id] } }, 'approval.approverIds.1'],
      [{ approval: { rule: 'any', approverIds: [ghost] } }, 'approval.approverIds.0'],
      [{ approval: { rule: 'any', approverIds: [disabled.id] } }, 'approval.approverIds.0'],
      [{ approval: { rule: 'any', approverIds: [], approverTeamId: ghost } }, 'approval.approverTeamId']
    ]
    for (const [extra, field] of cases) {
      const res = expectProblem(await post({ name: `bad ${field}`, ...extra }), 422, 'VALIDATION_FAILED')
      expect(fieldsOf(res), JSON.stringify(extra)).toEqual([field])
    }
    // A team alone is enough; its size is not checked against the quorum (membership changes)
    const teamOnly = await create({
      name: 'CAB reviewed',
      approval: { rule: 'quorum', quorum: 3, approverIds: [], approverTeamId: team.id }
    })
    expect(teamOnly.approval).toEqual({ rule: 'quorum', quorum: 3, approverIds: [], approverTeamId: team.id })
  })

  it('answers 400 naming the field for malformed input', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ name: '' }, 'name'],
      [{ name: 'x', tasks: Array.from({ length: 51 }, (_, i) => `task ${i}`) }, 'tasks'],
      [{ name: 'x', tasks: [''] }, 'tasks.0'],
      [{ name: 'x', tasks: ['ok', 'y'.repeat(301)] }, 'tasks.1'],
      [{ name: 'x', approval: { rule: 'most', approverIds: [] } }, 'approval.rule'],
      [{ name: 'x', approval: { rule: 'any' } }, 'approval.approverIds'],
      [{ name: 'x', approval: { rule: 'any', approverIds: ['nope'] } }, 'approval.approverIds.0'],
      [{ name: 'x', price: 3 }, 'price']
    ]
    for (const [body, field] of cases) {
      const res = expectProblem(await post(body), 400)
      expect(fieldsOf(res), JSON.stringify(body).slice(0, 80)).toContain(field)
    }
    expect((await post({ name: 'Fifty tasks', tasks: Array.from({ length: 50 }, (_, i) => `t${i}`) })).statusCode).toBe(
      201
    )
    expectProblem(await t.api('GET', `/api/v1/catalog/offerings/${ghost}`), 404, 'NOT_FOUND')
  })

  it('lets customers read active offerings only; only admins write', async () => {
    const live = await create({ name: 'Desk phone' })
    const retired = await create({ name: 'Fax machine', active: false })
    expectProblem(await post({ name: 'By tech' }, technician.token), 403, 'FORBIDDEN')
    expectProblem(await post({ name: 'By customer' }, customer.token), 403, 'FORBIDDEN')
    expectProblem(
      await t.api('PATCH', `/api/v1/catalog/offerings/${live.id}`, { token: technician.token, body: { name: 'x' } }),
      403
    )
    const seen = (await t.api('GET', '/api/v1/catalog/offerings?limit=500', { token: customer.token })).json()
    const ids = seen.items.map((o: { id: string }) => o.id)
    expect(ids).toContain(live.id)
    expect(ids).not.toContain(retired.id)
    expect(
      (await t.api('GET', '/api/v1/catalog/offerings?active=false', { token: customer.token })).json().items
    ).toEqual([])
    expectProblem(await t.api('GET', `/api/v1/catalog/offerings/${retired.id}`, { token: customer.token }), 404)
    expect(
      (await t.api('GET', `/api/v1/catalog/offerings/${retired.id}`, { token: technician.token })).statusCode
    ).toBe(200)
    const q = (await t.api('GET', '/api/v1/catalog/offerings?q=desk')).json()
    expect(q.items.map((o: { id: string }) => o.id)).toEqual([live.id])
  })

  it('pages by name with a cursor', async () => {
    for (const n of ['Paging C', 'Paging A', 'Paging B']) await create({ name: n })
    const names: string[] = []
    let cursor: string | null = null
    do {
      const url: string = `/api/v1/catalog/offerings?q=paging&limit=2${cursor ? `&cursor=${cursor}` : ''}`
      const page = (await t.api('GET', url)).json()
      names.push(...page.items.map((o: { name: string }) => o.name))
      cursor = page.nextCursor
    } while (cursor)
    expect(names).toEqual(['Paging A', 'Paging B', 'Paging C'])
  })

  it('loadOffering answers an active offering, or 422 offeringId', async () => {
    const o = await create({ name: 'Loadable offering', tasks: ['one'] })
    expect(await loadOffering(t.db, o.id)).toMatchObject({ id: o.id, tasks: ['one'] })
    const refused = async (id: string) =>
      expect(
        await loadOffering(t.db, id).then(
          () => null,
          e => e
        )
      ).toMatchObject({ status: 422, errors: [{ field: 'offeringId' }] })
    await refused(ghost)
    await patch(o.id, { active: false }, { 'if-match': `"${o.version}"` })
    await refused(o.id)
  })
})
