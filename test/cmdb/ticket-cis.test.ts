import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { historyOf, makeUser, suffix } from '../helpers/factories.js'
import { expectProblem, fieldsOf } from '../helpers/problem.js'
import { makeOffering } from '../helpers/requests.js'

type Json = Record<string, any>
const NOWHERE = '00000000-0000-7000-8000-000000000000'
/** Filled in beforeAll: what requests and releases need on create. */
const needs = { offeringId: '', managerId: '' }

/** Every kind: its collection, the GraphQL names, and what its create body needs beyond a title. */
const KINDS = [
  { collection: 'incidents', type: 'Incident', create: 'createIncident', update: 'updateIncident', read: 'incident' },
  {
    collection: 'requests',
    type: 'ServiceRequest',
    create: 'createRequest',
    update: 'updateRequest',
    read: 'request',
    extra: () => ({ offeringId: needs.offeringId })
  },
  { collection: 'problems', type: 'Problem', create: 'createProblem', update: 'updateProblem', read: 'problem' },
  {
    collection: 'changes',
    type: 'Change',
    create: 'createChange',
    update: 'updateChange',
    read: 'change',
    extra: { type: 'normal' }
  },
  {
    collection: 'releases',
    type: 'Release',
    create: 'createRelease',
    update: 'updateRelease',
    read: 'release',
    extra: () => ({ releaseVersion: `1.${suffix()}`, managerId: needs.managerId })
  }
] as const

const extraOf = (k: (typeof KINDS)[number]): Json =>
  'extra' in k ? (typeof k.extra === 'function' ? k.extra() : k.extra) : {}

