import type { Loaders, Resolvers } from '../../graphql/types.js'
import { toConnection } from '../../lib/connection.js'
import { encodeCursor } from '../../lib/cursor.js'
import { type Args, defined, type GqlCtx, Id, pageArgs, paged } from '../../lib/graphql.js'
import { check } from '../../lib/validate.js'
import { usersBy } from '../identity/identity.resolvers.js'
import { DecisionBody, type DecisionInput, type MyApprovalsInput, MyApprovalsQuery } from './approvals.schemas.js'
import { queueCursor } from './approvals.service.js'

type Query = { obj: Record<string, unknown>; params: Args }

/** Each parent ticket's approval rounds: one batch (two queries) for every ticket in the response. */
export const roundsLoader = async (queries: Query[], { ctx, services }: GqlCtx) => {
  const found = await services.approvals.roundsFor(
    ctx,
    queries.map(q => String(q.obj.id))
  )
  return queries.map(q => found.get(String(q.obj.id)) ?? [])
}

/** A ticket named by `field` on each parent, looked up in one batch (null when not visible). */
export const ticketsBy =
  (field: string) =>
  async (queries: Query[], { ctx, services }: GqlCtx) => {
    const ids = queries.map(q => q.obj[field] as string | null)
    const wanted = [...new Set(ids.filter((v): v is string => !!v))]
    const found = new Map((await services.tickets.byIds(ctx, null, wanted)).map(t => [t.id, t]))
    return ids.map(v => (v ? (found.get(v) ?? null) : null))
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
    ServiceRequest: { approvals: roundsLoader },
    Approval: { approver: usersBy('approverId') },
    ApprovalRound: { ticket: ticketsBy('ticketId') },
    MyApproval: { ticket: ticketsBy('ticketId') }
  }
}
