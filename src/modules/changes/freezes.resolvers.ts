import type { Loaders, Resolvers } from '../../graphql/types.js'
import { encodeCursor } from '../../lib/cursor.js'
import type { GqlCtx } from '../../lib/graphql.js'
import { adminResolvers } from '../admin/admin-resolvers.js'
import { CreateFreezeBody, FreezeListQuery, UpdateFreezeBody } from './freezes.schemas.js'
import type { FreezeView } from './freezes.service.js'

type Args = Record<string, unknown>

/** GraphQL door to change freezes: same schemas, same service as REST. */
export function freezeResolvers(): Resolvers {
  return adminResolvers({
    service: services => services.changeFreezes,
    names: {
      get: 'changeFreeze',
      list: 'changeFreezes',
      create: 'createChangeFreeze',
      update: 'updateChangeFreeze',
      remove: 'deleteChangeFreeze'
    },
    listQuery: FreezeListQuery,
    create: CreateFreezeBody,
    patch: UpdateFreezeBody,
    cursorOf: (f: FreezeView) =>
      encodeCursor({ sort: 'change-freezes', value: new Date(f.startsAt).toISOString(), id: f.id })
  })
}

type Query = { obj: Record<string, unknown>; params: Args }

export function freezeLoaders(): Loaders {
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
  }
}
