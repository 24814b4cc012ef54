import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { replyTable } from '../../lib/csv.js'
import { errorResponses } from '../../lib/schemas.js'
import { ServiceCostQuery, ServiceCostReport } from './service-costs.schemas.js'
import type { ServiceCostLine } from './service-costs.service.js'

const COLUMNS = [
  { header: 'serviceId', value: (r: ServiceCostLine) => r.serviceId },
  { header: 'name', value: (r: ServiceCostLine) => r.name },
  { header: 'class', value: (r: ServiceCostLine) => r.class },
  { header: 'costCentreId', value: (r: ServiceCostLine) => r.costCentreId },
  { header: 'ownCost', value: (r: ServiceCostLine) => r.ownCost },
  { header: 'sharedCost', value: (r: ServiceCostLine) => r.sharedCost },
  { header: 'totalCost', value: (r: ServiceCostLine) => r.totalCost },
  { header: 'ciCount', value: (r: ServiceCostLine) => r.ciCount }
] as const

/** REST door to the cost model: cost per service for a month, JSON or CSV. */
export default async function serviceCostRoutes(base: FastifyInstance) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>()
  app.get(
    '/reports/service-costs',
    {
      schema: {
        tags: ['finance'],
        operationId: 'serviceCosts',
        summary:
          'Cost per service for a month: its own CI costs plus an even share of every CI beneath it (finance, admin)',
        description:
          'Costs flow up the CMDB relationships (source stands on target) to the service CIs (class service or below it); ' +
          'a CI reached by several services is split evenly between them; cycles are walked once. Amounts are exact ' +
          'decimal strings in the reporting currency, each day at the rate in force. `Accept: text/csv` (or ?format=csv) answers CSV.',
        querystring: ServiceCostQuery,
        response: {
          200: {
            description: 'The report',
            content: {
              'application/json': { schema: ServiceCostReport },
              'text/csv': { schema: Type.String({ description: 'One line a service, the columns of items' }) }
            }
          },
          ...errorResponses(400, 403)
        }
      }
    },
    async (request, reply) => {
      const report = await app.services.serviceCosts.report(request.ctx(), request.query)
      return replyTable(
        request,
        reply,
        { columns: COLUMNS, rows: report.items, filename: `service-costs-${report.period}` },
        report
      )
    }
  )
}
