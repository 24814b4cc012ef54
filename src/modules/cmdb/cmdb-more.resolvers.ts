import { Type } from 'typebox'
import type { Loaders, Resolvers } from '../../graphql/types.js'
import { toConnection } from '../../lib/connection.js'
import { encodeCursor } from '../../lib/cursor.js'
import { notFound } from '../../lib/errors.js'
import {
  type Args,
  connectionLoader,
  defined,
  type GqlCtx,
  Id,
  pageArgs,
  paged,
  pagingError
} from '../../lib/graphql.js'
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
import type { CiRelationshipView } from './cis.repository.js'
import { type CiTicketsInput, CiTicketsQuery, type ImpactInput, ImpactQuery } from './cmdb.schemas.js'
import { ImportBody, type ImportInput } from './import.schemas.js'

const id = (v: unknown, field = 'id') => check<string>(Id, v, field)
const byName = (sort: string) => (r: { id: string; name: string }) => encodeCursor({ sort, value: r.name, id: r.id })
const List = Type.Array(Type.String())

function impactInput(args: Args): ImpactInput {
  const types = args.types ? check<string[]>(List, args.types, 'types').join(',') : undefined
  return check<ImpactInput>(
    ImpactQuery,
    defined({ direction: args.direction, depth: args.depth, types, limit: args.limit })
  )
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
      relationships: connectionLoader(
        ({ ctx, services }, ids, limit) => services.cis.firstRelationships(ctx, ids, limit),
        ({ ctx, services }, id, page) => services.cis.relationships(ctx, id, page),
        (r: CiRelationshipView) => encodeCursor({ sort: 'ci-relationships', value: null, id: r.id })
      ),
      history: connectionLoader(
        ({ ctx, services }, ids, limit) => services.cis.firstHistory(ctx, ids, limit),
        ({ ctx, services }, id, page) => services.cis.history(ctx, id, page),
        (h: CiHistoryView, ciId) => encodeCursor({ sort: 'ci-history', value: h.id, id: ciId })
      ),
      tickets: ticketsLoader,
      impact: async (queries: { obj: Ci; params: Args }[], { ctx, services }: GqlCtx) => {
        const groups = new Map<string, { input: ImpactInput; ids: string[] }>()
        const keys = queries.map(q => {
          const input = impactInput(q.params)
          const key = JSON.stringify([input.direction, input.depth, input.types, input.limit])
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

type CiHistoryView = Awaited<ReturnType<GqlCtx['services']['cis']['history']>>['items'][number]
type TicketConnection = ReturnType<typeof toConnection<CiTicketView>>
type CiTicketView = Awaited<ReturnType<GqlCtx['services']['ciGraph']['tickets']>>['items'][number]
const ticketCursor = (t: CiTicketView) =>
  encodeCursor({ sort: 'ci-tickets', value: new Date(t.createdAt).toISOString(), id: t.id })

/**
 * ConfigurationItem.tickets over a list: first pages asking the same state, kinds and size share one
 * `firstTickets` (one query); a page after a cursor is read on its own. A bad argument fails its field.
 */
async function ticketsLoader(queries: { obj: Ci; params: Args }[], { ctx, services }: GqlCtx) {
  const out: (TicketConnection | Error | Promise<TicketConnection | Error>)[] = new Array(queries.length)
  const groups = new Map<string, { input: CiTicketsInput; at: number[] }>()
  queries.forEach((q, i) => {
    try {
      const args = q.params
      const kind = args.kind ? check<string[]>(List, args.kind, 'kind').join(',') : undefined
      const input = check<CiTicketsInput>(CiTicketsQuery, defined({ state: args.state, kind, ...pageArgs(args) }))
      if (input.cursor) {
        out[i] = services.ciGraph.tickets(ctx, q.obj.id, input).then(p => toConnection(p, ticketCursor))
        return
      }
      const key = JSON.stringify([input.state ?? 'open', input.kind ?? null, input.limit ?? 50])
      const g = groups.get(key) ?? { input, at: [] }
      g.at.push(i)
      groups.set(key, g)
    } catch (err) {
      out[i] = asError(err)
    }
  })
  for (const g of groups.values()) {
    try {
      const pages = await services.ciGraph.firstTickets(
        ctx,
        g.at.map(i => queries[i]!.obj.id),
        g.input
      )
      g.at.forEach((i, k) => {
        out[i] = toConnection(pages[k]!, ticketCursor)
      })
    } catch (err) {
      for (const i of g.at) out[i] = asError(err)
    }
  }
  return Promise.all(out.map(o => Promise.resolve(o).catch(asError)))
}

const asError = (err: unknown) => pagingError(err)

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
