import type { Resolvers } from '../../graphql/types.js'
import type { Args, GqlCtx } from '../../lib/graphql.js'
import { check } from '../../lib/validate.js'
import { type ServiceCostInput, ServiceCostQuery } from './service-costs.schemas.js'

/** GraphQL door to the cost model: the REST query schema, the same service. */
export function serviceCostResolvers(): Resolvers {
  return {
    Query: {
      serviceCosts: async (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
        services.serviceCosts.report(ctx, check<ServiceCostInput>(ServiceCostQuery, { period: args.period }))
    }
  }
}
