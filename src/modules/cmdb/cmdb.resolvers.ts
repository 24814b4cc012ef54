import { Type } from 'typebox'
import type { Loaders, Resolvers } from '../../graphql/types.js'
import { toConnection } from '../../lib/connection.js'
import { encodeCursor } from '../../lib/cursor.js'
import { defined, type GqlCtx, nullsKept, pageArgs, paged } from '../../lib/graphql.js'
import { check } from '../../lib/validate.js'
import {
  type CiListInput,
  CiListQuery,
  CreateCiBody,
  type CreateCiInput,
  RelateBody,
  type RelateInput,
  type RelationshipListInput,
  RelationshipListQuery,
  UpdateCiBody,
  type UpdateCiInput
} from './cmdb.schemas.js'

type Args = Record<string, unknown>
const Id = Type.String({ format: 'uuid' })
const id = (v: unknown, field = 'id') => check<string>(Id, v, field)
const byId = (item: { id: string }) => encodeCursor({ sort: 'id', value: null, id: item.id })
const relCursor = (item: { id: string }) => encodeCursor({ sort: 'ci-relationships', value: null, id: item.id })

/** For updates an explicit null clears a nullable field; other nulls mean "not given". */
const CLEARABLE = [
  'hostname',
  'fqdn',
  'serial',
  'macAddress',
  'systemUuid',
  'assetTag',
  'supportTeamId',
  'ownerTeamId',
  'organisationId',
  'location',
  'costCentreId'
]

/** GraphQL door to configuration items: same schemas, same service as REST. */
export function cmdbResolvers(): Resolvers {
  return {
    Query: {
      ci: async (_: unknown, args: Args, { ctx, services }: GqlCtx) => services.cis.get(ctx, id(args.id)),
      cis: paged(async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
        const { first, after, ...rest } = args
        const query = check<CiListInput>(CiListQuery, defined({ ...rest, ...pageArgs({ first, after }) }))
        const page = await services.cis.list(ctx, query)
        return { ...toConnection(page, byId), ...(page.total !== undefined ? { totalCount: page.total } : {}) }
      }),
      ciRelationships: paged(async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
        const query = check<RelationshipListInput>(RelationshipListQuery, defined(pageArgs(args)))
        return toConnection(await services.cis.relationships(ctx, id(args.ciId, 'ciId'), query), relCursor)
      })
    },
    Mutation: {
      createCi: async (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
        services.cis.create(ctx, check<CreateCiInput>(CreateCiBody, defined(args.input as Args), 'input')),
      updateCi: async (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
        services.cis.update(
          ctx,
          id(args.id),
          check<UpdateCiInput>(UpdateCiBody, nullsKept(args.input as Args, CLEARABLE), 'input'),
          typeof args.version === 'number' ? args.version : undefined
        ),
      relateCis: async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
        const input = check<RelateInput>(RelateBody, { targetId: args.targetId, type: args.type })
        return services.cis.relate(ctx, id(args.sourceId, 'sourceId'), input)
      },
      unrelateCis: async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
        await services.cis.unrelate(ctx, id(args.ciId, 'ciId'), id(args.relationshipId, 'relationshipId'))
        return true
      }
    }
  }
}

type Query<K extends string> = { obj: { [F in K]?: string | null } }

/** One lookup per field per request: the ids of every parent in the response, deduplicated. */
const lookup =
  <K extends string, T>(field: K, fetch: (gctx: GqlCtx, ids: string[]) => Promise<(T | null)[]>) =>
  async (queries: Query<K>[], gctx: GqlCtx) => {
    const ids = queries.map(q => q.obj[field] ?? null)
    const wanted = [...new Set(ids.filter((v): v is string => !!v))]
    const found = wanted.length ? await fetch(gctx, wanted) : []
    const map = new Map(wanted.map((v, i) => [v, found[i] ?? null]))
    return ids.map(v => (v ? (map.get(v) ?? null) : null))
  }

/**
 * The two ends of a relationship, which the schema promises: a CI that cannot be read fails that field
 * as GraphQL fails a null there.
 */
const cisBy = <K extends string>(type: string, field: K) => {
  const load = lookup(field, ({ ctx, services }, ids) => services.cis.byIds(ctx, ids))
  return async (queries: Query<K>[], gctx: GqlCtx) =>
    (await load(queries, gctx)).map(ci => ci ?? new Error(`Cannot return null for non-nullable field ${type}.`))
}

export function cmdbLoaders(): Loaders {
  return {
    ConfigurationItem: {
      supportTeam: lookup('supportTeamId', ({ ctx, services }, ids) => services.teams.byIds(ctx, ids)),
      ownerTeam: lookup('ownerTeamId', ({ ctx, services }, ids) => services.teams.byIds(ctx, ids))
    },
    CiRelationship: {
      source: cisBy('CiRelationship.source', 'sourceId'),
      target: cisBy('CiRelationship.target', 'targetId')
    }
  }
}
