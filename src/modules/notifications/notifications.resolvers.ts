import type { Resolvers } from '../../graphql/types.js'
import { toConnection } from '../../lib/connection.js'
import { type Args, defined, type GqlCtx, Id, pageArgs, paged } from '../../lib/graphql.js'
import { check } from '../../lib/validate.js'
import { type NotificationListInput, NotificationListQuery } from './notifications.schemas.js'

const id = (v: unknown) => check<string>(Id, v, 'id')

/** GraphQL door to the notification outbox: the same schemas and service functions as REST. */
export function notificationResolvers(): Resolvers {
  return {
    Query: {
      notifications: paged(async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
        const { first, after, ...rest } = args
        const query = check<NotificationListInput>(
          NotificationListQuery,
          defined({ ...rest, ...pageArgs({ first, after }) })
        )
        return toConnection(await services.notifications.list(ctx, query), services.notifications.cursorOf)
      }),
      notification: async (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
        services.notifications.get(ctx, id(args.id)),
      notificationStats: async (_: unknown, _args: Args, { ctx, services }: GqlCtx) => services.notifications.stats(ctx)
    },
    Mutation: {
      replayNotification: async (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
        services.notifications.replay(ctx, id(args.id))
    }
  }
}
