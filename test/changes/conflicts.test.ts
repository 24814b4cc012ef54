import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { at, makeChange, makeCi, move, relate } from '../helpers/changes.js'
import { makeUser } from '../helpers/factories.js'
import { expectProblem, fieldsOf } from '../helpers/problem.js'

type Conflict = Record<string, unknown> & { reason: string; changeId: string | null }

/** A change's conflicts through the impact graph: REST /changes/{id}/conflicts and GraphQL Change.conflicts. */
describe('change conflicts through the CI graph', () => {
  let t: TestApp
  let tech: { token: string }
  let customer: { token: string }
  const conflicts = async (id: string, qs = '', token?: string) => {
    const res = await t.api('GET', `/api/v1/changes/${id}/conflicts${qs}`, token ? { token } : {})
    expect(res.statusCode, res.body).toBe(200)
    return res.json() as {
      changeId: string
      plannedStart: string | null
      plannedEnd: string | null
      depth: number
      items: Conflict[]
    }
  }

  beforeAll(async () => {
    t = await buildTestApp()
    tech = await makeUser(t, ['technician'])
    customer = await makeUser(t, ['customer'])
  })
  afterAll(async () => t?.close())

  it('finds changes on CIs several hops up or down the graph, each way, with distance and path', async () => {
    // app -depends_on-> db -runs_on-> host
    const [app, db, host, lonely] = [await makeCi(t), await makeCi(t), await makeCi(t), await makeCi(t)]
    await relate(t, app.id, db.id, 'depends_on')
    await relate(t, db.id, host.id, 'runs_on')
    const onApp = await makeChange(t, { plannedStart: at(3, 8), plannedEnd: at(3, 12), ciIds: [app.id] })
    const onHost = await makeChange(t, { plannedStart: at(3, 10), plannedEnd: at(3, 14), ciIds: [host.id] })
    // Related but planned later: no collision
    await makeChange(t, { plannedStart: at(3, 14), plannedEnd: at(3, 16), ciIds: [app.id] })
    // Overlapping but on an unrelated CI
    await makeChange(t, { plannedStart: at(3, 9), plannedEnd: at(3, 11), ciIds: [lonely.id] })

    const mine = await conflicts(onApp.id, '', tech.token)
    expect(mine).toMatchObject({ changeId: onApp.id, plannedStart: at(3, 8), plannedEnd: at(3, 12), depth: 3 })
    expect(mine.items).toEqual([
      {
        reason: 'related_ci',
        changeId: onHost.id,
        number: onHost.number,
        ciIds: [host.id],
        distance: 2,
        direction: 'downstream',
        path: [app.id, db.id, host.id]
      }
    ])
    // From the host's end the app stands on it: upstream
    expect((await conflicts(onHost.id)).items).toEqual([
      {
        reason: 'related_ci',
        changeId: onApp.id,
        number: onApp.number,
        ciIds: [app.id],
        distance: 2,
        direction: 'upstream',
        path: [host.id, db.id, app.id]
      }
    ])
    // One hop reaches only the database, where no change is planned
    expect((await conflicts(onApp.id, '?depth=1')).items).toEqual([])
  })

  it('bounds the walk by depth (default 3, at most 5)', async () => {
    const chain = []
    for (let i = 0; i < 5; i++) chain.push(await makeCi(t))
    for (let i = 0; i < 4; i++) await relate(t, chain[i]!.id, chain[i + 1]!.id, 'depends_on')
    const first = await makeChange(t, { plannedStart: at(5, 8), plannedEnd: at(5, 12), ciIds: [chain[0]!.id] })
    const last = await makeChange(t, { plannedStart: at(5, 8), plannedEnd: at(5, 12), ciIds: [chain[4]!.id] })
    expect((await conflicts(first.id)).items).toEqual([])
    expect((await conflicts(first.id, '?depth=4')).items).toEqual([
      expect.objectContaining({ reason: 'related_ci', changeId: last.id, distance: 4 })
    ])
    expect(fieldsOf(expectProblem(await t.api('GET', `/api/v1/changes/${first.id}/conflicts?depth=6`), 400))).toEqual([
      'depth'
    ])
    expect(fieldsOf(expectProblem(await t.api('GET', `/api/v1/changes/${first.id}/conflicts?depth=0`), 400))).toEqual([
      'depth'
    ])
  })

  it('walks one direction at a time: two VMs on one host do not collide, changes on the host do', async () => {
    const [vm1, vm2, host] = [await makeCi(t), await makeCi(t), await makeCi(t)]
    await relate(t, vm1.id, host.id, 'runs_on')
    await relate(t, vm2.id, host.id, 'runs_on')
    const a = await makeChange(t, { plannedStart: at(7, 8), plannedEnd: at(7, 12), ciIds: [vm1.id] })
    const b = await makeChange(t, { plannedStart: at(7, 8), plannedEnd: at(7, 12), ciIds: [vm2.id] })
    expect((await conflicts(a.id)).items).toEqual([])
    const h = await makeChange(t, { plannedStart: at(7, 11), plannedEnd: at(7, 13), ciIds: [host.id] })
    expect((await conflicts(h.id)).items.map(c => [c.reason, c.changeId, c.direction])).toEqual([
      ['related_ci', a.id, 'upstream'],
      ['related_ci', b.id, 'upstream']
    ])
  })

  it('ends on cycles and answers the nearest way round', async () => {
    // a -> b -> c -> a
    const [a, b, c] = [await makeCi(t), await makeCi(t), await makeCi(t)]
    await relate(t, a.id, b.id, 'depends_on')
    await relate(t, b.id, c.id, 'depends_on')
    await relate(t, c.id, a.id, 'depends_on')
    const onA = await makeChange(t, { plannedStart: at(9, 8), plannedEnd: at(9, 12), ciIds: [a.id] })
    const onC = await makeChange(t, { plannedStart: at(9, 8), plannedEnd: at(9, 12), ciIds: [c.id] })
    expect((await conflicts(onA.id, '?depth=5')).items).toEqual([
      {
        reason: 'related_ci',
        changeId: onC.id,
        number: onC.number,
        ciIds: [c.id],
        distance: 1,
        direction: 'upstream',
        path: [a.id, c.id]
      }
    ])
  })

  it('reports same CI and freezes, leaves out cancelled changes and answers nothing without a window', async () => {
    const [ci, dep] = [await makeCi(t), await makeCi(t)]
    await relate(t, ci.id, dep.id, 'runs_on')
    const a = await makeChange(t, { plannedStart: at(12, 8), plannedEnd: at(12, 12), ciIds: [ci.id] })
    const b = await makeChange(t, { plannedStart: at(12, 9), plannedEnd: at(12, 10), ciIds: [ci.id, dep.id] })
    const gone = await makeChange(t, { plannedStart: at(12, 9), plannedEnd: at(12, 10), ciIds: [ci.id] })
    await move(t, gone.id, 'cancelled')
    const freeze = (
      await t.api('POST', '/api/v1/change-freezes', { body: { name: 'Audit', startsAt: at(12, 11), endsAt: at(13) } })
    ).json()
    expect((await conflicts(a.id)).items).toEqual([
      { reason: 'same_ci', changeId: b.id, number: b.number, ciIds: [ci.id] },
      {
        reason: 'related_ci',
        changeId: b.id,
        number: b.number,
        ciIds: [dep.id],
        distance: 1,
        direction: 'downstream',
        path: [ci.id, dep.id]
      },
      { reason: 'freeze', changeId: null, number: null, freezeId: freeze.id, freezeName: 'Audit' }
    ])
    const unplanned = await makeChange(t, { ciIds: [ci.id] })
    expect(await conflicts(unplanned.id)).toEqual({
      changeId: unplanned.id,
      plannedStart: null,
      plannedEnd: null,
      depth: 3,
      items: []
    })
  })

  it('is for staff: 403 for a customer, 404 for no such change, 401 without a token', async () => {
    const c = await makeChange(t, { plannedStart: at(14, 8), plannedEnd: at(14, 9) })
    expectProblem(await t.api('GET', `/api/v1/changes/${c.id}/conflicts`, { token: customer.token }), 403)
    expectProblem(await t.api('GET', '/api/v1/changes/01890000-0000-7000-8000-000000000000/conflicts'), 404)
    expectProblem(await t.api('GET', `/api/v1/changes/${c.id}/conflicts`, { token: null }), 401)
  })

  it('answers Change.conflicts in GraphQL, batched over a list, with the depth argument', async () => {
    const [app, db, host] = [await makeCi(t), await makeCi(t), await makeCi(t)]
    await relate(t, app.id, db.id, 'depends_on')
    await relate(t, db.id, host.id, 'runs_on')
    const onApp = await makeChange(t, { plannedStart: at(18, 8), plannedEnd: at(18, 12), ciIds: [app.id] })
    const onHost = await makeChange(t, { plannedStart: at(18, 10), plannedEnd: at(18, 14), ciIds: [host.id] })
    const one = await t.gql(
      `query($id: ID!) { change(id: $id) {
        deep: conflicts { reason changeId number ciIds distance direction path freezeId freezeName change { id } }
        near: conflicts(depth: 1) { reason }
      } }`,
      { id: onApp.id },
      tech.token
    )
    expect(one.body.errors).toBeUndefined()
    expect(one.body.data!.change.deep).toEqual([
      {
        reason: 'related_ci',
        changeId: onHost.id,
        number: onHost.number,
        ciIds: [host.id],
        distance: 2,
        direction: 'downstream',
        path: [app.id, db.id, host.id],
        freezeId: null,
        freezeName: null,
        change: { id: onHost.id }
      }
    ])
    expect(one.body.data!.change.near).toEqual([])

    const list = await t.gql(
      `query($f: String) { changes(filter: $f, first: 10) { edges { node { id conflicts { changeId direction } } } } }`,
      { f: `number=in=(${onApp.number},${onHost.number})` },
      tech.token
    )
    expect(list.body.errors).toBeUndefined()
    const byId = new Map(
      list.body.data!.changes.edges.map((e: { node: { id: string; conflicts: unknown[] } }) => [
        e.node.id,
        e.node.conflicts
      ])
    )
    expect(byId.get(onApp.id)).toEqual([{ changeId: onHost.id, direction: 'downstream' }])
    expect(byId.get(onHost.id)).toEqual([{ changeId: onApp.id, direction: 'upstream' }])

    const bad = await t.gql('query($id: ID!) { change(id: $id) { conflicts(depth: 9) { reason } } }', { id: onApp.id })
    expect(bad.body.errors?.[0]?.extensions?.code).toBe('VALIDATION_FAILED')
    const cust = await t.gql(
      'query($id: ID!) { change(id: $id) { conflicts { reason } } }',
      { id: onApp.id },
      customer.token
    )
    expect(cust.body.errors?.length).toBeGreaterThan(0)
  })
})
