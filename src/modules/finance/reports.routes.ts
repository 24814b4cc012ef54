import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { type CsvColumn, replyTable, reportResponse } from '../../lib/csv.js'
import { errorResponses } from '../../lib/schemas.js'
import {
  BudgetActualReport,
  ChargebackQuery,
  ChargebackReport,
  ClassCostReport,
  CostCentreCostReport,
  ForecastQuery,
  ForecastReport,
  ReportRangeQuery,
  ServiceCostQuery,
  ServiceCostReport,
  ServiceMarginReport
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

const marginColumns: CsvColumn<Row<'serviceMargin'>>[] = [
  { header: 'service_id', value: r => r.serviceId },
  { header: 'name', value: r => r.name },
  { header: 'basis', value: r => r.basis },
  { header: 'quantity', value: r => r.quantity },
  { header: 'cost', value: r => r.cost },
  { header: 'revenue', value: r => r.revenue },
  { header: 'margin', value: r => r.margin },
  { header: 'margin_percent', value: r => r.marginPercent }
]

const chargebackColumns: CsvColumn<Row<'chargeback'>>[] = [
  { header: 'organisation_id', value: r => r.organisationId },
  { header: 'organisation', value: r => r.organisation },
  { header: 'cost_centre_id', value: r => r.costCentreId },
  { header: 'service_id', value: r => r.serviceId },
  { header: 'service', value: r => r.service },
  { header: 'share', value: r => r.share },
  { header: 'charge', value: r => r.charge }
]
/** basis=price (finance, admin): each charge beside its cost. */
const chargebackPriceColumns: CsvColumn<Row<'chargeback'>>[] = [
  ...chargebackColumns,
  { header: 'cost', value: r => ('cost' in r ? r.cost : null) },
  { header: 'difference', value: r => ('difference' in r ? r.difference : null) }
]

const forecastColumns: CsvColumn<Row<'forecast'>>[] = [
  { header: 'month', value: r => r.month },
  { header: 'depreciation', value: r => r.depreciation },
  { header: 'recurring', value: r => r.recurring },
  { header: 'from_changes', value: r => r.fromChanges },
  { header: 'cost', value: r => r.cost },
  // The contributing changes as number=amount, space-separated
  { header: 'changes', value: r => r.changes.map(c => `${c.number}=${c.amount}`).join(' ') }
]

const SPLIT_NOTE =
  "A service is a CI of class service or a subclass; it walks the CMDB relationships downstream (source to target) up to depth hops, and every CI it reaches counts once for it however many paths lead there (cycles end). A CI reached by several services splits its cost over them: evenly (split=even), by each service CI's numeric attribute (split=usage&usageAttribute=...), or by the explicit service cost weights (split=weights); when none of the reaching services has a weight above 0 it splits evenly."

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
        description: `${NOTE} ${SPLIT_NOTE}`,
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

  app.get(
    '/reports/finance/service-margin',
    {
      schema: {
        operationId: 'serviceMargin',
        tags,
        summary: "Per service CI: its cost, its price's revenue and the margin (finance, admin)",
        description: `${NOTE} cost as cost-per-service (the same split parameters). revenue: the service price per month (flat; per_user or per_unit times the service CI's quantity attribute) over the range's months, converted at each month's rate. margin = revenue - cost; marginPercent = margin / revenue * 100 (null without revenue).`,
        querystring: ServiceCostQuery,
        response: { ...reportResponse(ServiceMarginReport), ...errorResponses(400, 403) }
      }
    },
    async (request, reply) => {
      const report = await app.services.financeReports.serviceMargin(request.ctx(), request.query)
      return replyTable(
        request,
        reply,
        { columns: marginColumns, rows: report.items, filename: 'service-margin' },
        report
      )
    }
  )

  app.get(
    '/reports/finance/chargeback',
    {
      schema: {
        operationId: 'chargeback',
        tags,
        summary:
          'What each consuming organisation is charged for the service CIs it consumes (finance, admin; customers when enabled)',
        description: `${NOTE} Chargeback recovers cost: each service CI's full cost (cost-per-service, the same split parameters) is charged to the organisations consuming it (/service-consumers), evenly (by=subscription, default) or in proportion to their units (by=usage). items: one line per organisation and service; organisations: each organisation's total with its cost centre (its own, else the cost centre that is the organisation unit); unallocated: the cost of service CIs nobody consumes. basis=price charges the service's price instead (/service-prices, each month at the prices in force in it, prorated by days): flat once per consumer, per user and per unit times the consumer's units; each line and organisation then also carries cost (its share of the cost, by the by rule) and difference (charge - cost), in CSV too. unallocated stays the cost of what nobody consumes. Customers see only their organisation's lines (at price without cost and difference), and only while the finance settings enable customerChargeback. CSV: the lines.`,
        querystring: ChargebackQuery,
        response: { ...reportResponse(ChargebackReport), ...errorResponses(400, 403) }
      }
    },
    async (request, reply) => {
      const report = await app.services.financeReports.chargeback(request.ctx(), request.query)
      return replyTable(
        request,
        reply,
        {
          columns: report.items.some(l => 'cost' in l) ? chargebackPriceColumns : chargebackColumns,
          rows: report.items,
          filename: 'chargeback'
        },
        report
      )
    }
  )

  app.get(
    '/reports/finance/forecast',
    {
      schema: {
        operationId: 'costForecast',
        tags,
        summary: 'The CI costs of the months ahead: depreciation schedules and recurring costs (finance, admin)',
        description: `${NOTE} From the month after this one (or from=YYYY-MM) for months months (default 12): each month's depreciation (capital costs) and recurring costs as they stand, at the latest rate in force on each month's first day.`,
        querystring: ForecastQuery,
        response: { ...reportResponse(ForecastReport), ...errorResponses(400, 403) }
      }
    },
    async (request, reply) => {
      const report = await app.services.financeReports.forecast(request.ctx(), request.query)
      return replyTable(request, reply, { columns: forecastColumns, rows: report.items, filename: 'forecast' }, report)
    }
  )
}
