import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeCi, relate } from '../helpers/changes.js'

type Json = Record<string, any>

/** A list of CIs asking each CI's impact walks the graph once for the list, not once per CI. */
describe('GraphQL ConfigurationItem.impact is batched', () => {
  let t: TestApp
  const ci: Record<string, string> = {}

  beforeAll(async () => {
    t = await buildTestApp()
    // app -runs_on-> vm -runs_on-> host -depends_on-> app (a cycle), db alone
    for (const n of ['app', 'vm', 'host', 'db']) ci[n] = (await makeCi(t, `ldr-${n}`)).id
    await relate(t, ci.app!, ci.vm!, 'runs_on')
    await relate(t, ci.vm!, ci.host!, 'runs_on')
    await relate(t, ci.host!, ci.app!, 'depends_on')
  })
  afterAll(async () => t?.close())

  it('answers every CI of a list as REST answers each, with one impactMany per set of arguments', async () => {
    const many = vi.spyOn(t.app.services.ciGraph, 'impactMany')
    const single = vi.spyOn(t.app.services.ciGraph, 'impact')
    const res = await t.gql(
      `{ cis(q: "ldr-", first: 10) { edges { node { id
          both: impact(depth: 3) { root { id } direction depth nodes { ci { id } direction distance path type label } }
          down: impact(direction: downstream, depth: 1, types: ["runs_on"]) { nodes { ci { id } } }
      } } } }`
    )
    expect(res.body.errors).toBeUndefined()
    const nodes = res.body.data!.cis.edges.map((e: { node: Json }) => e.node) as Json[]
    expect(nodes.map(n => n.id).sort()).toEqual(Object.values(ci).sort())
    // Two argument sets (both/3 and downstream/1/runs_on): two batched calls for four CIs, no single ones
    expect(many).toHaveBeenCalledTimes(2)
    expect(many.mock.calls.map(c => [...c[1]].sort())).toEqual([Object.values(ci).sort(), Object.values(ci).sort()])
    expect(single).not.toHaveBeenCalled()
    many.mockRestore()
    single.mockRestore()

    for (const n of nodes) {
      const rest = (await t.api('GET', `/api/v1/cis/${n.id}/impact?depth=3`)).json()
      expect(n.both).toEqual({
        root: { id: n.id },
        direction: 'both',
        depth: 3,
        nodes: rest.nodes.map((x: Json) => ({ ...x, ci: { id: x.ci.id } }))
      })
    }
    const byId = new Map(nodes.map(n => [n.id, n]))
    expect(byId.get(ci.app!)!.down.nodes).toEqual([{ ci: { id: ci.vm } }])
    expect(byId.get(ci.db!)!.both.nodes).toEqual([])
    // The cycle ends: host reaches app and vm downstream and upstream, each once per direction
    expect(
      byId
        .get(ci.host!)!
        .both.nodes.map((x: Json) => `${x.direction}:${x.ci.id}:${x.distance}`)
        .sort()
    ).toEqual([`downstream:${ci.app}:1`, `downstream:${ci.vm}:2`, `upstream:${ci.vm}:1`, `upstream:${ci.app}:2`].sort())
  })

  it('names the argument when one is wrong', async () => {
    const res = await t.gql('{ cis(q: "ldr-", first: 2) { edges { node { impact(types: ["nope"]) { depth } } } } }')
    expect(res.body.errors?.[0]?.extensions?.code).toBe('VALIDATION_FAILED')
    expect(JSON.stringify(res.body.errors?.[0]?.extensions)).toContain('types')
  })
})
