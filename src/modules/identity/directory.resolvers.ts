import type { IResolvers } from 'mercurius'
import type { GqlCtx } from '../../lib/graphql.js'

/** GraphQL door to directory sync: the same service as POST /api/v1/directory/sync. */
export function directoryResolvers(): IResolvers {
  return {
    Mutation: {
      syncDirectory: async (_: unknown, __: Record<string, unknown>, { ctx, services }: GqlCtx) =>
        services.directorySync.sync(ctx)
    }
  } as IResolvers
}
