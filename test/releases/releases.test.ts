import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { historyOf, makeTeam, makeUser } from '../helpers/factories.js'
import { versionOfEtag } from '../helpers/http.js'
import { expectProblem, fieldsOf } from '../helpers/problem.js'
import { makeRelease, moveRelease } from '../helpers/releases.js'

type User = Awaited<ReturnType<typeof makeUser>>

describe('releases: version, manager, team, planned date', () => {
  let t: TestApp
  let manager: User
  let tech: User
  let customer: User
  let team: { id: string }
  const ghost = '00000000-0000-7000-8000-000000000000'
  const post = (body: Record<string, unknown>, token?: string) =>
    t.api('POST', '/api/v1/releases', { body: { title: 'Spring release', ...body }, ...(token ? { token } : {}) })

  beforeAll(async () => {
    t = await buildTestApp()
    manager = await makeUser(t, ['manager'])
    tech = await makeUser(t, ['technician'])
    customer = await makeUser(t, ['customer'])
    team = await makeTeam(t)
  })
  afterAll(async () => t?.close())

  it('creates a release with its detail, reads it back and lists it, audited', async () => {
    const res = await post(
      {
        releaseVersion: ' 2031.1 ',
        managerId: manager.id,
        releaseTeamId: team.id,
        plannedDate: '2031-03-01T09:00:00Z'
      },
      tech.token
    )
    expect(res.statusCode, res.body).toBe(201)
    const rel = res.json()
    expect(rel.number).toMatch(/^REL-\d{6}$/)
    expect(rel).toMatchObject({
      kind: 'release',
      status: 'planning',
      releaseVersion: '2031.1',
      managerId: manager.id,
      releaseTeamId: team.id,
      plannedDate: '2031-03-01T09:00:00.000Z',
      changeIds: [],
      readiness: { ready: false, total: 0, byStatus: {}, blocking: [] }
    })
    expect((await t.api('GET', `/api/v1/releases/${rel.id}`)).json()).toEqual(rel)
    const list = await t.api('GET', `/api/v1/releases?filter=releaseVersion=="2031.1";managerId==${manager.id}`)
    expect(list.statusCode, list.body).toBe(200)
    expect(list.json().items).toEqual([
      expect.objectContaining({
        id: rel.id,
        releaseVersion: '2031.1',
        managerId: manager.id,
        plannedDate: rel.plannedDate
      })
    ])
    // List rows carry the summary only
    expect(list.json().items[0]).not.toHaveProperty('readiness')
    const [created] = await historyOf(t, 'releases', rel.id)
    expect(created!.changes).toEqual(
      expect.arrayContaining([
        { field: 'releaseVersion', old: null, new: '2031.1' },
        { field: 'managerId', old: null, new: manager.id },
        { field: 'releaseTeamId', old: null, new: team.id },
        { field: 'plannedDate', old: null, new: '2031-03-01T09:00:00.000Z' }
      ])
    )
  })

  it('requires a version and a staff manager (422 naming each), an existing team, a date-time', async () => {
    const both = expectProblem(await post({}), 422, 'VALIDATION_FAILED')
    expect(fieldsOf(both).sort()).toEqual(['managerId', 'releaseVersion'])
    const noManager = expectProblem(await post({ releaseVersion: '1.0' }), 422)
    expect(noManager.errors).toEqual([{ field: 'managerId', message: expect.stringMatching(/required/) }])
    const asCustomer = expectProblem(await post({ releaseVersion: '1.0', managerId: customer.id }), 422)
    expect(asCustomer.errors).toEqual([{ field: 'managerId', message: expect.stringMatching(/staff role/) }])
    expect(fieldsOf(expectProblem(await post({ releaseVersion: '1.0', managerId: ghost }), 422))).toEqual(['managerId'])
    const disabled = await makeUser(t, ['technician'])
    await t.edit(`/api/v1/users/${disabled.id}`, { body: { active: false } })
    expect(fieldsOf(expectProblem(await post({ releaseVersion: '1.0', managerId: disabled.id }), 422))).toEqual([
      'managerId'
    ])
    const noTeam = await post({ releaseVersion: '1.0', managerId: manager.id, releaseTeamId: ghost })
    expect(fieldsOf(expectProblem(noTeam, 422))).toEqual(['releaseTeamId'])
    for (const body of [
      { releaseVersion: '', managerId: manager.id },
      { releaseVersion: 'x'.repeat(101), managerId: manager.id },
      { releaseVersion: '1.0', managerId: manager.id, plannedDate: 'next week' },
      { releaseVersion: '1.0', managerId: 'nobody' },
      { version: '1.0', managerId: manager.id }
    ]) {
      expectProblem(await post(body), 400)
    }
    expect((await t.api('GET', '/api/v1/releases?filter=releaseVersion=="1.0"')).json().items).toEqual([])
  })

  it('updates the detail: version, manager (never cleared), team and date cleared with null', async () => {
    const rel = await makeRelease(t, {
      managerId: manager.id,
      releaseTeamId: team.id,
      plannedDate: '2031-04-01T00:00:00Z'
    })
    const patch = (body: Record<string, unknown>, version: number) =>
      t.api('PATCH', `/api/v1/releases/${rel.id}`, { body, headers: { 'if-match': `"${version}"` } })
    const res = await patch(
      { releaseVersion: '9.9', managerId: tech.id, releaseTeamId: null, plannedDate: null },
      rel.version
    )
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json()).toMatchObject({
      releaseVersion: '9.9',
      managerId: tech.id,
      releaseTeamId: null,
      plannedDate: null,
      version: rel.version + 1
    })
    expect(versionOfEtag(res.headers.etag)).toBe(rel.version + 1)
    const [, updated] = await historyOf(t, 'releases', rel.id)
    expect(updated!.changes).toEqual(
      expect.arrayContaining([
        { field: 'releaseVersion', old: rel.releaseVersion, new: '9.9' },
        { field: 'managerId', old: manager.id, new: tech.id },
        { field: 'releaseTeamId', old: team.id, new: null },
        { field: 'plannedDate', old: '2031-04-01T00:00:00.000Z', new: null }
      ])
    )
    const v = res.json().version as number
    expect(fieldsOf(expectProblem(await patch({ managerId: null }, v), 400))).toEqual(['managerId'])
    expect(fieldsOf(expectProblem(await patch({ managerId: customer.id }, v), 422))).toEqual(['managerId'])
    expect(fieldsOf(expectProblem(await patch({ releaseTeamId: ghost }, v), 422))).toEqual(['releaseTeamId'])
    expect(fieldsOf(expectProblem(await patch({ releaseVersion: ' ' }, v), 400))).toEqual(['releaseVersion'])
    expect((await t.api('GET', `/api/v1/releases/${rel.id}`)).json()).toMatchObject({ managerId: tech.id, version: v })
  })

  it('refuses illegal release transitions with 409 naming the allowed ones', async () => {
    const rel = await makeRelease(t, { managerId: manager.id })
    const res = await t.api('POST', `/api/v1/releases/${rel.id}/transitions`, { body: { to: 'deploy' } })
    const problem = expectProblem(res, 409, 'CONFLICT')
    expect(problem.allowed).toEqual(['build', 'cancelled'])
    await moveRelease(t, rel.id, 'build')
    const back = await t.api('POST', `/api/v1/releases/${rel.id}/transitions`, { body: { to: 'review' } })
    expect(expectProblem(back, 409).allowed).toEqual(['planning', 'test', 'cancelled'])
    await moveRelease(t, rel.id, 'cancelled')
    const closed = await t.api('POST', `/api/v1/releases/${rel.id}/transitions`, { body: { to: 'build' } })
    expect(expectProblem(closed, 409).allowed).toEqual([])
    // Customers can neither create releases for others nor move them
    expectProblem(await post({ releaseVersion: '1', managerId: manager.id, requesterId: tech.id }, customer.token), 403)
  })
})
