import type { Resolvers } from '../../graphql/types.js'
import { type Args, defined, type GqlCtx } from '../../lib/graphql.js'
import { check } from '../../lib/validate.js'
import {
  type ChargebackInput,
  ChargebackQuery,
  type ForecastInput,
  ForecastQuery,
  type ReportRangeInput,
  ReportRangeQuery,
  type ServiceCostInput,
  ServiceCostQuery
} from './reports.schemas.js'

/** GraphQL door to the finance reports: the REST query schemas, the same service functions. */
export function reportResolvers(): Resolvers {
  const range = (args: Args) => check<ReportRangeInput>(ReportRangeQuery, defined({ from: args.from, to: args.to }))
  const allocation = (args: Args) => ({
    from: args.from,
    to: args.to,
    split: args.split,
    usageAttribute: args.usageAttribute,
    depth: args.depth
  })
  return {
    Query: {
      costPerService: (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
        services.financeReports.costPerService(
          ctx,
          check<ServiceCostInput>(ServiceCostQuery, defined(allocation(args)))
        ),
      serviceMargin: (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
        services.financeReports.serviceMargin(
          ctx,
          check<ServiceCostInput>(ServiceCostQuery, defined(allocation(args)))
        ),
      chargeback: (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
        services.financeReports.chargeback(
          ctx,
          check<ChargebackInput>(ChargebackQuery, defined({ ...allocation(args), by: args.by, basis: args.basis }))
        ),
      costForecast: (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
        services.financeReports.forecast(
          ctx,
          check<ForecastInput>(ForecastQuery, defined({ from: args.from, months: args.months }))
        ),
      costPerClass: (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
        services.financeReports.costPerClass(ctx, range(args)),
      costPerCostCentre: (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
        services.financeReports.costPerCostCentre(ctx, range(args)),
      budgetAgainstActual: (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
        services.financeReports.budgetAgainstActual(ctx, range(args))
    }
  } as Resolvers
}
