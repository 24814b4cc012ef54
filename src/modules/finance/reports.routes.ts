import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { type CsvColumn, replyTable, reportResponse } from '../../lib/csv.js'
import { errorResponses } from '../../lib/schemas.js'
import {
  BudgetActualReport,
  ClassCostReport,
  CostCentreCostReport,
  ReportRangeQuery,
  ServiceCostQuery,
  ServiceCostReport
} from './reports.schemas.js'
import type { ReportService } from './reports.service.js'

type Report<S extends keyof ReportService> = Awaited<ReturnType<ReportService[S]>>
type Row<S extends keyof ReportService> = Report<S>['items'][number]

const serviceColumns: CsvColumn<Row<'costPerService'>>[] = [
  { header: 'service_id', value: r => r.serviceId },
  { header: 'name', value: r => r.name },
  { header: 'class', value: r => r.ciClass },
  { header: 'cost_centre_id', value: r => r.costCentreId },
  { header: 'own_cost', value: r => r.ownCost },
  { header: 'shared_cost', value: r => r.sharedCost },
  { header: 'cost', value: r => r.cost },
  { header: 'ci_count', value: r => r.ciCount }
]
const classColumns: CsvColumn<Row<'costPerClass'>>[] = [
  { header: 'class', value: r => r.ciClass },
  { header: 'cost', value: r => r.cost },
  { header: 'ci_count', value: r => r.ciCount }
]
const centreColumns: CsvColumn<Row<'costPerCostCentre'>>[] = [
  { header: 'cost_centre_id', value: r => r.costCentreId },
  { header: 'code', value: r => r.code },
  { header: 'name', value: r => r.name },
  { header: 'parent_id', value: r => r.parentId },
  { header: 'own_cost', value: r => r.ownCost },
  { header: 'cost', value: r => r.cost }
]

const budgetColumns: CsvColumn<Row<'budgetAgainstActual'>>[] = [
  { header: 'budget_id', value: r => r.budgetId },
  { header: 'cost_centre_id', value: r => r.costCentreId },
  { header: 'code', value: r => r.code },
  { header: 'period', value: r => r.period },
  { header: 'period_start', value: r => r.periodStart },
  { header: 'budget', value: r => r.budget },
  { header: 'actual', value: r => r.actual },
  { header: 'variance', value: r => r.variance }
]

const NOTE =
  "Computed on read over whole months, every amount in the reporting currency (a foreign cost at the rate in force on each month's first day). Capital costs depreciate straight-line monthly from the purchase month; recurring costs count the share of each month's days they run. JSON, or CSV with Accept: text/csv."

/** REST door to the finance reports (finance, admin). */
export default async function reportRoutes(base: FastifyInstance) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>()
  const tags = ['finance']

  app.get(
    '/reports/finance/cost-per-service',
    {
      schema: {
        operationId: 'costPerService',
        tags,
        summary: 'Cost per service: its own CI costs plus its share of every CI beneath it (finance, admin)',
        description: `${NOTE} A service is a CI of class service or a subclass; its cost walks the CMDB relationships downstream (source to target), a CI standing under several splitting its cost over them evenly or by a numeric usage attribute of theirs (split=usage&usageAttribute=...). Cycles end: a path never revisits a CI.`,
        querystring: ServiceCostQuery,
        response: { ...reportResponse(ServiceCostReport), ...errorResponses(400, 403) }
      }
    },
    async (request, reply) => {
      const report = await app.services.financeReports.costPerService(request.ctx(), request.query)
      return replyTable(
        request,
        reply,
        { columns: serviceColumns, rows: report.items, filename: 'cost-per-service' },
        report
      )
    }
  )

  app.get(
    '/reports/finance/cost-per-class',
    {
      schema: {
        operationId: 'costPerClass',
        tags,
        summary: 'Direct CI costs per CI class (finance, admin)',
        description: NOTE,
        querystring: ReportRangeQuery,
        response: { ...reportResponse(ClassCostReport), ...errorResponses(400, 403) }
      }
    },
    async (request, reply) => {
      const report = await app.services.financeReports.costPerClass(request.ctx(), request.query)
      return replyTable(
        request,
        reply,
        { columns: classColumns, rows: report.items, filename: 'cost-per-class' },
        report
      )
    }
  )

  app.get(
    '/reports/finance/cost-per-cost-centre',
    {
      schema: {
        operationId: 'costPerCostCentre',
        tags,
        summary: 'Direct CI costs per cost centre, rolled up the cost-centre tree (finance, admin)',
        description: `${NOTE} ownCost: the CIs naming the centre; cost: its own plus every descendant's.`,
        querystring: ReportRangeQuery,
        response: { ...reportResponse(CostCentreCostReport), ...errorResponses(400, 403) }
      }
    },
    async (request, reply) => {
      const report = await app.services.financeReports.costPerCostCentre(request.ctx(), request.query)
      return replyTable(
        request,
        reply,
        { columns: centreColumns, rows: report.items, filename: 'cost-per-cost-centre' },
        report
      )
    }
  )

  app.get(
    '/reports/finance/budget-against-actual',
    {
      schema: {
        operationId: 'budgetAgainstActual',
        tags,
        summary: 'Budgets starting in the range against the actual of their period (finance, admin)',
        description: `${NOTE} actual: the direct CI costs of the cost centre and its descendants over the budget's months; variance = budget - actual.`,
        querystring: ReportRangeQuery,
        response: { ...reportResponse(BudgetActualReport), ...errorResponses(400, 403) }
      }
    },
    async (request, reply) => {
      const report = await app.services.financeReports.budgetAgainstActual(request.ctx(), request.query)
      return replyTable(
        request,
        reply,
        { columns: budgetColumns, rows: report.items, filename: 'budget-against-actual' },
        report
      )
    }
  )
}
