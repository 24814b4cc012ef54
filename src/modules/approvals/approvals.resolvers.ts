import type { Loaders, Resolvers } from '../../graphql/types.js'
import { toConnection } from '../../lib/connection.js'
import { encodeCursor } from '../../lib/cursor.js'
import { type Args, defined, type GqlCtx, Id, pageArgs, paged } from '../../lib/graphql.js'
import { check } from '../../lib/validate.js'
import { usersBy } from '../identity/identity.resolvers.js'
import { ticketsBy } from '../tickets/tickets.resolvers.js'
import { DecisionBody, type DecisionInput, type MyApprovalsInput, MyApprovalsQuery } from './approvals.schemas.js'
import { queueCursor } from './approvals.service.js'

type Query = { obj: Record<string, unknown>; params: Args }

/** Each parent ticket's approval rounds: one batch (two queries) for every ticket in the response. */
const roundsLoader = async (queries: Query[], { ctx, services }: GqlCtx) => {
  const found = await services.approvals.roundsFor(
    ctx,
    queries.map(q => String(q.obj.id))
  )
  return queries.map(q => found.get(String(q.obj.id)) ?? [])
}

/** GraphQL door to approvals: decide (changes and requests alike) and your own queue. */
export function approvalResolvers(): Resolvers {
  return {
    Query: {
      myApprovals: paged(async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
        const { first, after, state } = args
        const input = check<MyApprovalsInput>(MyApprovalsQuery, defined({ state, ...pageArgs({ first, after }) }))
        return toConnection(await services.approvals.mine(ctx, input), item => encodeCursor(queueCursor(item)))
      })
    },
    Mutation: {
      decideApproval: async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
        const input = check<DecisionInput>(DecisionBody, defined({ decision: args.decision, comment: args.comment }))
        return services.approvals.decide(ctx, null, check<string>(Id, args.id, 'id'), input)
      }
    }
  }
}

export function approvalLoaders(): Loaders {
  return {
    // The kinds whose workflows ask for approval show their rounds (their modules need not know approvals)
    ServiceRequest: { approvals: roundsLoader },
    Change: { approvals: roundsLoader },
    Approval: { approver: usersBy('approverId') },
    ApprovalRound: { ticket: ticketsBy('ticketId') },
    MyApproval: { ticket: ticketsBy('ticketId') }
  }
}
