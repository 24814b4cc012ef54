import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeChange, makeCi, relate } from '../helpers/changes.js'
import { makeUser } from '../helpers/factories.js'
import { expectProblem, fieldsOf } from '../helpers/problem.js'

type Json = Record<string, any>

describe('relationship catalogue, impact analysis and the tickets of a CI over REST', () => {
  let t: TestApp
  let tech: { token: string }
  let finance: { token: string }
  // service -depends_on-> app -runs_on-> vm -runs_on-> host ; db part_of cluster; app depends_on db;
  // and a cycle: host -depends_on-> app (nonsense, but data is data)
  const ci: Record<string, string> = {}

  beforeAll(async () => {
    t = await buildTestApp()
    tech = await makeUser(t, ['technician'])
    finance = await makeUser(t, ['finance'])
    for (const n of ['service', 'app', 'vm', 'host', 'db', 'cluster', 'lonely'])
      ci[n] = (await makeCi(t, `imp-${n}`)).id
    await relate(t, ci.service!, ci.app!, 'depends_on')
    await relate(t, ci.app!, ci.vm!, 'runs_on')
    await relate(t, ci.vm!, ci.host!, 'runs_on')
    await relate(t, ci.app!, ci.db!, 'depends_on')
    await relate(t, ci.db!, ci.cluster!, 'part_of')
    await relate(t, ci.host!, ci.app!, 'depends_on')
  })
  afterAll(async () => t?.close())

  const impact = async (id: string, qs = '') => {
    const res = await t.api('GET', `/api/v1/cis/${id}/impact${qs}`, { token: tech.token })
    expect(res.statusCode, res.body).toBe(200)
    return res.json() as { root: Json; nodes: Json[] }
  }
  const names = (nodes: Json[]) => nodes.map(n => `${n.direction}:${n.ci.name}@${n.distance}`)
  const nameOf = (id: string) => Object.entries(ci).find(([, v]) => v === id)![0]

  it('ships the relationship catalogue with both readings; admins add types, in-use ones stay', async () => {
    const list = (await t.api('GET', '/api/v1/ci-relationship-types', { token: tech.token })).json().items as Json[]
    expect(list.map(r => [r.name, r.label, r.reverseLabel])).toEqual(
      expect.arrayContaining([
        ['runs_on', 'runs on', 'hosts'],
        ['depends_on', 'depends on', 'used by'],
        ['part_of', 'part of', 'contains'],
        ['installed_on', 'installed on', 'has installed'],
        ['connects_to', 'connects to', 'connected from']
      ])
    )
    const made = await t.api('POST', '/api/v1/ci-relationship-types', {
      body: { name: 'backed_up_by', label: 'backed up by', reverseLabel: 'backs up' }
    })
    expect(made.statusCode, made.body).toBe(201)
    const dup = await t.api('POST', '/api/v1/ci-relationship-types', {
      body: { name: 'backed_up_by', label: 'x', reverseLabel: 'y' }
    })
    expect(fieldsOf(expectProblem(dup, 409))).toEqual(['name'])
    const runsOn = list.find(r => r.name === 'runs_on')!
    expectProblem(await t.api('DELETE', `/api/v1/ci-relationship-types/${runsOn.id}`), 409)
    expect((await t.api('DELETE', `/api/v1/ci-relationship-types/${made.json().id}`)).statusCode).toBe(204)
  })

  it('answers every CI beneath a service, with path and distance, and ends in cycles', async () => {
    const down = await impact(ci.service!, '?direction=downstream&depth=5')
    expect(down.root.name).toBe('imp-service')
    expect(names(down.nodes).sort()).toEqual(
      [
        'downstream:imp-app@1',
        'downstream:imp-db@2',
        'downstream:imp-vm@2',
        'downstream:imp-cluster@3',
        'downstream:imp-host@3'
      ].sort()
    )
    // nearest first
    const distances = down.nodes.map(n => n.distance)
    expect(distances).toEqual([...distances].sort((a, b) => a - b))
    const host = down.nodes.find(n => n.ci.name === 'imp-host')!
    expect(host.path.map(nameOf)).toEqual(['service', 'app', 'vm', 'host'])
    expect(host).toMatchObject({ type: 'runs_on', label: 'runs on' })
    // the cycle host -> app is not followed back into app: each CI once
    expect(down.nodes.filter(n => n.ci.name === 'imp-app')).toHaveLength(1)
  })

  it('goes upstream (what breaks with it), both ways, to a depth, and by type', async () => {
    const up = await impact(ci.host!, '?direction=upstream&depth=2')
    expect(names(up.nodes)).toEqual(['upstream:imp-vm@1', 'upstream:imp-app@2'])
    expect(up.nodes[0]).toMatchObject({ type: 'runs_on', label: 'hosts' })
    const both = await impact(ci.app!, '?depth=1')
    expect(names(both.nodes).sort()).toEqual(
      ['downstream:imp-db@1', 'downstream:imp-vm@1', 'upstream:imp-host@1', 'upstream:imp-service@1'].sort()
    )
    const runsOnly = await impact(ci.service!, '?direction=downstream&depth=5&types=depends_on')
    expect(names(runsOnly.nodes)).toEqual(['downstream:imp-app@1', 'downstream:imp-db@2'])
    expect((await impact(ci.lonely!)).nodes).toEqual([])
    expect(fieldsOf(expectProblem(await t.api('GET', `/api/v1/cis/${ci.app}/impact?types=nope`), 422))).toEqual([
      'types'
    ])
    expect(fieldsOf(expectProblem(await t.api('GET', `/api/v1/cis/${ci.app}/impact?depth=11`), 400))).toContain('depth')
    expectProblem(await t.api('GET', '/api/v1/cis/00000000-0000-7000-8000-000000000000/impact'), 404)
  })

  it('answers at most `limit` CIs, the nearest, and says when more lie within the depth', async () => {
    const all = (await impact(ci.service!, '?direction=downstream&depth=5')) as Json
    expect(all).toMatchObject({ limit: 1000, truncated: false })
    expect(all.nodes).toHaveLength(5)
    // exactly as many as there are: nothing cut
    const five = (await impact(ci.service!, '?direction=downstream&depth=5&limit=5')) as Json
    expect(five).toMatchObject({ limit: 5, truncated: false })
    expect(five.nodes).toEqual(all.nodes)
    for (const n of [1, 2, 4]) {
      const cut = (await impact(ci.service!, `?direction=downstream&depth=5&limit=${n}`)) as Json
      expect(cut).toMatchObject({ limit: n, truncated: true })
      // the first n of the whole answer, in its order (nearest, then downstream first, then id)
      expect(cut.nodes).toEqual(all.nodes.slice(0, n))
    }
    // both directions share one limit
    const both = (await impact(ci.app!, '?depth=1')) as Json
    expect(both.nodes).toHaveLength(4)
    const two = (await impact(ci.app!, '?depth=1&limit=3')) as Json
    expect(two).toMatchObject({ truncated: true })
    expect(two.nodes).toEqual(both.nodes.slice(0, 3))
    for (const bad of ['0', '10001', 'x'])
      expect(
        fieldsOf(
          expectProblem(await t.api('GET', `/api/v1/cis/${ci.app}/impact?limit=${bad}`, { token: tech.token }), 400)
        )
      ).toContain('limit')
  })

  it('lists the open tickets naming a CI; finance (no ticket reading) may not', async () => {
    const change = await makeChange(t, { ciIds: [ci.app, ci.db] })
    const other = await makeChange(t, { ciIds: [ci.db] })
    const res = await t.api('GET', `/api/v1/cis/${ci.app}/tickets`, { token: tech.token })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json().items.map((i: Json) => [i.kind, i.number])).toEqual([['change', change.number]])
    const page1 = (await t.api('GET', `/api/v1/cis/${ci.db}/tickets?limit=1&kind=change`)).json()
    expect(page1.items.map((i: Json) => i.id)).toEqual([other.id])
    const page2 = (
      await t.api('GET', `/api/v1/cis/${ci.db}/tickets?limit=1&kind=change&cursor=${page1.nextCursor}`)
    ).json()
    expect(page2.items.map((i: Json) => i.id)).toEqual([change.id])
    expect((await t.api('GET', `/api/v1/cis/${ci.db}/tickets?kind=incident`)).json().items).toEqual([])
    expect(fieldsOf(expectProblem(await t.api('GET', `/api/v1/cis/${ci.db}/tickets?kind=nope`), 422))).toEqual(['kind'])
    expectProblem(await t.api('GET', `/api/v1/cis/${ci.db}/tickets`, { token: finance.token }), 403)
  })
})
