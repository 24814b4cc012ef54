import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { replyTable } from '../../lib/csv.js'
import { errorResponses, PageOf } from '../../lib/schemas.js'
import { Breach, BreachesQuery, ComplianceQuery, ComplianceReport } from './sla-reports.schemas.js'
import { COMPLIANCE_COLUMNS } from './sla-reports.service.js'

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
          200: {
            description: 'The report (JSON), or its rows as CSV',
            content: {
              'application/json': { schema: ComplianceReport },
              'text/csv': { schema: Type.String() }
            }
          },
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
        description: PERIOD_NOTE,
        querystring: BreachesQuery,
        response: { 200: PageOf(Breach), ...errorResponses(403) }
      }
    },
    async request => app.services.slaReports.breaches(request.ctx(), request.query)
  )
}
