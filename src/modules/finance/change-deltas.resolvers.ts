import type { Resolvers } from '../../graphql/types.js'
import { toConnection } from '../../lib/connection.js'
import { type Args, defined, type GqlCtx, Id, nullsKept, pageArgs, paged } from '../../lib/graphql.js'
import { check } from '../../lib/validate.js'
import { adminResolvers, mergeResolvers } from '../admin/admin-resolvers.js'
import {
  type ChangeCostDeltaListInput,
  ChangeCostDeltaListQuery,
  CreateChangeCostDeltaBody,
  type CreateChangeCostDeltaInput,
  UpdateChangeCostDeltaBody
} from './change-deltas.schemas.js'

const CLEARABLE = ['ciId', 'costCentreId', 'serviceId']

/** GraphQL door to the cost deltas of changes: the REST schemas, the same service. */
export function changeDeltaResolvers(): Resolvers {
  return mergeResolvers(
    adminResolvers({
      service: services => services.changeCostDeltas,
      names: { get: 'changeCostDelta', update: 'updateChangeCostDelta', remove: 'deleteChangeCostDelta' },
      patch: UpdateChangeCostDeltaBody,
      clearable: CLEARABLE
    }),
    {
      Query: {
        changeCostDeltas: paged(async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
          const { id, first, after } = args
          const query = check<ChangeCostDeltaListInput>(ChangeCostDeltaListQuery, defined(pageArgs({ first, after })))
          const page = await services.changeCostDeltas.listOfChange(ctx, check<string>(Id, id, 'id'), query)
          return toConnection(page, services.changeCostDeltas.cursorOf)
        })
      },
      Mutation: {
        addChangeCostDelta: async (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
          services.changeCostDeltas.add(
            ctx,
            check<string>(Id, args.id, 'id'),
            check<CreateChangeCostDeltaInput>(
              CreateChangeCostDeltaBody,
              nullsKept(args.input as Args, CLEARABLE),
              'input'
            )
          )
      }
    }
  )
}
