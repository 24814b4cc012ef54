import type { Resolvers } from '../../graphql/types.js'
import { toConnection } from '../../lib/connection.js'
import { type Args, defined, type GqlCtx, Id, pageArgs, paged } from '../../lib/graphql.js'
import { PageQuery } from '../../lib/schemas.js'
import { check } from '../../lib/validate.js'
import { WatcherBody } from './watchers.routes.js'

const id = (v: unknown, field = 'id') => check<string>(Id, v, field)

/** GraphQL door to ticket watchers: the same service functions as REST. */
export function watcherResolvers(): Resolvers {
  return {
    Query: {
      ticketWatchers: paged(async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
        const page = check<{ limit?: number; cursor?: string }>(PageQuery, defined(pageArgs(args)))
        return toConnection(await services.watchers.list(ctx, null, id(args.id), page), services.watchers.cursorOf)
      })
    },
    Mutation: {
      watchTicket: async (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
        services.watchers.add(
          ctx,
          null,
          id(args.id),
          check<{ userId?: string }>(WatcherBody, defined({ userId: args.userId }))
        ),
      unwatchTicket: async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
        const userId = args.userId == null ? ctx.actor.id : id(args.userId, 'userId')
        if (!userId) return false
        await services.watchers.remove(ctx, null, id(args.id), userId)
        return true
      }
    }
  }
}
