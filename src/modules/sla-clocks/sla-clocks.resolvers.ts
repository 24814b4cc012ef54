import type { Resolvers } from '../../graphql/types.js'
import type { Args, GqlCtx } from '../../lib/graphql.js'
import { check } from '../../lib/validate.js'
import { TicketRefParams } from './sla-clocks.schemas.js'

/** GraphQL door to a ticket's clocks: the same service as GET /tickets/{ref}/sla. */
export function slaClockResolvers(): Resolvers {
  return {
    Query: {
      ticketSla: async (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
        services.slaClocks.ticketSla(ctx, check<{ ref: string }>(TicketRefParams, { ref: args.ref }).ref)
    }
  }
}
