import { authorize } from '../../auth/policy.js'
import type { Ctx, Deps } from '../../lib/context.js'
import { badRequest, type FieldError } from '../../lib/errors.js'
import { readReport } from '../../lib/freshness.js'
import { money } from './money.js'
import { budgetActuals, classCosts, costCentreCosts, type MonthRange, serviceCosts } from './reports.repository.js'
import type { ReportRangeInput, ServiceCostInput } from './reports.schemas.js'

const MAX_MONTHS = 120

/** The range's months as first days, checked: from not after to, at most ten years (400 naming the field). */
export function monthRange(input: { from: string; to: string }): MonthRange {
  const errors: FieldError[] = []
  const count =
    (Number(input.to.slice(0, 4)) - Number(input.from.slice(0, 4))) * 12 +
    Number(input.to.slice(5, 7)) -
    Number(input.from.slice(5, 7)) +
    1
  if (count < 1) errors.push({ field: 'to', message: 'the last month is before the first' })
  else if (count > MAX_MONTHS) errors.push({ field: 'to', message: `a report covers at most ${MAX_MONTHS} months` })
  if (errors.length) throw badRequest('invalid report range', errors)
  return { from: `${input.from}-01`, to: `${input.to}-01` }
}

/**
 * The finance reports, computed on read from CI costs, the CMDB relationships and the exchange rates,
 * every amount in the reporting currency. Finance and admins only. They read through the read replica
 * when there is one, and each answer says how fresh it is (asOf, replicaLagSeconds).
 */
export function createReportService(deps: Deps) {
  const { config } = deps
  const base = config.REPORTING_CURRENCY
  const head = (input: { from: string; to: string }) => ({ from: input.from, to: input.to, currency: base })

  return {
    /** Each service CI's own costs plus its share of everything beneath it. */
    async costPerService(ctx: Ctx, input: ServiceCostInput) {
      authorize(ctx.actor, 'finance.read')
      const range = monthRange(input)
      const split = input.split ?? 'even'
      if (split === 'usage' && !input.usageAttribute) {
        throw badRequest('split=usage needs the attribute', [
          { field: 'usageAttribute', message: 'name the numeric attribute to split by' }
        ])
      }
      return readReport(deps, ctx, async db => {
        const rows = await serviceCosts(db, range, base, {
          split,
          ...(input.usageAttribute ? { usageAttribute: input.usageAttribute } : {}),
          serviceClass: 'service',
          depth: input.depth ?? 10
        })
        return {
          ...head(input),
          items: rows.map(r => ({
            ...r,
            ownCost: money(r.ownCost),
            sharedCost: money(r.sharedCost),
            cost: money(r.cost)
          }))
        }
      })
    },

    /** Direct CI costs per CI class. */
    async costPerClass(ctx: Ctx, input: ReportRangeInput) {
      authorize(ctx.actor, 'finance.read')
      const range = monthRange(input)
      return readReport(deps, ctx, async db => {
        const rows = await classCosts(db, range, base)
        return { ...head(input), items: rows.map(r => ({ ...r, cost: money(r.cost) })) }
      })
    },

    /** Budgets starting in the range against the rolled-up actual of their period. */
    async budgetAgainstActual(ctx: Ctx, input: ReportRangeInput) {
      authorize(ctx.actor, 'finance.read')
      const range = monthRange(input)
      return readReport(deps, ctx, async db => {
        const rows = await budgetActuals(db, range, base)
        return {
          ...head(input),
          items: rows.map(r => ({
            ...r,
            budget: money(r.budget),
            actual: money(r.actual),
            variance: money(r.variance)
          }))
        }
      })
    },

    /** Direct CI costs per cost centre, each rolled up the cost-centre tree. */
    async costPerCostCentre(ctx: Ctx, input: ReportRangeInput) {
      authorize(ctx.actor, 'finance.read')
      const range = monthRange(input)
      return readReport(deps, ctx, async db => {
        const rows = await costCentreCosts(db, range, base)
        return { ...head(input), items: rows.map(r => ({ ...r, ownCost: money(r.ownCost), cost: money(r.cost) })) }
      })
    }
  }
}

export type ReportService = ReturnType<typeof createReportService>
