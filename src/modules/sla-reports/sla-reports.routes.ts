import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { type CsvColumn, replyTable, reportResponse } from '../../lib/csv.js'
import { errorResponses } from '../../lib/schemas.js'
import {
  BreachesQuery,
  BreachPage,
  type BreachView,
  ComplianceQuery,
  ComplianceReport,
  type ComplianceRowView
} from './sla-reports.schemas.js'

const COMPLIANCE_COLUMNS: readonly CsvColumn<ComplianceRowView>[] = [
  { header: 'key', value: r => r.key },
  { header: 'name', value: r => r.name },
  { header: 'met', value: r => r.met },
  { header: 'breached', value: r => r.breached },
  { header: 'total', value: r => r.total },
  { header: 'percent_met', value: r => r.percentMet },
  { header: 'in_progress', value: r => r.inProgress }
]

const BREACH_COLUMNS: readonly CsvColumn<BreachView>[] = [
  { header: 'ticket_number', value: r => r.ticketNumber },
  { header: 'kind', value: r => r.kind },
  { header: 'title', value: r => r.title },
  { header: 'agreement', value: r => r.agreement },
  { header: 'target', value: r => r.target },
  { header: 'priority', value: r => r.priority },
  { header: 'service_id', value: r => r.serviceId },
  { header: 'team_id', value: r => r.teamId },
  { header: 'organisation_id', value: r => r.organisationId },
  { header: 'due_at', value: r => r.dueAt },
  { header: 'breached_at', value: r => r.breachedAt },
  { header: 'stopped_at', value: r => r.stoppedAt },
  { header: 'overdue_minutes', value: r => r.overdueMinutes }
]

const PERIOD_NOTE =
  'A clock counts in the period it was decided: breached by its breach time, met by its stop time (from inclusive, to exclusive). Customers see their organisation only.'

/** REST door to the SLA reports. */
export default async function slaReportRoutes(base: FastifyInstance) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>()
  const tags = ['reports']

  app.get(
    '/reports/sla/compliance',
    {
      schema: {
        tags,
        operationId: 'slaCompliance',
        summary: 'SLA/OLA compliance per service, team, organisation or priority: met, breached, percent met',
        description: `${PERIOD_NOTE} Accept: text/csv (or format=csv) answers the rows as CSV.`,
        querystring: ComplianceQuery,
        response: {
          ...reportResponse(ComplianceReport),
          ...errorResponses(403)
        }
      }
    },
    async (request, reply) => {
      const report = await app.services.slaReports.compliance(request.ctx(), request.query)
      const filename = `sla-compliance-${report.groupBy}`
      return replyTable(request, reply, { columns: COMPLIANCE_COLUMNS, rows: report.rows, filename }, report)
    }
  )

  app.get(
    '/reports/sla/breaches',
    {
      schema: {
        tags,
        operationId: 'slaBreaches',
        summary: 'Clocks breached in a period, oldest breach first (the drill-down of a compliance row)',
        description: `${PERIOD_NOTE} Accept: text/csv (or format=csv) answers the page's items as CSV.`,
        querystring: BreachesQuery,
        response: { ...reportResponse(BreachPage), ...errorResponses(403) }
      }
    },
    async (request, reply) => {
      const page = await app.services.slaReports.breaches(request.ctx(), request.query)
      return replyTable(request, reply, { columns: BREACH_COLUMNS, rows: page.items, filename: 'sla-breaches' }, page)
    }
  )
}
