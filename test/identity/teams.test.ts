import { and, eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { auditLog } from '../../src/db/schema/index.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeTeam, makeUser } from '../helpers/factories.js'
import { expectProblem, fieldsOf } from '../helpers/problem.js'

interface Team {
  id: string
  name: string
  description: string | null
  managerId: string | null
  layers: { level: number; name: string; members: string[] }[]
}

describe('teams', () => {
  let t: TestApp
  let alice: { id: string; token: string }
  let bob: { id: string; token: string }

  beforeAll(async () => {
    t = await buildTestApp()
    alice = await makeUser(t, ['technician'])
    bob = await makeUser(t, ['technician'])
  })
  afterAll(async () => t?.close())

  it('creates a team with three layers when none are given', async () => {
    const res = await t.api('POST', '/api/v1/teams', { body: { name: 'Service Desk', managerId: alice.id } })
    expect(res.statusCode).toBe(201)
    const team = res.json() as Team
    expect(team).toMatchObject({ name: 'Service Desk', description: null, managerId: alice.id })
    expect(team.layers).toEqual([
      { level: 1, name: '1st line', members: [] },
      { level: 2, name: '2nd line', members: [] },
      { level: 3, name: '3rd line', members: [] }
    ])
    const got = await t.api('GET', `/api/v1/teams/${team.id}`)
    expect(got.json()).toEqual(team)
  })

  it('creates a team with the layers given, in order', async () => {
    const res = await t.api('POST', '/api/v1/teams', {
      body: { name: 'Network', description: 'Routers', layers: [{ name: 'NOC' }, { name: 'Engineering' }] }
    })
    expect(res.statusCode).toBe(201)
    expect((res.json() as Team).layers.map(l => [l.level, l.name])).toEqual([
      [1, 'NOC'],
      [2, 'Engineering']
    ])
  })

  it('refuses a manager who does not exist, and an empty layer list', async () => {
    const noManager = await t.api('POST', '/api/v1/teams', {
      body: { name: 'Ghost managed', managerId: '00000000-0000-7000-8000-000000000000' }
    })
    expect(fieldsOf(expectProblem(noManager, 422))).toContain('managerId')
    const noLayers = await t.api('POST', '/api/v1/teams', { body: { name: 'No layers', layers: [] } })
    expect(fieldsOf(expectProblem(noLayers, 400))).toContain('layers')
    const list = await t.api('GET', '/api/v1/teams?q=Ghost')
    expect(list.json().items).toEqual([])
  })

  it('keeps team names unique regardless of case: 409 naming name', async () => {
    await makeTeam(t, [], 'Databases')
    const res = await t.api('POST', '/api/v1/teams', { body: { name: 'DATABASES' } })
    expect(fieldsOf(expectProblem(res, 409, 'CONFLICT'))).toContain('name')
    const other = await makeTeam(t)
    const clash = await t.api('PATCH', `/api/v1/teams/${other.id}`, { body: { name: 'databases' } })
    expect(fieldsOf(expectProblem(clash, 409))).toContain('name')
  })

  it('adds a member to layer 2 and removes them again', async () => {
    const team = await makeTeam(t)
    const added = await t.api('POST', `/api/v1/teams/${team.id}/members`, { body: { userId: alice.id, level: 2 } })
    expect(added.statusCode).toBe(200)
    const layers = (added.json() as Team).layers
    expect(layers.find(l => l.level === 2)!.members).toEqual([alice.id])
    expect(layers.find(l => l.level === 1)!.members).toEqual([])

    // Adding the same member twice changes nothing
    const again = await t.api('POST', `/api/v1/teams/${team.id}/members`, { body: { userId: alice.id, level: 2 } })
    expect((again.json() as Team).layers.find(l => l.level === 2)!.members).toEqual([alice.id])

    const removed = await t.api('DELETE', `/api/v1/teams/${team.id}/members/${alice.id}`)
    expect(removed.statusCode).toBe(200)
    expect((removed.json() as Team).layers.every(l => l.members.length === 0)).toBe(true)
    expectProblem(await t.api('DELETE', `/api/v1/teams/${team.id}/members/${alice.id}`), 404)

    const audit = await t.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.entityType, 'team'), eq(auditLog.entityId, team.id)))
    expect(audit.map(a => a.action)).toEqual(expect.arrayContaining(['created', 'member.added', 'member.removed']))
    expect(audit.filter(a => a.action === 'member.added')).toHaveLength(1)
  })

  it('removes a member from one layer only with ?level=', async () => {
    const team = await makeTeam(t, [
      { userId: bob.id, level: 1 },
      { userId: bob.id, level: 2 }
    ])
    const res = await t.api('DELETE', `/api/v1/teams/${team.id}/members/${bob.id}?level=1`)
    expect(res.statusCode).toBe(200)
    expect((res.json() as Team).layers.map(l => l.members)).toEqual([[], [bob.id]])
  })

  it('refuses a layer the team does not have: 422 naming level', async () => {
    const team = await makeTeam(t)
    const res = await t.api('POST', `/api/v1/teams/${team.id}/members`, { body: { userId: alice.id, level: 5 } })
    const problem = expectProblem(res, 422, 'VALIDATION_FAILED')
    expect(fieldsOf(problem)).toEqual(['level'])
    const after = await t.api('GET', `/api/v1/teams/${team.id}`)
    expect((after.json() as Team).layers.every(l => l.members.length === 0)).toBe(true)
  })

  it('refuses a member who does not exist or is disabled: 422 naming userId', async () => {
    const team = await makeTeam(t)
    const ghost = await t.api('POST', `/api/v1/teams/${team.id}/members`, {
      body: { userId: '00000000-0000-7000-8000-000000000000', level: 1 }
    })
    expect(fieldsOf(expectProblem(ghost, 422))).toContain('userId')
    const gone = await makeUser(t, ['technician'])
    await t.edit(`/api/v1/users/${gone.id}`, { body: { active: false } })
    const disabled = await t.api('POST', `/api/v1/teams/${team.id}/members`, { body: { userId: gone.id, level: 1 } })
    expect(fieldsOf(expectProblem(disabled, 422))).toContain('userId')
  })

  it('refuses to drop a layer that still has members (409), and drops an empty one', async () => {
    const team = await makeTeam(t, [{ userId: alice.id, level: 2 }])
    const res = await t.api('PATCH', `/api/v1/teams/${team.id}`, { body: { layers: [{ name: 'Only line' }] } })
    expectProblem(res, 409, 'CONFLICT')
    const unchanged = (await t.api('GET', `/api/v1/teams/${team.id}`)).json() as Team
    expect(unchanged.layers.map(l => l.name)).toEqual(['1st line', '2nd line'])

    await t.api('DELETE', `/api/v1/teams/${team.id}/members/${alice.id}`)
    const ok = await t.api('PATCH', `/api/v1/teams/${team.id}`, { body: { layers: [{ name: 'Only line' }] } })
    expect(ok.statusCode).toBe(200)
    expect((ok.json() as Team).layers).toEqual([{ level: 1, name: 'Only line', members: [] }])
  })

  it('patches name, description, manager and renames layers, keeping members', async () => {
    const team = await makeTeam(t, [{ userId: bob.id, level: 1 }])
    const res = await t.api('PATCH', `/api/v1/teams/${team.id}`, {
      body: {
        name: 'Renamed team',
        description: 'Now with a description',
        managerId: bob.id,
        layers: [{ name: 'First' }, { name: 'Second' }, { name: 'Third' }]
      }
    })
    expect(res.statusCode).toBe(200)
    const updated = res.json() as Team
    expect(updated).toMatchObject({ name: 'Renamed team', description: 'Now with a description', managerId: bob.id })
    expect(updated.layers).toEqual([
      { level: 1, name: 'First', members: [bob.id] },
      { level: 2, name: 'Second', members: [] },
      { level: 3, name: 'Third', members: [] }
    ])
    expectProblem(await t.api('PATCH', `/api/v1/teams/${team.id}`, { body: {} }), 400)
  })

  it('walks every team with limit=1 via nextCursor, each once', async () => {
    await makeTeam(t)
    await makeTeam(t)
    const all = (await t.api('GET', '/api/v1/teams?limit=500')).json() as { items: Team[] }
    const seen: string[] = []
    let cursor: string | null = null
    do {
      const res = await t.api('GET', `/api/v1/teams?limit=1${cursor ? `&cursor=${cursor}` : ''}`)
      const page = res.json() as { items: Team[]; nextCursor: string | null }
      expect(page.items).toHaveLength(1)
      // Each page carries its team's layers too
      expect(page.items[0]!.layers.length).toBeGreaterThan(0)
      seen.push(page.items[0]!.id)
      cursor = page.nextCursor
    } while (cursor && seen.length < 100)
    expect(new Set(seen).size).toBe(seen.length)
    expect(seen).toEqual(all.items.map(x => x.id))
    expect(seen.length).toBeGreaterThanOrEqual(3)
  })

  it('refuses a bad cursor with 400 naming cursor', async () => {
    const res = await t.api('GET', '/api/v1/teams?cursor=bm9wZQ')
    expect(fieldsOf(expectProblem(res, 400))).toContain('cursor')
  })

  it('answers 404 for a team that does not exist', async () => {
    const id = '00000000-0000-7000-8000-000000000000'
    expectProblem(await t.api('GET', `/api/v1/teams/${id}`), 404)
    expectProblem(await t.api('POST', `/api/v1/teams/${id}/members`, { body: { userId: alice.id, level: 1 } }), 404)
  })
})
