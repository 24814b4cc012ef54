import type { Resolvers } from '../../graphql/types.js'
import { type Args, defined, type GqlCtx } from '../../lib/graphql.js'
import { check } from '../../lib/validate.js'
import { adminSettingsResolvers, mergeResolvers } from '../admin/admin-resolvers.js'
import {
  type AgeingInput,
  AgeingQuery,
  ReportSettingsBody,
  type ReportSettingsInput,
  type SummaryInput,
  SummaryQuery,
  type TrendsInput,
  TrendsQuery
} from './ticket-reports.schemas.js'

/** GraphQL door to the ticket reports: the REST query schemas, the same service. */
export function ticketReportResolvers(): Resolvers {
  return mergeResolvers(
    adminSettingsResolvers({
      service: services => ({
        get: ctx => services.ticketReports.access.settings.get(ctx),
        set: (ctx, _key, input: ReportSettingsInput, version) =>
          services.ticketReports.access.settings.set(ctx, input, version)
      }),
      names: { get: 'reportSettings', set: 'setReportSettings' },
      body: ReportSettingsBody
    }),
    {
      Query: {
        reportSummary: async (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
          services.ticketReports.summary(ctx, check<SummaryInput>(SummaryQuery, defined(args))),
        reportAgeing: async (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
          services.ticketReports.ageing(ctx, check<AgeingInput>(AgeingQuery, defined(args))),
        reportTrends: async (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
          services.ticketReports.trends(ctx, check<TrendsInput>(TrendsQuery, defined(args)))
      }
    }
  )
}
