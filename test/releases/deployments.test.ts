import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeCi } from '../helpers/changes.js'
import { historyOf, makeUser } from '../helpers/factories.js'
import { expectProblem, fieldsOf } from '../helpers/problem.js'
import { makeRelease, moveRelease } from '../helpers/releases.js'

type User = Awaited<ReturnType<typeof makeUser>>

describe('deployments of a release', () => {
  let t: TestApp
  let manager: User
  let customer: User
  const ghost = '00000000-0000-7000-8000-000000000000'

  beforeAll(async () => {
    t = await buildTestApp()
    manager = await makeUser(t, ['manager'])
    customer = await makeUser(t, ['customer'])
  })
  afterAll(async () => t?.close())

  const add = (releaseId: string, body: Record<string, unknown>, token?: string) =>
    t.api('POST', `/api/v1/releases/${releaseId}/deployments`, { body, ...(token ? { token } : {}) })
  const patch = (releaseId: string, id: string, body: Record<string, unknown>) =>
    t.api('PATCH', `/api/v1/releases/${releaseId}/deployments/${id}`, { body })

  it('runs a deployment through its lifecycle, stamping start and finish, every step on the release history', async () => {
    const rel = await makeRelease(t, { managerId: manager.id })
    const ci = await makeCi(t)
    const created = await add(rel.id, { target: 'production', ciId: ci.id, notes: 'Window 22:00' }, manager.token)
    expect(created.statusCode, created.body).toBe(201)
    const d = created.json()
    expect(d).toMatchObject({
      releaseId: rel.id,
      target: 'production',
      ciId: ci.id,
      status: 'planned',
      startedAt: null,
      finishedAt: null,
      notes: 'Window 22:00',
      createdById: manager.id
    })

    const started = await patch(rel.id, d.id, { status: 'in_progress' })
    expect(started.statusCode, started.body).toBe(200)
    expect(started.json()).toMatchObject({
      status: 'in_progress',
      startedAt: expect.stringMatching(/Z$/),
      finishedAt: null
    })
    const failed = (await patch(rel.id, d.id, { status: 'failed', notes: 'DB migration timed out' })).json()
    expect(failed).toMatchObject({ status: 'failed', notes: 'DB migration timed out', finishedAt: expect.any(String) })
    // A retry starts the clock again and clears the finish
    const retried = (await patch(rel.id, d.id, { status: 'in_progress' })).json()
    expect(retried.finishedAt).toBeNull()
    expect(Date.parse(retried.startedAt)).toBeGreaterThanOrEqual(Date.parse(started.json().startedAt))
    const done = (await patch(rel.id, d.id, { status: 'succeeded' })).json()
    expect(done).toMatchObject({ status: 'succeeded', finishedAt: expect.any(String) })

    const list = (await t.api('GET', `/api/v1/releases/${rel.id}/deployments`)).json()
    expect(list).toEqual({ items: [done], nextCursor: null })

    const history = (await historyOf(t, 'releases', rel.id)).filter(h => h.action.startsWith('deployment.'))
    expect(history.map(h => h.action)).toEqual([
      'deployment.created',
      'deployment.updated',
      'deployment.updated',
      'deployment.updated',
      'deployment.updated'
    ])
    expect(history[0]!.changes).toEqual(
      expect.arrayContaining([
        { field: `deployments.${d.id}.target`, old: null, new: 'production' },
        { field: `deployments.${d.id}.status`, old: null, new: 'planned' },
        { field: `deployments.${d.id}.ciId`, old: null, new: ci.id }
      ])
    )
    expect(history[2]!.changes).toEqual([
      { field: `deployments.${d.id}.status`, old: 'in_progress', new: 'failed' },
      { field: `deployments.${d.id}.notes`, old: 'Window 22:00', new: 'DB migration timed out' }
    ])
  })

  it('refuses illegal moves with 409 naming the allowed ones, and leaves the deployment as it was', async () => {
    const rel = await makeRelease(t, { managerId: manager.id })
    const d = (await add(rel.id, { target: 'staging', status: 'succeeded' })).json()
    expect(d).toMatchObject({ status: 'succeeded', startedAt: null, finishedAt: expect.any(String) })
    const back = expectProblem(await patch(rel.id, d.id, { status: 'planned' }), 409, 'CONFLICT')
    expect(back).toMatchObject({ allowed: ['rolled_back'], from: 'succeeded' })
    const rolled = (await patch(rel.id, d.id, { status: 'rolled_back' })).json()
    expect(rolled.status).toBe('rolled_back')
    expect(expectProblem(await patch(rel.id, d.id, { status: 'in_progress' }), 409).allowed).toEqual([])
    const planned = (await add(rel.id, { target: 'dr-site' })).json()
    expect(expectProblem(await patch(rel.id, planned.id, { status: 'succeeded' }), 409).allowed).toEqual([
      'in_progress'
    ])
    // The same status again is no move: only the notes change
    const noted = await patch(rel.id, planned.id, { status: 'planned', notes: 'Waiting for DNS' })
    expect(noted.json()).toMatchObject({ status: 'planned', notes: 'Waiting for DNS' })
    expect((await t.api('GET', `/api/v1/releases/${rel.id}/deployments?limit=1`)).json()).toMatchObject({
      items: [{ id: d.id, status: 'rolled_back' }],
      nextCursor: expect.any(String)
    })
  })

  it('checks input: target (400), CI (422), absent deployment or release (404), customers (403), closed releases (409)', async () => {
    const rel = await makeRelease(t, { managerId: manager.id, requesterId: customer.id })
    for (const body of [{}, { target: '' }, { target: 'x'.repeat(201) }, { target: 'a', status: 'done' }]) {
      expectProblem(await add(rel.id, body), 400)
    }
    expect(fieldsOf(expectProblem(await add(rel.id, { target: 'prod', ciId: ghost }), 422))).toEqual(['ciId'])
    expectProblem(await add(ghost, { target: 'prod' }), 404)
    expectProblem(await patch(rel.id, ghost, { status: 'in_progress' }), 404)
    const d = (await add(rel.id, { target: 'prod' })).json()
    expectProblem(await patch(rel.id, d.id, {}), 400)
    const other = await makeRelease(t, { managerId: manager.id })
    expectProblem(await patch(other.id, d.id, { status: 'in_progress' }), 404)

    // The customer is the requester: reads, never writes
    const read = await t.api('GET', `/api/v1/releases/${rel.id}/deployments`, { token: customer.token })
    expect(read.json().items.map((x: { id: string }) => x.id)).toEqual([d.id])
    expectProblem(await add(rel.id, { target: 'prod' }, customer.token), 403)

    await moveRelease(t, rel.id, 'cancelled')
    expectProblem(await add(rel.id, { target: 'prod' }), 409, 'CONFLICT')
    expectProblem(await patch(rel.id, d.id, { status: 'in_progress' }), 409)
    expect((await t.api('GET', `/api/v1/releases/${rel.id}/deployments`)).json().items).toHaveLength(1)
  })
})
