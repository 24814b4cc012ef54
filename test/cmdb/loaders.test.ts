import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeCi, relate } from '../helpers/changes.js'
import { makeIncident } from '../helpers/factories.js'

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

  it('cuts each CI of a list at the limit on its own, as REST does', async () => {
    const res = await t.gql(
      `{ cis(q: "ldr-", first: 10) { edges { node { id
          impact(depth: 3, limit: 2) { limit truncated nodes { ci { id } direction distance } }
      } } } }`
    )
    expect(res.body.errors).toBeUndefined()
    const nodes = res.body.data!.cis.edges.map((e: { node: Json }) => e.node) as Json[]
    expect(nodes).toHaveLength(4)
    for (const n of nodes) {
      const rest = (await t.api('GET', `/api/v1/cis/${n.id}/impact?depth=3&limit=2`)).json()
      expect(n.impact).toEqual({
        limit: 2,
        truncated: rest.truncated,
        nodes: rest.nodes.map((x: Json) => ({ ci: { id: x.ci.id }, direction: x.direction, distance: x.distance }))
      })
    }
    const byId = new Map(nodes.map(n => [n.id, n.impact]))
    // app, vm and host each reach four CI/direction pairs within three hops (cut at 2); db reaches none
    for (const k of ['app', 'vm', 'host']) expect(byId.get(ci[k]!)).toMatchObject({ truncated: true })
    expect(byId.get(ci.db!)).toEqual({ limit: 2, truncated: false, nodes: [] })
    const bad = await t.gql('{ cis(q: "ldr-", first: 2) { edges { node { impact(limit: 0) { depth } } } } }')
    expect(JSON.stringify(bad.body.errors?.[0]?.extensions)).toContain('limit')
  })

  it('names the argument when one is wrong', async () => {
    const res = await t.gql('{ cis(q: "ldr-", first: 2) { edges { node { impact(types: ["nope"]) { depth } } } } }')
    expect(res.body.errors?.[0]?.extensions?.code).toBe('VALIDATION_FAILED')
    expect(JSON.stringify(res.body.errors?.[0]?.extensions)).toContain('types')
  })
})

/**
 * A page of CIs asking each CI's relationships, history, tickets and impact costs a fixed number of SQL
 * statements, whatever the number of CIs: the same for 20 CIs as for 2 (one query per CI per field would
 * add at least 3 × 18), and fewer than the CIs listed.
 */
describe('GraphQL ConfigurationItem connections are batched', () => {
  let t: TestApp
  const ids: string[] = []
  const incidentOf = new Map<string, string[]>()

  beforeAll(async () => {
    t = await buildTestApp()
    for (let i = 0; i < 20; i++) ids.push((await makeCi(t, `npq-${String(i).padStart(2, '0')}`)).id)
    // A chain: npq-00 runs on npq-01 … npq-18 runs on npq-19 (two relationships each, one at the ends)
    for (let i = 0; i < 19; i++) await relate(t, ids[i]!, ids[i + 1]!, 'runs_on')
    // An incident naming npq-(2k) and npq-(2k+1), for k = 0 … 4: one ticket shared by two CIs
    for (let k = 0; k < 5; k++) {
      const inc = await makeIncident(t, { ciIds: [ids[2 * k]!, ids[2 * k + 1]!] })
      for (const c of [ids[2 * k]!, ids[2 * k + 1]!]) incidentOf.set(c, [inc.id])
    }
  })
  afterAll(async () => t?.close())

  const query = (first: number) => `{ cis(q: "npq-", first: ${first}) { edges { node { id name
      relationships { edges { node { id direction relatedCi { id } } } pageInfo { hasNextPage } }
      one: relationships(first: 1) { edges { node { id } } pageInfo { hasNextPage endCursor } }
      history { edges { node { id action } } }
      tickets { edges { node { id kind } } }
      allIncidents: tickets(state: "all", kind: ["incident"]) { edges { node { id } } }
      impact(depth: 2, limit: 10) { nodes { ci { id } distance } }
  } } } }`

  async function statementsOf(q: string) {
    const session = (t.db as unknown as { session: { prepareQuery: (...a: unknown[]) => unknown } }).session
    const spy = vi.spyOn(session, 'prepareQuery')
    try {
      const res = await t.gql(q)
      return { res, count: spy.mock.calls.length }
    } finally {
      spy.mockRestore()
    }
  }

  it('answers 20 CIs in as many statements as 2, each CI as REST answers it', async () => {
    const few = await statementsOf(query(2))
    const many = await statementsOf(query(20))
    expect(few.res.body.errors).toBeUndefined()
    expect(many.res.body.errors).toBeUndefined()
    const nodes = many.res.body.data!.cis.edges.map((e: { node: Json }) => e.node) as Json[]
    expect(nodes).toHaveLength(20)
    expect(few.res.body.data!.cis.edges).toHaveLength(2)
    expect(many.count).toBe(few.count)
    expect(many.count).toBeLessThan(20)

    for (const n of nodes) {
      const i = ids.indexOf(n.id)
      expect(i).toBeGreaterThanOrEqual(0)
      const rels = (await t.api('GET', `/api/v1/cis/${n.id}/relationships`)).json()
      const neighbours = [ids[i - 1], ids[i + 1]].filter(Boolean)
      expect(n.relationships.edges.map((e: Json) => e.node.relatedCi.id).sort()).toEqual(neighbours.sort())
      expect(n.relationships.edges.map((e: Json) => e.node.id)).toEqual(rels.items.map((r: Json) => r.id))
      expect(n.relationships.pageInfo.hasNextPage).toBe(false)
      // first: 1 is the first relationship, with a next page where there are two
      expect(n.one.edges.map((e: Json) => e.node.id)).toEqual([rels.items[0].id])
      expect(n.one.pageInfo.hasNextPage).toBe(neighbours.length === 2)
      const history = (await t.api('GET', `/api/v1/cis/${n.id}/history`)).json()
      // created, then one relationship.added per neighbour
      expect(n.history.edges.map((e: Json) => e.node.action)).toEqual([
        'created',
        ...neighbours.map(() => 'relationship.added')
      ])
      expect(n.history.edges.map((e: Json) => e.node.id)).toEqual(history.items.map((h: Json) => h.id))
      const tickets = incidentOf.get(n.id) ?? []
      expect(n.tickets.edges.map((e: Json) => e.node.id)).toEqual(tickets)
      expect(n.allIncidents.edges.map((e: Json) => e.node.id)).toEqual(tickets)
      expect(n.impact.nodes.length).toBeGreaterThan(0)
    }
    // The page after the first relationship is read on its own, and is the second one
    const head = nodes.find(n => n.id === ids[5])!
    const rest = (await t.api('GET', `/api/v1/cis/${ids[5]}/relationships`)).json()
    const next = await t.gql(
      `{ ci(id: "${ids[5]}") { relationships(first: 1, after: "${head.one.pageInfo.endCursor}") { edges { node { id } } pageInfo { hasNextPage } } } }`
    )
    expect(next.body.data!.ci.relationships).toEqual({
      edges: [{ node: { id: rest.items[1].id } }],
      pageInfo: { hasNextPage: false }
    })
  })

  it('fails only the field whose argument is wrong', async () => {
    const res = await t.gql(
      '{ cis(q: "npq-", first: 2) { edges { node { id tickets(kind: ["nope"]) { edges { node { id } } } } } } }'
    )
    expect(res.body.errors?.[0]?.extensions?.code).toBe('VALIDATION_FAILED')
    expect(JSON.stringify(res.body.errors?.[0]?.extensions)).toContain('kind')
  })
})
