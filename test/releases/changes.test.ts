import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { at, changeInAuthorize, decide, makeChange, move } from '../helpers/changes.js'
import { historyOf, makeIncident, makeOrganisation, makeUser } from '../helpers/factories.js'
import { expectProblem, fieldsOf } from '../helpers/problem.js'
import {
  approvedBy,
  bundle,
  cancelledChange,
  makeRelease,
  moveRelease,
  rejectedChange,
  scheduledChange
} from '../helpers/releases.js'

type User = Awaited<ReturnType<typeof makeUser>>

describe('changes bundled in a release, readiness and the changesReady requirement', () => {
  let t: TestApp
  let manager: User
  let approver: User
  let customer: User
  const ghost = '00000000-0000-7000-8000-000000000000'

  beforeAll(async () => {
    t = await buildTestApp()
    manager = await makeUser(t, ['manager'])
    approver = await makeUser(t, ['manager'])
    customer = await makeUser(t, ['customer'], { organisationId: (await makeOrganisation(t)).id })
    await approvedBy(t, approver.id)
  })
  afterAll(async () => t?.close())

  const toTest = async (id: string) => {
    await moveRelease(t, id, 'build')
    return moveRelease(t, id, 'test')
  }

  it('a release without changes is not ready: test → deploy answers 422 changesReady', async () => {
    const rel = await makeRelease(t, { managerId: manager.id })
    expect(rel.readiness).toEqual({ ready: false, total: 0, byStatus: {}, blocking: [] })
    await toTest(rel.id)
    const res = await t.api('POST', `/api/v1/releases/${rel.id}/transitions`, { body: { to: 'deploy' } })
    const problem = expectProblem(res, 422, 'VALIDATION_FAILED')
    expect(problem.errors).toEqual([{ field: 'changesReady', message: 'bundle at least one change first' }])
  })

  it('readiness follows the changes through their approval; deploy waits for the last blocking one', async () => {
    const ready = await scheduledChange(t, approver.token)
    const pending = await changeInAuthorize(t)
    const fresh = await makeChange(t)
    const rel = await makeRelease(t, { managerId: manager.id })
    const bundled = await bundle(t, rel.id, [fresh.id, ready.id, pending.id])
    // In number order, whatever order they were given in
    expect(bundled.changeIds).toEqual([ready.id, pending.id, fresh.id])
    expect(bundled.readiness).toEqual({
      ready: false,
      total: 3,
      byStatus: { scheduled: 1, authorize: 1, new: 1 },
      blocking: [
        { changeId: pending.id, number: pending.number, status: 'authorize' },
        { changeId: fresh.id, number: fresh.number, status: 'new' }
      ]
    })
    expect(bundled.version).toBe(rel.version + 1)

    await toTest(rel.id)
    const refused = await t.api('POST', `/api/v1/releases/${rel.id}/transitions`, { body: { to: 'deploy' } })
    const problem = expectProblem(refused, 422)
    expect(fieldsOf(problem)).toEqual(['changesReady'])
    expect(problem.errors![0]!.message).toContain(`${pending.number} (authorize)`)
    expect(problem.errors![0]!.message).toContain(`${fresh.number} (new)`)
    expect(problem.errors![0]!.message).not.toContain(ready.number)

    // The approver approves the pending one; the fresh one is taken through approval too
    expect((await decide(t, 'changes', pending.id, approver.token, { decision: 'approve' })).statusCode).toBe(200)
    await t.api('PATCH', `/api/v1/changes/${fresh.id}`, {
      body: {
        plannedStart: at(2, 8),
        plannedEnd: at(2, 10),
        version: (await t.api('GET', `/api/v1/changes/${fresh.id}`)).json().version
      }
    })
    await move(t, fresh.id, 'assess')
    await move(t, fresh.id, 'authorize')
    expect((await decide(t, 'changes', fresh.id, approver.token, { decision: 'approve' })).statusCode).toBe(200)
    // Implementing one keeps it ready
    await move(t, ready.id, 'implement')
    const now = (await t.api('GET', `/api/v1/releases/${rel.id}`)).json()
    expect(now.readiness).toEqual({ ready: true, total: 3, byStatus: { scheduled: 2, implement: 1 }, blocking: [] })
    const deployed = await t.api('POST', `/api/v1/releases/${rel.id}/transitions`, { body: { to: 'deploy' } })
    expect(deployed.statusCode, deployed.body).toBe(200)
    expect(deployed.json().status).toBe('deploy')
  })

  it('cancelled and rejected changes block; an approved change sent back for rework still counts as ready', async () => {
    const cancelled = await cancelledChange(t)
    const rejected = await rejectedChange(t, approver.token)
    expect(rejected.status).toBe('rejected')
    const rel = await makeRelease(t, { managerId: manager.id })
    const res = await bundle(t, rel.id, [cancelled.id, rejected.id])
    expect(res.readiness).toMatchObject({ ready: false, total: 2, byStatus: { cancelled: 1, rejected: 1 } })
    expect(res.readiness.blocking.map((b: { changeId: string }) => b.changeId).sort()).toEqual(
      [cancelled.id, rejected.id].sort()
    )

    // Readiness is documented as: a ready status, or the latest approval round approved
    const reworked = await scheduledChange(t, approver.token)
    await move(t, reworked.id, 'assess')
    const other = await makeRelease(t, { managerId: manager.id })
    const view = await bundle(t, other.id, [reworked.id])
    expect(view.readiness).toEqual({ ready: true, total: 1, byStatus: { assess: 1 }, blocking: [] })
  })

  it('a change sits in one open release (409 naming it); the bundle is audited on the release and on each change', async () => {
    const a = await makeChange(t)
    const b = await makeChange(t)
    const first = await makeRelease(t, { managerId: manager.id })
    const second = await makeRelease(t, { managerId: manager.id })
    await bundle(t, first.id, [a.id, b.id])
    expect((await t.api('GET', `/api/v1/changes/${a.id}`)).json().releaseId).toBe(first.id)

    const clash = await t.api('PUT', `/api/v1/releases/${second.id}/changes`, { body: { changeIds: [b.id] } })
    const problem = expectProblem(clash, 409, 'CONFLICT')
    expect(problem.errors).toEqual([
      { field: 'changeIds.0', message: `${b.number} is bundled in ${first.number}, which is still open` }
    ])
    expect(problem.releases).toEqual([first.number])

    // Unbundle b from the first, then the second may take it
    const trimmed = await bundle(t, first.id, [a.id])
    expect(trimmed.changeIds).toEqual([a.id])
    const taken = await bundle(t, second.id, [b.id])
    expect(taken.changeIds).toEqual([b.id])
    expect((await t.api('GET', `/api/v1/changes/${b.id}`)).json().releaseId).toBe(second.id)
    // Same list again: nothing to record
    const again = await bundle(t, second.id, [b.id, b.id])
    expect(again.version).toBe(taken.version)

    // A closed (cancelled) release lets its changes go to another
    await moveRelease(t, first.id, 'cancelled')
    expect((await bundle(t, second.id, [a.id, b.id])).changeIds.sort()).toEqual([a.id, b.id].sort())
    expectProblem(await t.api('PUT', `/api/v1/releases/${first.id}/changes`, { body: { changeIds: [] } }), 409)

    const onRelease = (await historyOf(t, 'releases', first.id)).filter(h => h.action === 'changes.set')
    expect(onRelease.map(h => h.changes)).toEqual([
      [{ field: 'changeIds', old: [], new: [a.id, b.id] }],
      [{ field: 'changeIds', old: expect.arrayContaining([a.id, b.id]), new: [a.id] }]
    ])
    const onB = (await historyOf(t, 'changes', b.id)).filter(h => h.action.startsWith('release.'))
    expect(onB.map(h => [h.action, h.changes])).toEqual([
      ['release.bundled', [{ field: 'releaseId', old: null, new: first.id }]],
      ['release.unbundled', [{ field: 'releaseId', old: first.id, new: null }]],
      ['release.bundled', [{ field: 'releaseId', old: null, new: second.id }]]
    ])
    const onA = (await historyOf(t, 'changes', a.id)).filter(h => h.action.startsWith('release.'))
    expect(onA.at(-1)!.changes).toEqual([{ field: 'releaseId', old: first.id, new: second.id }])

    // The list of a release's changes: change list rows
    const list = await t.api('GET', `/api/v1/releases/${second.id}/changes?limit=1`)
    expect(list.statusCode, list.body).toBe(200)
    const page = list.json()
    expect(page.items).toHaveLength(1)
    expect(page.items[0]).toMatchObject({ kind: 'change', type: 'normal', risk: 'medium' })
    const rest = (await t.api('GET', `/api/v1/releases/${second.id}/changes?cursor=${page.nextCursor}`)).json()
    expect([...page.items, ...rest.items].map((c: { id: string }) => c.id).sort()).toEqual([a.id, b.id].sort())
    expect(rest.nextCursor).toBeNull()
  })

  it('refuses what is not a change (422 naming the index), absent ids, customers, and unbundles with []', async () => {
    const rel = await makeRelease(t, { managerId: manager.id })
    const inc = await makeIncident(t)
    const c = await makeChange(t)
    const res = await t.api('PUT', `/api/v1/releases/${rel.id}/changes`, { body: { changeIds: [c.id, inc.id, ghost] } })
    const problem = expectProblem(res, 422)
    expect(problem.errors).toEqual([
      { field: 'changeIds.1', message: `${inc.number} is not a change` },
      { field: 'changeIds.2', message: 'no such change' }
    ])
    expect((await t.api('GET', `/api/v1/releases/${rel.id}`)).json().changeIds).toEqual([])
    expectProblem(await t.api('PUT', `/api/v1/releases/${rel.id}/changes`, { body: { changeIds: ['x'] } }), 400)
    expectProblem(await t.api('PUT', `/api/v1/releases/${rel.id}/changes`, { body: {} }), 400)
    expectProblem(await t.api('PUT', `/api/v1/releases/${ghost}/changes`, { body: { changeIds: [] } }), 404)
    expectProblem(await t.api('GET', `/api/v1/releases/${ghost}/changes`), 404)

    await bundle(t, rel.id, [c.id])
    // A customer never sees this release (another organisation's requester): 404, not 403
    expectProblem(
      await t.api('PUT', `/api/v1/releases/${rel.id}/changes`, { token: customer.token, body: { changeIds: [] } }),
      404
    )
    const own = await makeRelease(t, { managerId: manager.id, requesterId: customer.id })
    expectProblem(
      await t.api('PUT', `/api/v1/releases/${own.id}/changes`, { token: customer.token, body: { changeIds: [c.id] } }),
      403
    )
    const emptied = await bundle(t, rel.id, [])
    expect(emptied).toMatchObject({ changeIds: [], readiness: { ready: false, total: 0 } })
    expect((await t.api('GET', `/api/v1/changes/${c.id}`)).json().releaseId).toBeNull()
  })
})
