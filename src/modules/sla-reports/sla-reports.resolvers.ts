import type { Resolvers } from '../../graphql/types.js'
import { toConnection } from '../../lib/connection.js'
import { type Args, defined, type GqlCtx, pageArgs, paged } from '../../lib/graphql.js'
import { check } from '../../lib/validate.js'
import { type BreachesInput, BreachesQuery, type ComplianceInput, ComplianceQuery } from './sla-reports.schemas.js'

/** GraphQL door to the SLA reports: the REST query schemas, the same service. */
export function slaReportResolvers(): Resolvers {
  return {
    Query: {
      slaCompliance: async (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
        services.slaReports.compliance(ctx, check<ComplianceInput>(ComplianceQuery, defined(args))),
      slaBreaches: paged(async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
        const { first, after, ...rest } = args
        const input = check<BreachesInput>(BreachesQuery, defined({ ...rest, ...pageArgs({ first, after }) }))
        const page = await services.slaReports.breaches(ctx, input)
        return {
          ...toConnection(page, services.slaReports.breachCursorOf),
          tickets: page.tickets,
          asOf: page.asOf,
          replicaLagSeconds: page.replicaLagSeconds
        }
      })
    }
  }
}
