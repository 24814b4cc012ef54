import { sql } from 'drizzle-orm'
import { authorize, can, organisationPin } from '../../auth/policy.js'
import type { Db } from '../../db/client.js'
import type { Ctx, Deps, Queryable } from '../../lib/context.js'
import { badRequest, type FieldError, forbidden } from '../../lib/errors.js'
import { freshnessOf, readHandle } from '../../lib/freshness.js'
import { formatNumber } from '../kinds/kinds.js'
import type { CostService } from './costs.service.js'
import { money } from './money.js'
import {
  type AllocationOptions,
  budgetActuals,
  chargeback,
  classCosts,
  costCentreCosts,
  forecast,
  type MonthRange,
  serviceCosts,
  serviceMargins
} from './reports.repository.js'
import type { ChargebackInput, ForecastInput, ReportRangeInput, ServiceCostInput } from './reports.schemas.js'

/** Exact sums of decimal strings (4 decimals at most), as scaled integers. */
function addMoney(values: string[]): string {
  let total = 0n
  for (const v of values) {
    const negative = v.startsWith('-')
    const [whole = '0', frac = ''] = (negative ? v.slice(1) : v).split('.')
    const n = BigInt(whole) * 10_000n + BigInt(frac.padEnd(4, '0').slice(0, 4))
    total += negative ? -n : n
  }
  const negative = total < 0n
  const abs = negative ? -total : total
  const text = `${abs / 10_000n}.${(abs % 10_000n).toString().padStart(4, '0')}`
  return money(negative && abs !== 0n ? `-${text}` : text)
}

const negate = (value: string) => (value.startsWith('-') ? value.slice(1) : `-${value}`)

