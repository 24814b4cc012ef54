import { Type } from 'typebox'
import type { Loaders, Resolvers } from '../../graphql/types.js'
import { toConnection } from '../../lib/connection.js'
import { encodeCursor } from '../../lib/cursor.js'
import { notFound } from '../../lib/errors.js'
import { type Args, defined, type GqlCtx, Id, pageArgs, paged } from '../../lib/graphql.js'
import { check } from '../../lib/validate.js'
import { adminResolvers, mergeResolvers } from '../admin/admin-resolvers.js'
import {
  type BaselineListInput,
  BaselineListQuery,
  CreateBaselineBody,
  type CreateBaselineInput
} from './baselines.schemas.js'
import {
  CiClassListQuery,
  CreateCiClassBody,
  CreateDiscoverySourceBody,
  CreateRelationshipTypeBody,
  NamedListQuery,
  UpdateCiClassBody,
  UpdateDiscoverySourceBody,
  UpdateRelationshipTypeBody
} from './catalogue.schemas.js'
import {
  type CiTicketsInput,
  CiTicketsQuery,
  type ImpactInput,
  ImpactQuery,
  RelationshipListQuery
} from './cmdb.schemas.js'
import { ImportBody, type ImportInput } from './import.schemas.js'

const id = (v: unknown, field = 'id') => check<string>(Id, v, field)
const byName = (sort: string) => (r: { id: string; name: string }) => encodeCursor({ sort, value: r.name, id: r.id })
const List = Type.Array(Type.String())

function impactInput(args: Args): ImpactInput {
  const types = args.types ? check<string[]>(List, args.types, 'types').join(',') : undefined
  return check<ImpactInput>(ImpactQuery, defined({ direction: args.direction, depth: args.depth, types }))
}

type Ci = { id: string }

/** GraphQL doors to the CMDB catalogues, impact, history, tickets, baselines and the import. */
export function cmdbMoreResolvers(): Resolvers {
  return mergeResolvers(
    adminResolvers({
      service: s => s.cmdbCatalogue.classes,
      names: {
        get: 'ciClass',
        list: 'ciClasses',
        create: 'createCiClass',
        update: 'updateCiClass',
        remove: 'deleteCiClass'
      },
      listQuery: CiClassListQuery,
      create: CreateCiClassBody,
      patch: UpdateCiClassBody,
      clearable: ['parentId'],
      cursorOf: byName('ci-classes')
    }),
    adminResolvers({
      service: s => s.cmdbCatalogue.relationshipTypes,
      names: {
        get: 'ciRelationshipType',
        list: 'ciRelationshipTypes',
        create: 'createCiRelationshipType',
        update: 'updateCiRelationshipType',
        remove: 'deleteCiRelationshipType'
      },
      listQuery: NamedListQuery,
      create: CreateRelationshipTypeBody,
      patch: UpdateRelationshipTypeBody,
      cursorOf: byName('ci-relationship-types')
    }),
    adminResolvers({
      service: s => s.cmdbCatalogue.sources,
      names: {
        get: 'discoverySource',
        list: 'discoverySources',
        create: 'createDiscoverySource',
        update: 'updateDiscoverySource',
        remove: 'deleteDiscoverySource'
      },
      listQuery: NamedListQuery,
      create: CreateDiscoverySourceBody,
      patch: UpdateDiscoverySourceBody,
      clearable: ['missingAfterDays'],
      cursorOf: byName('discovery-sources')
    }),
    {
      Query: {
        ciImpact: async (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
          services.ciGraph.impact(ctx, id(args.id), impactInput(args)),
        baseline: async (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
          services.ciBaselines.get(ctx, id(args.id)),
        baselines: paged(async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
          const query = check<BaselineListInput>(BaselineListQuery, defined(pageArgs(args)))
          return toConnection(await services.ciBaselines.list(ctx, query), b =>
            encodeCursor({ sort: 'ci-baselines', value: null, id: b.id })
          )
        }),
        baselineDiff: async (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
          services.ciBaselines.diff(ctx, id(args.id), typeof args.against === 'string' ? args.against : 'now')
      },
      Mutation: {
        createBaseline: async (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
          services.ciBaselines.create(
            ctx,
            check<CreateBaselineInput>(CreateBaselineBody, defined(args.input as Args), 'input')
          ),
        importCis: async (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
          services.ciImport.importCis(ctx, check<ImportInput>(ImportBody, dropNulls(args.input), 'input'))
      },
      ConfigurationItem: {
        relationships: paged(async (ci: Ci, args: Args, { ctx, services }: GqlCtx) => {
          const query = check<{ limit?: number; cursor?: string }>(RelationshipListQuery, defined(pageArgs(args)))
          return toConnection(await services.cis.relationships(ctx, ci.id, query), r =>
            encodeCursor({ sort: 'ci-relationships', value: null, id: r.id })
          )
        }),
        history: paged(async (ci: Ci, args: Args, { ctx, services }: GqlCtx) => {
          const query = check<{ limit?: number; cursor?: string }>(RelationshipListQuery, defined(pageArgs(args)))
          return toConnection(await services.cis.history(ctx, ci.id, query), h =>
            encodeCursor({ sort: 'ci-history', value: h.id, id: ci.id })
          )
        }),
        tickets: paged(async (ci: Ci, args: Args, { ctx, services }: GqlCtx) => {
          const kind = args.kind ? check<string[]>(List, args.kind, 'kind').join(',') : undefined
          const query = check<CiTicketsInput>(CiTicketsQuery, defined({ state: args.state, kind, ...pageArgs(args) }))
          return toConnection(await services.ciGraph.tickets(ctx, ci.id, query), t =>
            encodeCursor({ sort: 'ci-tickets', value: new Date(t.createdAt).toISOString(), id: t.id })
          )
        })
      }
    }
  )
}

/**
 * ConfigurationItem.impact over a list: the CIs asking the same (direction, depth, types) share one
 * `impactMany` (one recursive query for all of them), not one graph walk each.
 */
export function cmdbMoreLoaders(): Loaders {
  return {
    ConfigurationItem: {
      impact: async (queries: { obj: Ci; params: Args }[], { ctx, services }: GqlCtx) => {
        const groups = new Map<string, { input: ImpactInput; ids: string[] }>()
        const keys = queries.map(q => {
          const input = impactInput(q.params)
          const key = JSON.stringify([input.direction, input.depth, input.types])
          const g = groups.get(key) ?? { input, ids: [] }
          g.ids.push(q.obj.id)
          groups.set(key, g)
          return key
        })
        const found = new Map<string, Awaited<ReturnType<typeof services.ciGraph.impactMany>>>()
        for (const [key, g] of groups) found.set(key, await services.ciGraph.impactMany(ctx, g.ids, g.input))
        return queries.map((q, i) => found.get(keys[i]!)?.get(q.obj.id) ?? notFound('configuration item'))
      }
    }
  }
}

/** GraphQL sends null for omitted optionals at any depth; the import schema wants them absent. */
function dropNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(dropNulls)
  if (v && typeof v === 'object' && !(v instanceof Date)) {
    return Object.fromEntries(
      Object.entries(v)
        .filter(([, x]) => x !== null && x !== undefined)
        .map(([k, x]) => [k, k === 'attributes' ? x : dropNulls(x)])
    )
  }
  return v
}
