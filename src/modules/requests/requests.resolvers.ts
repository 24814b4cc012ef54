import type { Loaders, Resolvers } from '../../graphql/types.js'
import { type Args, defined, type GqlCtx, Id } from '../../lib/graphql.js'
import { check } from '../../lib/validate.js'
import { teamsBy, usersBy } from '../identity/identity.resolvers.js'
import { ticketLoaders, ticketResolvers } from '../tickets/tickets.resolvers.js'
import {
  AddTaskBody,
  type AddTaskInput,
  ReclassifyIncidentBody,
  type ReclassifyIncidentInput,
  ReclassifyRequestBody,
  type ReclassifyRequestInput,
  requestSchemas,
  UpdateTaskBody,
  type UpdateTaskInput
} from './requests.schemas.js'

const id = (v: unknown, field = 'id') => check<string>(Id, v, field)

/** GraphQL door to requests: the shared ticket resolvers, fulfilment tasks and reclassification. */
export function requestResolvers(): Resolvers {
  const shared = ticketResolvers('request', requestSchemas.create, requestSchemas.update)
  return {
    ...shared,
    Mutation: {
      ...shared.Mutation,
      addRequestTask: async (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
        services.requests.addTask(
          ctx,
          id(args.id),
          check<AddTaskInput>(AddTaskBody, defined(args.input as Args), 'input')
        ),
      updateRequestTask: async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
        // null clears teamId or assigneeId, as in REST
        const raw = Object.fromEntries(Object.entries(args.input as Args).filter(([, v]) => v !== undefined))
        const input = check<UpdateTaskInput>(UpdateTaskBody, raw, 'input')
        return services.requests.updateTask(ctx, id(args.id), id(args.taskId, 'taskId'), input)
      },
      reclassifyIncident: async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
        const input = check<ReclassifyIncidentInput>(
          ReclassifyIncidentBody,
          { ...defined(args.input as Args), to: 'request' },
          'input'
        )
        return services.requests.reclassify(ctx, 'incident', id(args.id), input)
      },
      reclassifyRequest: async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
        const input = check<ReclassifyRequestInput>(
          ReclassifyRequestBody,
          { ...defined((args.input as Args | null) ?? {}), to: 'incident' },
          'input'
        )
        return services.requests.reclassify(ctx, 'request', id(args.id), input)
      }
    }
  }
}

type Query = { obj: Record<string, unknown>; params: Args }

export const requestLoaders = (): Loaders => ({
  ServiceRequest: {
    ...ticketLoaders('ServiceRequest').ServiceRequest,
    tasks: async (queries: Query[], { ctx, services }: GqlCtx) =>
      services.requests.tasksOf(
        ctx,
        queries.map(q => String(q.obj.id))
      ),
    offering: async (queries: Query[], { ctx, services }: GqlCtx) =>
      services.requests.offeringsByIds(
        ctx,
        queries.map(q => String(q.obj.offeringId))
      )
  },
  RequestTask: {
    team: teamsBy('teamId'),
    assignee: usersBy('assigneeId'),
    doneBy: usersBy('doneById')
  }
})
