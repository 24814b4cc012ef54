import { Type } from 'typebox'
import type { Resolvers } from '../../graphql/types.js'
import { toConnection } from '../../lib/connection.js'
import { defined, type GqlCtx, pageArgs, paged } from '../../lib/graphql.js'
import { check } from '../../lib/validate.js'
import {
  CreateOfferingBody,
  type CreateOfferingInput,
  type OfferingListInput,
  OfferingListQuery,
  UpdateOfferingBody,
  type UpdateOfferingInput
} from './catalog.schemas.js'
import { type OfferingRow, offeringKeyset } from './catalog.service.js'

type Args = Record<string, unknown>
const Id = Type.String({ format: 'uuid' })
const id = (v: unknown) => check<string>(Id, v, 'id')
const cursorOf = (row: OfferingRow) => offeringKeyset.cursorOf(row)

/** GraphQL door to catalog offerings: the REST schemas check the arguments, the same service acts. */
export function catalogResolvers(): Resolvers {
  return {
    Query: {
      catalogOffering: async (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
        services.catalog.get(ctx, id(args.id)),
      catalogOfferings: paged(async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
        const { first, after, ...rest } = args
        const query = check<OfferingListInput>(OfferingListQuery, defined({ ...rest, ...pageArgs({ first, after }) }))
        return toConnection(await services.catalog.list(ctx, query), cursorOf)
      })
    },
    Mutation: {
      createCatalogOffering: async (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
        services.catalog.create(
          ctx,
          check<CreateOfferingInput>(CreateOfferingBody, defined(args.input as Args), 'input')
        ),
      updateCatalogOffering: async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
        // An explicit null clears teamId or approval; other nulls mean "not given"
        const input = Object.fromEntries(
          Object.entries(args.input as Args).filter(
            ([k, v]) => v !== undefined && (v !== null || k === 'teamId' || k === 'approval')
          )
        )
        return services.catalog.update(
          ctx,
          id(args.id),
          check<UpdateOfferingInput>(UpdateOfferingBody, input, 'input'),
          typeof args.version === 'number' ? args.version : undefined
        )
      }
    }
  }
}