const addMonths = (month: string, n: number) => {
  const total = Number(month.slice(0, 4)) * 12 + Number(month.slice(5, 7)) - 1 + n
  return `${Math.floor(total / 12)}-${String((total % 12) + 1).padStart(2, '0')}`
}

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
export function createReportService(deps: Deps & { finance: CostService }) {
  const { config, finance } = deps
  const base = config.REPORTING_CURRENCY
  const head = (input: { from: string; to: string }) => ({ from: input.from, to: input.to, currency: base })

  /**
   * Runs a report's query in a read transaction without JIT: the planner's estimates for these
   * recursive CTEs over generate_series are far above jit_above_cost, and compiling them costs
   * PostgreSQL seconds for a query that runs in milliseconds (measured: 6.7 s with JIT, 36 ms without).
   */
  /**
   * A report's queries in one read transaction on the read handle (the replica when DATABASE_READ_URL
   * is set, the caller's transaction when in one), JIT off: PostgreSQL's JIT took seconds to compile
   * these plans, which run in milliseconds.
   */
  const report = <T>(ctx: Ctx, query: (q: Queryable) => Promise<T>) =>
    (readHandle(deps, ctx) as Db).transaction(async tx => {
      await tx.execute(sql`set local jit = off`)
      return query(tx)
    })
  /** `report`, saying how fresh the figures are (asOf, replicaLagSeconds), read before them. */
  const fresh = <T extends object>(ctx: Ctx, query: (q: Queryable) => Promise<T>) =>
    report(ctx, async q => {
      const freshness = await freshnessOf(q)
      return { ...(await query(q)), ...freshness }
    })

  function allocation(input: ServiceCostInput): AllocationOptions {
    const split = input.split ?? 'even'
    if (split === 'usage' && !input.usageAttribute) {
      throw badRequest('split=usage needs the attribute', [
        { field: 'usageAttribute', message: 'name the numeric attribute to split by' }
      ])
    }
    return {
      split,
      ...(input.usageAttribute ? { usageAttribute: input.usageAttribute } : {}),
      serviceClass: 'service',
      depth: input.depth ?? 10
    }
  }

  return {
    /** Each service CI's own costs plus its share of everything beneath it. */
    async costPerService(ctx: Ctx, input: ServiceCostInput) {
      authorize(ctx.actor, 'finance.read')
      const range = monthRange(input)
      const opts = allocation(input)
      const { rows, ...freshness } = await fresh(ctx, async q => ({ rows: await serviceCosts(q, range, base, opts) }))
      return {
        ...head(input),
        ...freshness,
        items: rows.map(r => ({
          ...r,
          ownCost: money(r.ownCost),
          sharedCost: money(r.sharedCost),
          cost: money(r.cost)
        }))
      }
    },

    /** Direct CI costs per CI class. */
    async costPerClass(ctx: Ctx, input: ReportRangeInput) {
      authorize(ctx.actor, 'finance.read')
      const { rows, ...freshness } = await fresh(ctx, async q => ({
        rows: await classCosts(q, monthRange(input), base)
      }))
      return { ...head(input), ...freshness, items: rows.map(r => ({ ...r, cost: money(r.cost) })) }
    },

    /** Budgets starting in the range against the rolled-up actual of their period. */
    async budgetAgainstActual(ctx: Ctx, input: ReportRangeInput) {
      authorize(ctx.actor, 'finance.read')
      const { rows, ...freshness } = await fresh(ctx, async q => ({
        rows: await budgetActuals(q, monthRange(input), base)
      }))
      return {
        ...head(input),
        ...freshness,
        items: rows.map(r => ({ ...r, budget: money(r.budget), actual: money(r.actual), variance: money(r.variance) }))
      }
    },

    /** Direct CI costs per cost centre, each rolled up the cost-centre tree. */
    async costPerCostCentre(ctx: Ctx, input: ReportRangeInput) {
      authorize(ctx.actor, 'finance.read')
      const { rows, ...freshness } = await fresh(ctx, async q => ({
        rows: await costCentreCosts(q, monthRange(input), base)
      }))
      return {
        ...head(input),
        ...freshness,
        items: rows.map(r => ({ ...r, ownCost: money(r.ownCost), cost: money(r.cost) }))
      }
    },

    /** Each service CI's cost against its price's revenue over the range, and the margin. */
    async serviceMargin(ctx: Ctx, input: ServiceCostInput) {
      authorize(ctx.actor, 'finance.read')
      const range = monthRange(input)
      const opts = allocation(input)
      const { rows, ...freshness } = await fresh(ctx, async q => ({ rows: await serviceMargins(q, range, base, opts) }))
      return {
        ...head(input),
        ...freshness,
        items: rows.map(r => ({
          ...r,
          cost: money(r.cost),
          revenue: money(r.revenue),
          margin: money(r.margin),
          quantity: r.quantity === null ? null : money(r.quantity)
        }))
      }
    },

    /**
     * What each consuming organisation is charged: finance and admins see every organisation; a
     * customer (or a token pinned to an organisation) sees only its own, and only while the finance
     * settings enable customer chargeback.
     */
    async chargeback(ctx: Ctx, input: ChargebackInput) {
      const pin = organisationPin(ctx.actor)
      if (!can(ctx.actor, 'finance.read')) {
        const enabled = pin !== null && (await finance.currentSettings()).customerChargeback
        if (!enabled) {
          throw forbidden(
            pin
              ? 'chargeback is not open to customers (an admin may enable it)'
              : 'your roles do not allow finance.read',
            { action: 'finance.read' }
          )
        }
      }
      const range = monthRange(input)
      const by = input.by ?? 'subscription'
      const basis = input.basis ?? 'cost'
      const opts = { ...allocation(input), by, basis, ...(pin ? { organisationId: pin } : {}) }
      const { found, ...freshness } = await fresh(ctx, async q => ({ found: await chargeback(q, range, base, opts) }))
      // At price, finance sees each charge beside its cost; the provider's cost is not a customer's business
      const compare = basis === 'price' && !pin
      const items = found.lines.map(({ cost, ...l }) => {
        const charge = money(l.charge)
        return compare
          ? { ...l, charge, cost: money(cost), difference: addMoney([charge, negate(money(cost))]) }
          : { ...l, charge }
      })
      const totals = new Map<
        string,
        {
          organisationId: string
          organisation: string
          costCentreId: string | null
          services: number
          charges: string[]
          costs: string[]
        }
      >()
      for (const l of items) {
        const t = totals.get(l.organisationId) ?? {
          organisationId: l.organisationId,
          organisation: l.organisation,
          costCentreId: l.costCentreId,
          services: 0,
          charges: [],
          costs: []
        }
        t.services += 1
        t.charges.push(l.charge)
        if ('cost' in l) t.costs.push(l.cost)
        totals.set(l.organisationId, t)
      }
      return {
        ...head(input),
        ...freshness,
        by,
        basis,
        items,
        organisations: [...totals.values()].map(({ charges, costs, ...t }) => {
          const charge = addMoney(charges)
          if (!compare) return { ...t, charge }
          const cost = addMoney(costs)
          return { ...t, charge, cost, difference: addMoney([charge, negate(cost)]) }
        }),
        // What nobody consumes is the provider's own: not a customer's business
        unallocated: pin ? '0.00' : money(found.unallocated)
      }
    },

    /** The months ahead as the CI costs stand (depreciation schedules, recurring costs) and approved changes' deltas. */
    async forecast(ctx: Ctx, input: ForecastInput) {
      authorize(ctx.actor, 'finance.read')
      const now = new Date()
      const thisMonth = `${now.getUTCFullYear()}-${String(now.getUTCMonth() + 1).padStart(2, '0')}`
      const from = input.from ?? addMonths(thisMonth, 1)
      const to = addMonths(from, (input.months ?? 12) - 1)
      const { rows, ...freshness } = await fresh(ctx, async q => ({
        rows: await forecast(q, monthRange({ from, to }), base)
      }))
      const items = rows.map(r => ({
        month: r.month,
        depreciation: money(r.depreciation),
        recurring: money(r.recurring),
        fromChanges: money(r.fromChanges),
        cost: money(r.cost),
        changes: r.changes.map(c => ({
          changeId: c.changeId,
          number: formatNumber('change', Number(c.number)),
          amount: money(c.amount)
        }))
      }))
      return { ...head({ from, to }), ...freshness, items, total: addMoney(items.map(i => i.cost)) }
    }
  }
}

export type ReportService = ReturnType<typeof createReportService>
