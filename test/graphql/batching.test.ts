import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeIncident, makeOrganisation, makeUser } from '../helpers/factories.js'

const NOTE =
  'mutation($id: ID!, $body: String!, $internal: Boolean) { addIncidentNote(id: $id, input: { body: $body, internal: $internal }) { id } }'
const LIST = `query($first: Int) { incidents(first: 10, sort: "number") { edges { node { number
  notes(first: $first) { edges { node { body internal } } pageInfo { hasNextPage endCursor } }
  history(first: 1) { edges { node { action } } pageInfo { hasNextPage } } } } } }`

describe('notes and history in incident lists (batched loaders)', () => {
  let t: TestApp
  let customer: Awaited<ReturnType<typeof makeUser>>
  const incidents: { id: string; number: string }[] = []

  beforeAll(async () => {
    t = await buildTestApp()
    const org = await makeOrganisation(t)
    customer = await makeUser(t, ['customer'], { organisationId: org.id })
    for (let i = 0; i < 6; i++) {
      const inc = await makeIncident(t, { title: `batch ${i}` }, customer.token)
      incidents.push(inc)
      // incident i gets i public notes and one internal note
      for (let n = 0; n < i; n++) await t.gql(NOTE, { id: inc.id, body: `${inc.number} public ${n}`, internal: false })
      await t.gql(NOTE, { id: inc.id, body: `${inc.number} internal`, internal: true })
    }
  })
  afterAll(async () => t?.close())

  type Edge = { node: { number: string; notes: any; history: any } }
  const byNumber = (edges: Edge[]) => new Map(edges.map(e => [e.node.number, e.node]))

  it('gives each incident its own first page, in order, with the right hasNextPage', async () => {
    const res = await t.gql(LIST, { first: 2 })
    expect(res.body.errors).toBeUndefined()
    const nodes = byNumber(res.body.data!.incidents.edges)
    for (const [i, inc] of incidents.entries()) {
      const node = nodes.get(inc.number)!
      const bodies = node.notes.edges.map((e: any) => e.node.body)
      const all = [...Array.from({ length: i }, (_, n) => `${inc.number} public ${n}`), `${inc.number} internal`]
      expect(bodies).toEqual(all.slice(0, 2))
      expect(node.notes.pageInfo.hasNextPage).toBe(all.length > 2)
      expect(node.history.edges[0].node.action).toBe('created')
      expect(node.history.pageInfo.hasNextPage).toBe(true)
    }
  })

  it('never shows customers internal notes, batched or not', async () => {
    const res = await t.gql(LIST, { first: 10 }, customer.token)
    expect(res.body.errors).toBeUndefined()
    for (const edge of res.body.data!.incidents.edges as Edge[]) {
      for (const n of edge.node.notes.edges) expect(n.node.internal).toBe(false)
      for (const h of edge.node.history.edges) expect(h.node.action).not.toBe('note.internal')
    }
  })

  it('resumes a page after its own cursor', async () => {
    const res = await t.gql(LIST, { first: 2 })
    const node = byNumber(res.body.data!.incidents.edges).get(incidents[5]!.number)!
    const next = await t.gql(
      'query($id: ID!, $after: String) { incident(id: $id) { notes(first: 2, after: $after) { edges { node { body } } } } }',
      { id: incidents[5]!.id, after: node.notes.pageInfo.endCursor }
    )
    expect(next.body.data!.incident.notes.edges.map((e: any) => e.node.body)).toEqual([
      `${incidents[5]!.number} public 2`,
      `${incidents[5]!.number} public 3`
    ])
  })

  it('fails only the field with a bad argument, naming it', async () => {
    const res = await t.gql(LIST, { first: 0 })
    expect(res.body.errors!.length).toBeGreaterThan(0)
    expect(res.body.errors![0].extensions.errors[0].field).toBe('first')
    expect(res.body.errors![0].extensions.code).not.toBe('INTERNAL')
  })
})
