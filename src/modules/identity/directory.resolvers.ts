import type { Resolvers } from '../../graphql/types.js'
import type { GqlCtx } from '../../lib/graphql.js'

/** GraphQL door to directory sync: the same service as POST /api/v1/directory/sync. */
export function directoryResolvers(): Resolvers {
  return {
    Mutation: {
      syncDirectory: async (_: unknown, __: Record<string, unknown>, { ctx, services }: GqlCtx) =>
        services.directorySync.sync(ctx)
    }
  }
}
