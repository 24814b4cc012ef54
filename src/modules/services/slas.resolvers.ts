import type { Resolvers } from '../../graphql/types.js'
import { type Args, defined, type GqlCtx } from '../../lib/graphql.js'
import { check } from '../../lib/validate.js'
import { adminResolvers, mergeResolvers } from '../admin/admin-resolvers.js'
import {
  CreateOlaBody,
  CreateSlaBody,
  OlaListQuery,
  SimulateBody,
  type SimulateInput,
  SlaListQuery,
  UpdateOlaBody,
  UpdateSlaBody
} from './slas.schemas.js'
import { olaKeyset, slaCursorOf } from './slas.service.js'

/**
 * GraphQL doors to SLAs and OLAs and the simulation: the REST schemas check the arguments, the same service acts
 * (nulls inside `conditions` stay: there, as in REST, null matches any).
 */
export function slaResolvers(): Resolvers {
  return mergeResolvers(
    adminResolvers({
      service: services => services.slas.slas,
      names: { get: 'sla', list: 'slas', create: 'createSla', update: 'updateSla', remove: 'deleteSla' },
      listQuery: SlaListQuery,
      create: CreateSlaBody,
      patch: UpdateSlaBody,
      cursorOf: slaCursorOf
    }),
    adminResolvers({
      service: services => services.slas.olas,
      names: { get: 'ola', list: 'olas', create: 'createOla', update: 'updateOla', remove: 'deleteOla' },
      listQuery: OlaListQuery,
      create: CreateOlaBody,
      patch: UpdateOlaBody,
      cursorOf: olaKeyset.cursorOf
    }),
    {
      Query: {
        simulateSla: async (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
          services.slas.simulate(ctx, check<SimulateInput>(SimulateBody, defined(args.input as Args), 'input'))
      }
    }
  )
}