describe('tickets name configuration items (every kind)', () => {
  let t: TestApp
  let web: string
  let db: string
  let customer: { id: string; token: string }
  let tech: { token: string }

  const makeCi = async (name: string) => {
    const res = await t.api('POST', '/api/v1/cis', { body: { name: `${name}-${suffix()}`, class: 'server' } })
    expect(res.statusCode, res.body).toBe(201)
    return res.json().id as string
  }

  beforeAll(async () => {
    t = await buildTestApp()
    web = await makeCi('web')
    db = await makeCi('db')
    customer = (await makeUser(t, ['customer'])) as never
    tech = await makeUser(t, ['technician'])
    needs.offeringId = (await makeOffering(t)).id
    needs.managerId = (await makeUser(t, ['manager'])).id
  })
  afterAll(async () => t?.close())

  for (const k of KINDS) {
    it(`${k.collection}: ciIds on create, read, update, history, filter (REST)`, async () => {
      const created = await t.api('POST', `/api/v1/${k.collection}`, {
        body: { title: `With CIs ${suffix()}`, ...extraOf(k), ciIds: [web.toUpperCase()] }
      })
      expect(created.statusCode, created.body).toBe(201)
      const id = created.json().id as string
      expect(created.json().ciIds).toEqual([web])

      const read = await t.api('GET', `/api/v1/${k.collection}/${id}`)
      expect(read.statusCode).toBe(200)
      expect(read.json().ciIds).toEqual([web])

      const updated = await t.api('PATCH', `/api/v1/${k.collection}/${id}`, {
        headers: { 'if-match': read.headers.etag as string },
        body: { ciIds: [db, web] }
      })
      expect(updated.statusCode, updated.body).toBe(200)
      expect(updated.json().ciIds).toEqual([db, web].sort())
      expect((await t.api('GET', `/api/v1/${k.collection}/${id}`)).json().ciIds).toEqual([db, web].sort())

      const history = await historyOf(t, k.collection, id)
      const ciChanges = history.flatMap(h => h.changes).filter(c => c.field === 'ciIds')
      expect(ciChanges).toEqual([
        { field: 'ciIds', old: null, new: [web] },
        { field: 'ciIds', old: [web], new: [db, web].sort() }
      ])

      // Filterable: tickets naming a CI, and those naming none
      const withDb = await t.api('GET', `/api/v1/${k.collection}?filter=${encodeURIComponent(`ciId==${db}`)}`)
      expect(withDb.statusCode, withDb.body).toBe(200)
      expect(withDb.json().items.map((i: Json) => i.id)).toContain(id)
      const without = await t.api('GET', `/api/v1/${k.collection}?filter=${encodeURIComponent('ciId=isnull=true')}`)
      expect(without.json().items.map((i: Json) => i.id)).not.toContain(id)
      const other = await t.api('GET', `/api/v1/${k.collection}?filter=${encodeURIComponent(`ciId!=${db}`)}`)
      expect(other.json().items.map((i: Json) => i.id)).not.toContain(id)

      // Emptying the set
      const v = (await t.api('GET', `/api/v1/${k.collection}/${id}`)).json().version
      const cleared = await t.api('PATCH', `/api/v1/${k.collection}/${id}`, { body: { ciIds: [], version: v } })
      expect(cleared.statusCode, cleared.body).toBe(200)
      expect(cleared.json().ciIds).toEqual([])

      // A ticket without CIs answers an empty list
      const plain = await t.api('POST', `/api/v1/${k.collection}`, {
        body: { title: `Plain ${suffix()}`, ...extraOf(k) }
      })
      expect(plain.statusCode, plain.body).toBe(201)
      expect(plain.json().ciIds).toEqual([])
      expect((await t.api('GET', `/api/v1/${k.collection}/${plain.json().id}`)).json().ciIds).toEqual([])
    })

    it(`${k.collection}: an unknown CI is a 422 naming ciIds, and nothing is written`, async () => {
      const bad = await t.api('POST', `/api/v1/${k.collection}`, {
        body: { title: `Bad ${suffix()}`, ...extraOf(k), ciIds: [web, NOWHERE] }
      })
      const body = expectProblem(bad, 422)
      expect(fieldsOf(body)).toEqual(['ciIds'])
      expect(body.errors![0]!.message).toContain(NOWHERE)

      const ok = await t.api('POST', `/api/v1/${k.collection}`, { body: { title: `Ok ${suffix()}`, ...extraOf(k) } })
      const id = ok.json().id
      const patch = await t.api('PATCH', `/api/v1/${k.collection}/${id}`, {
        body: { ciIds: [NOWHERE], version: ok.json().version }
      })
      expect(fieldsOf(expectProblem(patch, 422))).toEqual(['ciIds'])
      expect((await t.api('GET', `/api/v1/${k.collection}/${id}`)).json()).toMatchObject({
        ciIds: [],
        version: ok.json().version
      })
      // Not a UUID: the schema refuses it naming the field
      const notUuid = await t.api('PATCH', `/api/v1/${k.collection}/${id}`, {
        body: { ciIds: ['web-01'], version: ok.json().version }
      })
      expect(notUuid.statusCode).toBeGreaterThanOrEqual(400)
      expect(notUuid.statusCode).toBeLessThan(500)
      expect(notUuid.body).toContain('ciIds')
    })

    it(`${k.collection}: GraphQL create, update and read with ciIds and the CIs`, async () => {
      const sel = `{ id version ciIds cis { id name class } }`
      const made = await t.gql(
        `mutation($input: Create${k.type === 'ServiceRequest' ? 'Request' : k.type}Input!) { ${k.create}(input: $input) ${sel} }`,
        {
          input: { title: `GQL ${suffix()}`, ...extraOf(k), ciIds: [web] }
        }
      )
      expect(made.body.errors).toBeUndefined()
      const created = made.body.data![k.create]
      expect(created.ciIds).toEqual([web])
      expect(created.cis).toEqual([{ id: web, name: expect.stringMatching(/^web-/), class: 'server' }])

      const bad = await t.gql(
        `mutation($id: ID!, $v: Int!, $input: Update${k.type === 'ServiceRequest' ? 'Request' : k.type}Input!) { ${k.update}(id: $id, version: $v, input: $input) ${sel} }`,
        { id: created.id, v: created.version, input: { ciIds: [NOWHERE] } }
      )
      expect(bad.body.errors?.[0]?.extensions?.code).toBe('VALIDATION_FAILED')
      expect(JSON.stringify(bad.body.errors)).toContain('ciIds')

      const upd = await t.gql(
        `mutation($id: ID!, $v: Int!, $input: Update${k.type === 'ServiceRequest' ? 'Request' : k.type}Input!) { ${k.update}(id: $id, version: $v, input: $input) ${sel} }`,
        { id: created.id, v: created.version, input: { ciIds: [db] } }
      )
      expect(upd.body.errors).toBeUndefined()
      expect(upd.body.data![k.update].ciIds).toEqual([db])

      const read = await t.gql(`query($id: ID!) { ${k.read}(id: $id) ${sel} }`, { id: created.id })
      expect(read.body.data![k.read]).toMatchObject({ ciIds: [db], cis: [{ id: db, class: 'server' }] })
    })
  }

  it('list rows over GraphQL carry ciIds and the CIs (loaded in a batch)', async () => {
    const a = await t.api('POST', '/api/v1/incidents', { body: { title: `List A ${suffix()}`, ciIds: [web] } })
    const b = await t.api('POST', '/api/v1/incidents', { body: { title: `List B ${suffix()}`, ciIds: [web, db] } })
    const res = await t.gql(
      `query($f: String) { incidents(filter: $f, first: 50) { edges { node { id ciIds cis { id class } } } } }`,
      { f: `ciId=in=(${web},${db})` }
    )
    expect(res.body.errors).toBeUndefined()
    const nodes = new Map(
      (res.body.data!.incidents.edges as { node: Json }[]).map(e => [e.node.id, e.node] as [string, Json])
    )
    expect(nodes.get(a.json().id)).toMatchObject({ ciIds: [web], cis: [{ id: web }] })
    expect(nodes.get(b.json().id)?.ciIds).toEqual([db, web].sort())
    expect(nodes.get(b.json().id)?.cis).toHaveLength(2)
  })

  it('customers cannot link CIs nor see CI details, technicians can', async () => {
    const denied = await t.api('POST', '/api/v1/incidents', {
      token: customer.token,
      body: { title: `Mine ${suffix()}`, ciIds: [web] }
    })
    expectProblem(denied, 403)

    // A technician names the CI on the customer's incident; the customer sees the ticket but no CI detail
    const inc = await t.api('POST', '/api/v1/incidents', {
      token: customer.token,
      body: { title: `Mine ${suffix()}` }
    })
    expect(inc.statusCode, inc.body).toBe(201)
    const id = inc.json().id
    const linked = await t.api('PATCH', `/api/v1/incidents/${id}`, {
      token: tech.token,
      body: { ciIds: [web], version: inc.json().version }
    })
    expect(linked.statusCode, linked.body).toBe(200)
    const techRead = await t.gql(`query($id: ID!) { incident(id: $id) { cis { id name } } }`, { id }, tech.token)
    expect(techRead.body.data!.incident.cis).toEqual([{ id: web, name: expect.any(String) }])
    const custRead = await t.gql(`query($id: ID!) { incident(id: $id) { cis { id name } } }`, { id }, customer.token)
    expect(custRead.body.errors).toBeUndefined()
    expect(custRead.body.data!.incident.cis).toEqual([])
    // and cannot change the set either
    const v = (await t.api('GET', `/api/v1/incidents/${id}`, { token: customer.token })).json().version
    const change = await t.api('PATCH', `/api/v1/incidents/${id}`, {
      token: customer.token,
      body: { ciIds: [], version: v }
    })
    expect(change.statusCode).toBe(403)
    expect((await t.api('GET', `/api/v1/incidents/${id}`)).json().ciIds).toEqual([web])
    // nor the CI itself
    expect((await t.api('GET', `/api/v1/cis/${web}`, { token: customer.token })).statusCode).toBe(403)
  })

  it('a CI lists the tickets of every kind that name it', async () => {
    const ci = await makeCi('shared')
    const ids: string[] = []
    for (const k of KINDS) {
      const res = await t.api('POST', `/api/v1/${k.collection}`, {
        body: { title: `On shared ${suffix()}`, ...extraOf(k), ciIds: [ci] }
      })
      expect(res.statusCode, res.body).toBe(201)
      ids.push(res.json().id)
    }
    const res = await t.api('GET', `/api/v1/cis/${ci}/tickets`)
    expect(res.statusCode, res.body).toBe(200)
    const listed = (res.json().items as Json[]).map(i => i.id ?? i.ticketId)
    // the CI's ticket list is its open incidents, problems and changes (and whatever else it lists)
    for (const [i, k] of KINDS.entries()) {
      if (['incidents', 'problems', 'changes'].includes(k.collection)) expect(listed).toContain(ids[i])
    }
  })
})
