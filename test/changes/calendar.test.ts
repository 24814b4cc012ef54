import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { at, makeChange, makeCi, move, relate } from '../helpers/changes.js'
import { makeUser } from '../helpers/factories.js'
import { expectProblem, fieldsOf } from '../helpers/problem.js'

type Entry = { id: string; conflicts: Record<string, unknown>[]; ciIds: string[] }

describe('the change calendar', () => {
  let t: TestApp
  let tech: { token: string }
  let customer: { token: string }
  const calendar = async (qs: string, token?: string) => {
    const res = await t.api('GET', `/api/v1/changes/calendar?${qs}`, token ? { token } : {})
    expect(res.statusCode, res.body).toBe(200)
    return res.json() as { items: Entry[]; nextCursor: string | null }
  }

  beforeAll(async () => {
    t = await buildTestApp()
    tech = await makeUser(t, ['technician'])
    customer = await makeUser(t, ['customer'])
  })
  afterAll(async () => t?.close())

  it('flags same-CI, related-CI and freeze conflicts; ignores cancelled and non-overlapping changes', async () => {
    const [web, db, vm, other] = [await makeCi(t), await makeCi(t), await makeCi(t), await makeCi(t)]
    await relate(t, web.id, vm.id, 'runs_on')
    const a = await makeChange(t, { title: 'A', plannedStart: at(10, 8), plannedEnd: at(10, 12), ciIds: [web.id] })
    const b = await makeChange(t, {
      title: 'B',
      plannedStart: at(10, 10),
      plannedEnd: at(10, 14),
      ciIds: [web.id, db.id]
    })
    const c = await makeChange(t, { title: 'C', plannedStart: at(10, 11), plannedEnd: at(10, 13), ciIds: [vm.id] })
    // Touches A's end exactly: no overlap (half-open windows)
    const d = await makeChange(t, { title: 'D', plannedStart: at(10, 14), plannedEnd: at(10, 16), ciIds: [web.id] })
    const gone = await makeChange(t, { plannedStart: at(10, 8), plannedEnd: at(10, 20), ciIds: [web.id, vm.id] })
    await move(t, gone.id, 'cancelled')
    await makeChange(t, { plannedStart: at(10, 9), plannedEnd: at(10, 10), ciIds: [other.id] })
    const freeze = (
      await t.api('POST', '/api/v1/change-freezes', {
        body: { name: 'Payroll run', startsAt: at(10, 13), endsAt: at(11) }
      })
    ).json()

    const { items, nextCursor } = await calendar(`from=${at(10)}&to=${at(11)}`, tech.token)
    expect(nextCursor).toBeNull()
    const ids = items.map(i => i.id)
    expect(ids).not.toContain(gone.id)
    const byId = new Map(items.map(i => [i.id, i]))
    expect(byId.get(a.id)!.conflicts).toEqual([
      { reason: 'same_ci', changeId: b.id, number: b.number, ciIds: [web.id] },
      {
        reason: 'related_ci',
        changeId: c.id,
        number: c.number,
        ciIds: [vm.id],
        distance: 1,
        direction: 'downstream',
        path: [web.id, vm.id]
      }
    ])
    const upstream = {
      reason: 'related_ci',
      ciIds: [web.id],
      distance: 1,
      direction: 'upstream',
      path: [vm.id, web.id]
    }
    expect(byId.get(c.id)!.conflicts).toEqual(
      expect.arrayContaining([
        { ...upstream, changeId: a.id, number: a.number },
        { ...upstream, changeId: b.id, number: b.number }
      ])
    )
    expect(byId.get(b.id)!.conflicts).toContainEqual({
      reason: 'freeze',
      changeId: null,
      number: null,
      freezeId: freeze.id,
      freezeName: 'Payroll run'
    })
    expect(byId.get(d.id)!.conflicts).toEqual([
      { reason: 'freeze', changeId: null, number: null, freezeId: freeze.id, freezeName: 'Payroll run' }
    ])
    expect(byId.get(a.id)).toMatchObject({
      number: a.number,
      title: 'A',
      type: 'normal',
      status: 'new',
      ciIds: [web.id]
    })
    // By start, then id
    const starts = items.map(i => (i as unknown as { plannedStart: string }).plannedStart)
    expect([...starts].sort()).toEqual(starts)
  })

  it('sees conflicts with changes that reach in from outside the window', async () => {
    const ci = await makeCi(t)
    const early = await makeChange(t, { plannedStart: at(15, 20), plannedEnd: at(16, 2), ciIds: [ci.id] })
    const late = await makeChange(t, { plannedStart: at(16, 1), plannedEnd: at(16, 3), ciIds: [ci.id] })
    // The window holds only `late`... and `early` ends inside it; a window starting after `early` still shows the clash
    const { items } = await calendar(`from=${at(16, 2)}&to=${at(17)}`)
    expect(items.map(i => i.id)).toEqual([late.id])
    expect(items[0]!.conflicts).toEqual([
      { reason: 'same_ci', changeId: early.id, number: early.number, ciIds: [ci.id] }
    ])
  })

  it('pages by start with a cursor, conflicts intact on every page', async () => {
    const ci = await makeCi(t)
    const made = []
    for (let h = 0; h < 3; h++) {
      made.push(await makeChange(t, { plannedStart: at(20, h), plannedEnd: at(20, h + 2), ciIds: [ci.id] }))
    }
    const first = await calendar(`from=${at(20)}&to=${at(21)}&limit=2`)
    expect(first.items.map(i => i.id)).toEqual([made[0]!.id, made[1]!.id])
    const second = await calendar(`from=${at(20)}&to=${at(21)}&limit=2&cursor=${first.nextCursor}`)
    expect(second.items.map(i => i.id)).toEqual([made[2]!.id])
    expect(second.nextCursor).toBeNull()
    expect(second.items[0]!.conflicts).toEqual([
      { reason: 'same_ci', changeId: made[1]!.id, number: made[1]!.number, ciIds: [ci.id] }
    ])
  })

  it('checks the window and the caller', async () => {
    expect(
      fieldsOf(expectProblem(await t.api('GET', `/api/v1/changes/calendar?from=${at(2)}&to=${at(1)}`), 422))
    ).toEqual(['to'])
    const far = new Date(Date.UTC(2032, 0, 3)).toISOString()
    expect(
      fieldsOf(expectProblem(await t.api('GET', `/api/v1/changes/calendar?from=${at(1)}&to=${far}`), 422))
    ).toEqual(['to'])
    expect(fieldsOf(expectProblem(await t.api('GET', `/api/v1/changes/calendar?from=${at(1)}`), 400))).toContain('to')
    expect(
      fieldsOf(expectProblem(await t.api('GET', `/api/v1/changes/calendar?from=${at(1)}&to=${at(2)}&limit=501`), 400))
    ).toContain('limit')
    expect(
      fieldsOf(expectProblem(await t.api('GET', `/api/v1/changes/calendar?from=${at(1)}&to=${at(2)}&cursor=abc`), 400))
    ).toContain('cursor')
    expectProblem(
      await t.api('GET', `/api/v1/changes/calendar?from=${at(1)}&to=${at(2)}`, { token: customer.token }),
      403
    )
    expectProblem(await t.api('GET', `/api/v1/changes/calendar?from=${at(1)}&to=${at(2)}`, { token: null }), 401)
  })
})
