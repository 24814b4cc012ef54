import type { Loaders, Resolvers } from '../../graphql/types.js'
import { type Args, type GqlCtx, Id } from '../../lib/graphql.js'
import { check } from '../../lib/validate.js'
import { KIND_INFO, TICKET_KINDS } from '../tickets/kinds.js'
import { LinkBody } from './links.routes.js'

type Query = { obj: { id: string }; params: Args }

/** linkTickets / unlinkTickets, and the `links` and `ticket` fields batched per response. */
export function linkResolvers(): Resolvers {
  return {
    Mutation: {
      linkTickets: async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
        const input = check<{ type: string; ticketId: string }>(
          LinkBody,
          { type: args.type, ticketId: args.ticketId },
          undefined
        )
        return services.links.link(ctx, null, check<string>(Id, args.id, 'id'), input)
      },
      unlinkTickets: async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
        await services.links.unlink(
          ctx,
          null,
          check<string>(Id, args.id, 'id'),
          check<string>(Id, args.linkId, 'linkId')
        )
        return true
      }
    }
  }
}

export function linkLoaders(): Loaders {
  const links = async (queries: Query[], { ctx, services }: GqlCtx) => {
    const found = await services.links.forTickets(
      ctx,
      queries.map(q => q.obj.id)
    )
    return queries.map(q => found.get(q.obj.id) ?? [])
  }
  const out: Record<string, Record<string, unknown>> = {
    TicketLink: {
      ticket: async (queries: { obj: { ticketId: string } }[], { ctx, services }: GqlCtx) => {
        const found = await services.tickets.byIds(
          ctx,
          null,
          queries.map(q => q.obj.ticketId)
        )
        const map = new Map(found.map(t => [t.id, t]))
        return queries.map(q => map.get(q.obj.ticketId) ?? null)
      }
    }
  }
  for (const kind of TICKET_KINDS) out[KIND_INFO[kind].typeName] = { links }
  return out
}
