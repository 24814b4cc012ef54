import type { IResolvers, MercuriusLoaders } from 'mercurius'
import { Type } from 'typebox'
import { toConnection } from '../../lib/connection.js'
import { encodeCursor } from '../../lib/cursor.js'
import { check } from '../../lib/validate.js'
import { defined, type GqlCtx, pageArgs, paged } from '../incidents/incidents.resolvers.js'
import {
  CreateFreezeBody,
  type CreateFreezeInput,
  type FreezeListInput,
  FreezeListQuery,
  UpdateFreezeBody,
  type UpdateFreezeInput
} from './freezes.schemas.js'
import type { FreezeView } from './freezes.service.js'

type Args = Record<string, unknown>
const Id = Type.String({ format: 'uuid' })
const id = (v: unknown, field = 'id') => check<string>(Id, v, field)
const cursorOf = (f: FreezeView) =>
  encodeCursor({ sort: 'change-freezes', value: new Date(f.startsAt).toISOString(), id: f.id })

/** GraphQL door to change freezes: same schemas, same service as REST. */
export function freezeResolvers(): IResolvers {
  return {
    Query: {
      changeFreezes: paged(async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
        const { first, after, ...rest } = args
        const query = check<FreezeListInput>(FreezeListQuery, defined({ ...rest, ...pageArgs({ first, after }) }))
        return toConnection(await services.changeFreezes.list(ctx, query), cursorOf)
      }),
      changeFreeze: async (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
        services.changeFreezes.get(ctx, id(args.id))
    },
    Mutation: {
      createChangeFreeze: async (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
        services.changeFreezes.create(
          ctx,
          check<CreateFreezeInput>(CreateFreezeBody, defined(args.input as Args), 'input')
        ),
      updateChangeFreeze: async (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
        services.changeFreezes.update(
          ctx,
          id(args.id),
          check<UpdateFreezeInput>(UpdateFreezeBody, defined(args.input as Args), 'input')
        ),
      deleteChangeFreeze: async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
        await services.changeFreezes.remove(ctx, id(args.id))
        return true
      }
    }
  } as IResolvers
}

type Query = { obj: Record<string, unknown>; params: Args }

export function freezeLoaders(): MercuriusLoaders {
  return {
    ChangeFreeze: {
      createdBy: async (queries: Query[], { ctx, services }: GqlCtx) => {
        const ids = queries.map(q => q.obj.createdById as string | null)
        const wanted = [...new Set(ids.filter((v): v is string => !!v))]
        const found = await services.users.usersByIds(ctx, wanted)
        const map = new Map(wanted.map((v, i) => [v, found[i] ?? null]))
        return ids.map(v => (v ? (map.get(v) ?? null) : null))
      }
    }
  } as unknown as MercuriusLoaders
}
