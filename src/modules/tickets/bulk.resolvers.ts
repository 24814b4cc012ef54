import type { Resolvers } from '../../graphql/types.js'
import { type Args, defined, type GqlCtx } from '../../lib/graphql.js'
import { check } from '../../lib/validate.js'
import { BulkUpdateBody, type BulkUpdateInput } from './bulk.schemas.js'

/** In `set`, an explicit null clears the team or the person; elsewhere null means "not given". */
const CLEARABLE = new Set(['teamId', 'assigneeId'])

/** bulkUpdateTickets(input): the same service and the same checks as POST /api/v1/tickets/bulk. */
export function bulkResolvers(): Resolvers {
  return {
    Mutation: {
      bulkUpdateTickets: async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
        const raw = (args.input ?? {}) as Args
        const set = Object.fromEntries(
          Object.entries((raw.set ?? {}) as Args).filter(
            ([k, v]) => v !== undefined && (v !== null || CLEARABLE.has(k))
          )
        )
        const input = check<BulkUpdateInput>(BulkUpdateBody, { ...defined(raw), set }, 'input')
        return services.ticketBulk.update(ctx, input)
      }
    }
  }
}
