import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { type CsvColumn, replyTable, reportResponse } from '../../lib/csv.js'
import { errorResponses } from '../../lib/schemas.js'
import { adminSettingsRoutes } from '../admin/admin-routes.js'
import {
  AgeingQuery,
  AgeingReport,
  type AgeingRowView,
  ReportSettings,
  ReportSettingsBody,
  SummaryQuery,
  SummaryReport,
  type SummaryRowView,
  type TimingRowView,
  type TrendBucketView,
  TrendsQuery,
  TrendsReport
} from './ticket-reports.schemas.js'

const SUMMARY_COLUMNS: readonly CsvColumn<SummaryRowView>[] = [
  { header: 'kind', value: r => r.kind },
  { header: 'key', value: r => r.key },
  { header: 'name', value: r => r.name },
  { header: 'total', value: r => r.total },
  { header: 'open', value: r => r.open },
  { header: 'closed', value: r => r.closed },
  { header: 'past_due', value: r => r.pastDue },
  { header: 'tickets', value: r => r.tickets }
]

const AGEING_COLUMNS: readonly CsvColumn<AgeingRowView>[] = [
  { header: 'section', value: r => r.section },
  { header: 'from_days', value: r => r.fromDays },
  { header: 'to_days', value: r => r.toDays },
  { header: 'count', value: r => r.count },
  { header: 'issued', value: r => r.issued },
  { header: 'closed', value: r => r.closed },
  { header: 'tickets', value: r => r.tickets }
]

const TREND_COLUMNS: readonly CsvColumn<TrendBucketView>[] = [
  { header: 'label', value: r => r.label },
  { header: 'start', value: r => r.start },
  { header: 'end', value: r => r.end },
  { header: 'created', value: r => r.created },
  { header: 'resolved', value: r => r.resolved },
  { header: 'backlog', value: r => r.backlog },
  { header: 'tickets', value: r => r.tickets }
]

const TIMING_COLUMNS: readonly CsvColumn<TimingRowView>[] = [
  { header: 'team_id', value: r => r.teamId },
  { header: 'team_name', value: r => r.teamName },
  { header: 'priority', value: r => r.priority },
  { header: 'count', value: r => r.count },
  { header: 'responded', value: r => r.responded },
  { header: 'response_mean_minutes', value: r => r.responseMeanMinutes },
  { header: 'response_median_minutes', value: r => r.responseMedianMinutes },
  { header: 'response_business_time', value: r => r.responseBusinessTime },
  { header: 'resolved', value: r => r.resolved },
  { header: 'resolve_mean_minutes', value: r => r.resolveMeanMinutes },
  { header: 'resolve_median_minutes', value: r => r.resolveMedianMinutes },
  { header: 'resolve_business_time', value: r => r.resolveBusinessTime },
  { header: 'tickets', value: r => r.tickets }
]

const ESCALATION_COLUMNS: readonly CsvColumn<{ layer: number; escalations: number }>[] = [
  { header: 'layer', value: r => r.layer },
  { header: 'escalations', value: r => r.escalations }
]

const ACCESS =
  'Staff need report.read; customers read the summary of their own organisation only while reports.customerAccess is on (PUT /api/v1/report-settings).'
const CSV = 'Accept: text/csv (or format=csv) answers the rows as CSV.'

/** REST door to the ticket reports and their settings. */
export default async function ticketReportRoutes(base: FastifyInstance) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>()
  const tags = ['reports']

  app.get(
    '/reports/summary',
    {
      schema: {
        tags,
        operationId: 'reportSummary',
        summary: 'Tickets created in a period per kind and group: open, closed, past due, total',
        description: `Each row links the ticket list behind it. ${ACCESS} ${CSV}`,
        querystring: SummaryQuery,
        response: { ...reportResponse(SummaryReport), ...errorResponses(400, 403) }
      }
    },
    async (request, reply) => {
      const report = await app.services.ticketReports.summary(request.ctx(), request.query)
      const filename = `ticket-summary${report.groupBy ? `-${report.groupBy}` : ''}`
      return replyTable(request, reply, { columns: SUMMARY_COLUMNS, rows: report.rows, filename }, report)
    }
  )

  app.get(
    '/reports/ageing',
    {
      schema: {
        tags,
        operationId: 'reportAgeing',
        summary: 'Open tickets by age, resolution times, past-due tickets by days past due (bucket edges in days)',
        description: `Each row links the ticket list behind it. Staff only (report.read). ${CSV}`,
        querystring: AgeingQuery,
        response: { ...reportResponse(AgeingReport), ...errorResponses(400, 403) }
      }
    },
    async (request, reply) => {
      const report = await app.services.ticketReports.ageing(request.ctx(), request.query)
      return replyTable(
        request,
        reply,
        { columns: AGEING_COLUMNS, rows: report.rows, filename: 'ticket-ageing' },
        report
      )
    }
  )

  app.get(
    '/reports/trends',
    {
      schema: {
        tags,
        operationId: 'reportTrends',
        summary: 'Created against resolved and backlog per day, week or month; response and resolve times; rates',
        description: `Buckets are local to timeZone. Staff only (report.read). ${CSV} (table: buckets, timings or escalations)`,
        querystring: TrendsQuery,
        response: { ...reportResponse(TrendsReport), ...errorResponses(400, 403) }
      }
    },
    async (request, reply) => {
      const report = await app.services.ticketReports.trends(request.ctx(), request.query)
      const table = request.query.table ?? 'buckets'
      const filename = `ticket-trends-${table}-${report.interval}`
      if (table === 'timings')
        return replyTable(request, reply, { columns: TIMING_COLUMNS, rows: report.timings, filename }, report)
      if (table === 'escalations')
        return replyTable(request, reply, { columns: ESCALATION_COLUMNS, rows: report.escalations, filename }, report)
      return replyTable(request, reply, { columns: TREND_COLUMNS, rows: report.buckets, filename }, report)
    }
  )

  adminSettingsRoutes(base, {
    path: '/report-settings',
    tags,
    view: ReportSettings,
    body: ReportSettingsBody,
    summary: {
      get: "Report settings: whether customers read their organisation's summary and SLA compliance",
      set: 'Share or withdraw the summary and SLA compliance reports with customers (admin)'
    },
    service: app => ({
      get: ctx => app.services.ticketReports.access.settings.get(ctx),
      set: (ctx, _key: undefined, input, version) => app.services.ticketReports.access.settings.set(ctx, input, version)
    })
  })
}
