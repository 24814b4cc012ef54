import { and, eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { auditLog } from '../../src/db/schema/index.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeUser } from '../helpers/factories.js'
import { errorWith, fields, nodesOf } from '../helpers/graphql.js'

const CATEGORY = 'id kind parentId name path depth active'

describe('categories, templates and offerings over GraphQL', () => {
  let t: TestApp
  let customer: { id: string; token: string }
  let manager: { id: string; token: string }

  beforeAll(async () => {
    t = await buildTestApp()
    customer = await makeUser(t, ['customer'])
    manager = await makeUser(t, ['manager'])
  })
  afterAll(async () => t?.close())

  const createCategory = async (input: Record<string, unknown>) => {
    const res = await t.gql(`mutation($i: CreateCategoryInput!) { createCategory(input: $i) { ${CATEGORY} } }`, {
      i: input
    })
    expect(res.body.errors).toBeUndefined()
    return res.body.data!.createCategory as { id: string; path: string }
  }
  /** Updates at the version just read, as every edit must send. */
  const updateCategory = async (id: string, input: Record<string, unknown>) => {
    const version = (await t.api('GET', `/api/v1/categories/${id}`)).json().version as number
    return t.gql(
      `mutation($id: ID!, $i: UpdateCategoryInput!, $v: Int) { updateCategory(id: $id, input: $i, version: $v) { ${CATEGORY} } }`,
      { id, i: input, v: version }
    )
  }

  it('builds, renames and moves a tree; parent and children resolve in batches', async () => {
    const a = await createCategory({ kind: 'incident', name: 'Software' })
    const b = await createCategory({ kind: 'incident', name: 'Office', parentId: a.id })
    const c = await createCategory({ kind: 'incident', name: 'Excel', parentId: b.id })
    const d = await createCategory({ kind: 'incident', name: 'Word', parentId: b.id })
    expect(c.path).toBe('Software / Office / Excel')

    const renamed = await updateCategory(b.id, { name: 'Office 365' })
    expect(renamed.body.data!.updateCategory.path).toBe('Software / Office 365')
    const nested = await t.gql(
      `query($id: ID!) { category(id: $id) { name parent { name } children { path parent { id } children { id } } } }`,
      { id: b.id }
    )
    expect(nested.body.errors).toBeUndefined()
    expect(nested.body.data!.category).toEqual({
      name: 'Office 365',
      parent: { name: 'Software' },
      children: [
        { path: 'Software / Office 365 / Excel', parent: { id: b.id }, children: [] },
        { path: 'Software / Office 365 / Word', parent: { id: b.id }, children: [] }
      ]
    })

    // An explicit null moves to the root; the subtree's paths follow
    const moved = await updateCategory(b.id, { parentId: null })
    expect(moved.body.data!.updateCategory).toMatchObject({ parentId: null, path: 'Office 365', depth: 1 })
    const list = await t.gql(
      `query($p: ID!) { categories(kind: incident, parentId: $p) { edges { node { path } } } }`,
      { p: b.id }
    )
    expect(nodesOf(list.body.data!.categories).map(n => n.path)).toEqual(['Office 365 / Excel', 'Office 365 / Word'])
    const roots = await t.gql(
      `{ categories(kind: incident, parentId: "root", first: 1) { edges { node { name } } pageInfo { hasNextPage } } }`
    )
    expect(nodesOf(roots.body.data!.categories)).toEqual([{ name: 'Office 365' }])
    expect(roots.body.data!.categories.pageInfo.hasNextPage).toBe(true)

    const tree = await t.gql('{ categoryTree(kind: incident) { total truncated items { name children { name } } } }')
    expect(tree.body.data!.categoryTree).toEqual({
      total: 4,
      truncated: false,
      items: [
        { name: 'Office 365', children: [{ name: 'Excel' }, { name: 'Word' }] },
        { name: 'Software', children: [] }
      ]
    })
    expect(d.path).toBe('Software / Office / Word')
  })

  it('refuses cycles, other kinds, clashes and bad names with the field named', async () => {
    const a = await createCategory({ kind: 'problem', name: 'Top' })
    const b = await createCategory({ kind: 'problem', name: 'Middle', parentId: a.id })
    const other = await createCategory({ kind: 'change', name: 'Elsewhere' })

    const cycle = await updateCategory(a.id, { parentId: b.id })
    errorWith(cycle.body, 'CONFLICT')
    expect(fields(cycle.body)).toEqual(['parentId'])
    const kind = await updateCategory(b.id, { parentId: other.id })
    errorWith(kind.body, 'VALIDATION_FAILED')
    expect(fields(kind.body)).toEqual(['parentId'])
    await createCategory({ kind: 'problem', name: 'Sibling', parentId: a.id })
    const clash = await updateCategory(b.id, { name: 'SIBLING' })
    errorWith(clash.body, 'CONFLICT')
    expect(fields(clash.body)).toEqual(['name'])
    const slash = await t.gql('mutation { createCategory(input: { kind: problem, name: "a/b" }) { id } }')
    errorWith(slash.body, 'VALIDATION_FAILED')
    expect(fields(slash.body)).toEqual(['input.name'])
    // kind is an enum: the GraphQL schema itself refuses what is not a ticket kind
    const badKind = await t.gql('{ categoryTree(kind: ticket) { total } }')
    expect(errorWith(badKind.body, 'GRAPHQL_VALIDATION_FAILED').message).toMatch(
      /"ticket" does not exist in "TicketKind"/
    )
    const badFirst = await t.gql('{ categories(first: 0) { edges { cursor } } }')
    expect(fields(badFirst.body)).toEqual(['first'])
  })

  it('creates and updates templates, values checked per kind', async () => {
    const created = await t.gql(
      `mutation($i: CreateTemplateInput!) { createTemplate(input: $i) { id kind name values standard version } }`,
      { i: { kind: 'request', name: 'Onboarding', values: { title: 'New starter', customFields: { site: 'Leeds' } } } }
    )
    expect(created.body.errors).toBeUndefined()
    const tpl = created.body.data!.createTemplate
    expect(tpl).toMatchObject({ kind: 'request', values: { title: 'New starter', customFields: { site: 'Leeds' } } })

    const stale = await t.gql(
      'mutation($id: ID!) { updateTemplate(id: $id, input: { name: "x" }, version: 5) { id } }',
      {
        id: tpl.id
      }
    )
    errorWith(stale.body, 'PRECONDITION_FAILED')
    const updated = await t.gql(
      'mutation($id: ID!) { updateTemplate(id: $id, input: { values: { urgency: 1 } }, version: 1) { values version } }',
      { id: tpl.id }
    )
    expect(updated.body.data!.updateTemplate).toEqual({ values: { urgency: 1 }, version: 2 })

    const badValue = await t.gql(
      'mutation { createTemplate(input: { kind: incident, name: "Bad", values: { risk: "low" } }) { id } }'
    )
    expect(fields(badValue.body)).toEqual(['values.risk'])
    const notStandard = await t.gql(
      'mutation { createTemplate(input: { kind: incident, name: "Std", standard: true }) { id } }'
    )
    errorWith(notStandard.body, 'VALIDATION_FAILED')
    expect(fields(notStandard.body)).toEqual(['standard'])
    const list = await t.gql('{ templates(kind: request, q: "onboard") { edges { node { id } } } }')
    expect(nodesOf(list.body.data!.templates)).toEqual([{ id: tpl.id }])
  })

  it('creates and updates offerings with a typed approval; customers read, admins write', async () => {
    const created = await t.gql(
      `mutation($i: CreateCatalogOfferingInput!) {
        createCatalogOffering(input: $i) { id name approval { rule quorum approverIds approverTeamId } tasks active }
      }`,
      { i: { name: 'Mobile phone', approval: { rule: 'any', approverIds: [manager.id] }, tasks: ['Order', 'Ship'] } }
    )
    expect(created.body.errors).toBeUndefined()
    const offering = created.body.data!.createCatalogOffering
    expect(offering.approval).toEqual({ rule: 'any', quorum: null, approverIds: [manager.id], approverTeamId: null })

    const bad = await t.gql(`mutation($i: CreateCatalogOfferingInput!) { createCatalogOffering(input: $i) { id } }`, {
      i: { name: 'Tablet', approval: { rule: 'quorum', approverIds: [manager.id, customer.id] } }
    })
    errorWith(bad.body, 'VALIDATION_FAILED')
    expect(fields(bad.body).sort()).toEqual(['approval.approverIds.1', 'approval.quorum'])

    const cleared = await t.gql(
      'mutation($id: ID!) { updateCatalogOffering(id: $id, input: { approval: null, active: false }, version: 1) { approval { rule } active version } }',
      { id: offering.id }
    )
    expect(cleared.body.data!.updateCatalogOffering).toEqual({ approval: null, active: false, version: 2 })
    const audit = await t.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.entityType, 'offering'), eq(auditLog.entityId, offering.id)))
    expect(audit.map(a => a.action).sort()).toEqual(['created', 'updated'])

    // Customers: active offerings only, and no writes
    const seen = await t.gql('{ catalogOfferings { edges { node { id } } } }', {}, customer.token)
    expect(nodesOf(seen.body.data!.catalogOfferings).map(n => n.id)).not.toContain(offering.id)
    errorWith(
      (await t.gql('query($id: ID!) { catalogOffering(id: $id) { id } }', { id: offering.id }, customer.token)).body,
      'NOT_FOUND'
    )
    for (const mutation of [
      'mutation { createCatalogOffering(input: { name: "Mine" }) { id } }',
      'mutation { createTemplate(input: { kind: incident, name: "Mine" }) { id } }',
      'mutation { createCategory(input: { kind: incident, name: "Mine" }) { id } }'
    ]) {
      errorWith((await t.gql(mutation, {}, customer.token)).body, 'FORBIDDEN')
    }
    const tree = await t.gql('{ categoryTree(kind: incident) { total } }', {}, customer.token)
    expect(tree.body.errors).toBeUndefined()
  })
})
