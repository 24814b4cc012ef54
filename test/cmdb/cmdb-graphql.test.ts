import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeChange } from '../helpers/changes.js'
import { suffix } from '../helpers/factories.js'
import { codes, fields, loadSchema, nodesOf, selectAll, shapeProblems } from '../helpers/graphql.js'

type Json = Record<string, any>
const schema = loadSchema()
const all = (type: string) => selectAll(schema, type)
/** Nullable fields these records rightly leave empty. */
const allowNull = [
  'PageInfo.endCursor',
  'CiAttributeDefinition.label',
  'CiAttributeDefinition.required',
  'CiAttributeDefinition.unique',
  'CiAttributeDefinition.default',
  'CiAttributeDefinition.values',
  'CiClass.parentId',
  'DiscoverySource.missingAfterDays',
  'CiTicket.resolvedAt',
  'CiTicket.closedAt',
  'CiBaselineScope.serviceId',
  'CiBaselineScope.depth',
  'CiBaselineScope.filter',
  'CiImportItemResult.key',
  'CiImportItemResult.reason',
  'CiImportItemResult.ciId',
  'CiImportItemResult.identifiedBy',
  'CiFieldChange.old',
  'CiFieldChange.new',
  'CiHistoryEntry.source'
]

describe('the CMDB over GraphQL, every field, through the same services', () => {
  let t: TestApp
  const ok = async (query: string, variables: Json = {}) => {
    const res = await t.gql(query, variables)
    expect(res.body.errors, JSON.stringify(res.body.errors)).toBeUndefined()
    return res.body.data as Json
  }
  const shape = (type: string, value: unknown) =>
    expect(shapeProblems(schema, type, value, { strict: true, allowNull })).toEqual([])

  beforeAll(async () => {
    t = await buildTestApp()
  })
  afterAll(async () => t?.close())

  it('classes, relationship types and discovery sources', async () => {
    const parent = (await ok(`{ ciClasses(first: 50) ${all('CiClassConnection')} }`)).ciClasses
    shape('CiClassConnection', parent)
    const app = nodesOf(parent).find(c => c.name === 'application')!
    const made = await ok(`mutation($i: CreateCiClassInput!) { createCiClass(input: $i) ${all('CiClass')} }`, {
      i: {
        name: `gql_${suffix()}`,
        label: 'GQL app',
        parentId: app.id,
        attributes: [
          {
            name: 'tier',
            type: 'enum',
            label: 'Tier',
            required: true,
            unique: false,
            default: 'gold',
            values: ['gold', 'silver']
          }
        ]
      }
    })
    shape('CiClass', made.createCiClass)
    const updated = await ok(
      `mutation($id: ID!) { updateCiClass(id: $id, version: 1, input: { label: "Renamed" }) { label version } }`,
      { id: made.createCiClass.id }
    )
    expect(updated.updateCiClass).toEqual({ label: 'Renamed', version: 2 })
    const bad = await t.gql(
      'mutation { createCiClass(input: { name: "x1", label: "X", attributes: [{ name: "e", type: "enum" }] }) { id } }'
    )
    expect(codes(bad.body)).toEqual(['VALIDATION_FAILED'])
    expect(fields(bad.body)[0]).toMatch(/attributes\.0\.values$/)

    const types = (await ok(`{ ciRelationshipTypes(first: 100) ${all('CiRelationshipTypeDefConnection')} }`))
      .ciRelationshipTypes
    shape('CiRelationshipTypeDefConnection', types)
    const type = await ok(
      `mutation { createCiRelationshipType(input: { name: "mirrors_${suffix()}", label: "mirrors", reverseLabel: "mirrored by" }) ${all('CiRelationshipTypeDef')} }`
    )
    shape('CiRelationshipTypeDef', type.createCiRelationshipType)
    expect(
      await ok('mutation($id: ID!) { deleteCiRelationshipType(id: $id) }', { id: type.createCiRelationshipType.id })
    ).toEqual({
      deleteCiRelationshipType: true
    })

    const src = await ok(
      `mutation { createDiscoverySource(input: { name: "gql-${suffix()}", precedence: 70, missingAfterDays: 3 }) ${all('DiscoverySource')} }`
    )
    shape('DiscoverySource', src.createDiscoverySource)
    const sources = (await ok(`{ discoverySources ${all('DiscoverySourceConnection')} }`)).discoverySources
    shape('DiscoverySourceConnection', sources)
  })

  it('importCis, impact, tickets, history, baselines and their diff', async () => {
    const source = (await ok(`mutation { createDiscoverySource(input: { name: "imp-${suffix()}" }) { name } }`))
      .createDiscoverySource.name
    const tag = suffix()
    const input = {
      source,
      items: [
        {
          key: `svc-${tag}`,
          class: 'business_service',
          name: `svc-${tag}`,
          relationships: [{ type: 'depends_on', target: `app-${tag}` }]
        },
        { key: `app-${tag}`, class: 'application', name: `app-${tag}`, attributes: { version: '2.1' } },
        { key: `bad-${tag}`, class: 'server', name: 'bad', attributes: { memory_mb: 'lots' } }
      ]
    }
    const atomic = await t.gql('mutation($i: ImportCisInput!) { importCis(input: $i) { committed } }', { i: input })
    expect(codes(atomic.body)).toEqual(['VALIDATION_FAILED'])
    expect(fields(atomic.body)).toEqual(['items.2.attributes.memory_mb'])
    const report = (
      await ok(`mutation($i: ImportCisInput!) { importCis(input: $i) ${all('CiImportReport')} }`, {
        i: { ...input, mode: 'partial' }
      })
    ).importCis
    shape('CiImportReport', report)
    expect(report.summary).toEqual({ created: 2, updated: 0, unchanged: 0, conflict: 0, error: 1 })
    expect(report.items[2]).toMatchObject({
      result: 'error',
      errors: [{ field: 'attributes.memory_mb', message: 'must be a number' }]
    })
    const [svcId, appId] = report.items.map((i: Json) => i.ciId)
    await makeChange(t, { ciIds: [appId] })

    const ci = (
      await ok(
        `query($id: ID!) { ci(id: $id) { id impact(direction: downstream, depth: 3) ${all('CiImpact')}
        tickets(first: 5) ${all('CiTicketConnection')} history(first: 5) ${all('CiHistoryConnection')} } }`,
        { id: appId }
      )
    ).ci
    expect(ci.impact.nodes).toEqual([])
    const up = (
      await ok(`query($id: ID!) { ciImpact(id: $id, direction: upstream, depth: 2) ${all('CiImpact')} }`, { id: appId })
    ).ciImpact
    shape('CiImpact', up)
    expect(up.nodes).toEqual([
      expect.objectContaining({
        ci: expect.objectContaining({ id: svcId }),
        direction: 'upstream',
        distance: 1,
        path: [appId, svcId],
        label: 'used by'
      })
    ])
    shape('CiTicketConnection', ci.tickets)
    expect(nodesOf(ci.tickets)).toHaveLength(1)
    shape('CiHistoryConnection', ci.history)
    expect(nodesOf(ci.history)[0]).toMatchObject({ action: 'created', source })

    const baseline = (
      await ok(
        `mutation($s: ID!) { createBaseline(input: { name: "svc", serviceId: $s, depth: 3 }) ${all('CiBaseline')} }`,
        { s: svcId }
      )
    ).createBaseline
    shape('CiBaseline', { ...baseline, scope: { ...baseline.scope, filter: baseline.scope.filter ?? 'n/a' } })
    expect(baseline).toMatchObject({ ciCount: 2, relationshipCount: 1 })
    await ok(`mutation($i: ImportCisInput!) { importCis(input: $i) { committed } }`, {
      i: {
        source,
        items: [{ key: `app-${tag}`, class: 'application', name: `app-${tag}`, attributes: { version: '2.2' } }]
      }
    })
    const other = await ok('mutation { createCi(input: { name: "extra" }) { id } }')
    await ok('mutation($s: ID!, $t: ID!) { relateCis(sourceId: $s, targetId: $t, type: "runs_on") { id } }', {
      s: appId,
      t: other.createCi.id
    })
    const diff = (await ok(`query($id: ID!) { baselineDiff(id: $id) ${all('CiBaselineDiff')} }`, { id: baseline.id }))
      .baselineDiff
    shape('CiBaselineDiff', diff)
    expect(diff.changed).toEqual(
      [
        {
          ci: { id: appId, name: `app-${tag}`, class: 'application', status: null },
          changes: [{ field: 'attributes.version', old: '2.1', new: '2.2' }]
        }
      ].map(c => ({ ...c, ci: expect.objectContaining({ id: c.ci.id }) }))
    )
    expect(diff.added.map((c: Json) => c.id)).toEqual([other.createCi.id])
    expect(diff.relationships.added).toEqual([{ sourceId: appId, targetId: other.createCi.id, type: 'runs_on' }])
    const list = (await ok(`{ baselines(first: 5) ${all('CiBaselineConnection')} }`)).baselines
    shape('CiBaselineConnection', {
      ...list,
      edges: list.edges.map((e: Json) => ({
        ...e,
        node: { ...e.node, scope: { filter: 'n/a', serviceId: svcId, depth: 3 } }
      }))
    })
    expect((await ok(`query($id: ID!) { baseline(id: $id) { id } }`, { id: baseline.id })).baseline.id).toBe(
      baseline.id
    )
  })
})
