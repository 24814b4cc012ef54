import type { Resolvers } from '../../graphql/types.js'
import type { Args, GqlCtx } from '../../lib/graphql.js'
import { Uuid } from '../../lib/schemas.js'
import { check } from '../../lib/validate.js'

/** GraphQL door to SMS blocks: the same service as REST. */
export function smsBlockResolvers(): Resolvers {
  return {
    Query: {
      smsBlocks: async (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
        (await services.smsBlocks.list(ctx, check<string>(Uuid, args.userId, 'userId'))).items
    },
    Mutation: {
      clearSmsBlock: async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
        await services.smsBlocks.clear(ctx, check<string>(Uuid, args.userId, 'userId'), String(args.phone))
        return true
      }
    }
  }
}
