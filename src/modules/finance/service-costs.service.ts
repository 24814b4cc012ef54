import { authorize } from '../../auth/policy.js'
import type { Ctx, Deps } from '../../lib/context.js'
import { fieldError } from '../../lib/errors.js'
import { money } from './money.js'
import { serviceCostsOf } from './service-costs.repository.js'
import { PERIOD_PATTERN, type ServiceCostInput } from './service-costs.schemas.js'

export interface ServiceCostLine {
  serviceId: string
  name: string
  class: string
  costCentreId: string | null
  ownCost: string
  sharedCost: string
  totalCost: string
  ciCount: number
}

/** Adds two exact decimals (strings with up to 4 decimals) without floats. */
function add(a: string, b: string): string {
  const scaled = (v: string) => {
    const negative = v.startsWith('-')
    const [whole = '0', frac = ''] = v.replace(/^-/, '').split('.')
    const n = BigInt(whole) * 10_000n + BigInt(frac.padEnd(4, '0').slice(0, 4))
    return negative ? -n : n
  }
  const sum = scaled(a) + scaled(b)
  const abs = sum < 0n ? -sum : sum
  return `${sum < 0n ? '-' : ''}${abs / 10_000n}.${(abs % 10_000n).toString().padStart(4, '0')}`
}

/**
 * The cost model on read: what each service costs in a month, its own CI costs plus an even share of
 * every CI beneath it in the CMDB, converted into the reporting currency (finance, admin).
 */
export function createServiceCostService({ db, config }: Deps) {
  return {
    async report(ctx: Ctx, input: ServiceCostInput) {
      authorize(ctx.actor, 'finance.read')
      if (!new RegExp(PERIOD_PATTERN).test(input.period)) throw fieldError('period', 'a month, YYYY-MM')
      const rows = await serviceCostsOf(db, `${input.period}-01`, config.REPORTING_CURRENCY)
      const items: ServiceCostLine[] = rows.map(r => ({
        serviceId: r.service_id,
        name: r.name,
        class: r.class,
        costCentreId: r.cost_centre_id,
        ownCost: money(r.own_cost),
        sharedCost: money(r.shared_cost),
        totalCost: money(add(r.own_cost ?? '0', r.shared_cost ?? '0')),
        ciCount: Number(r.ci_count)
      }))
      const missing = rows[0]?.missing ?? '{}'
      const missingRates = missing.replace(/[{}]/g, '').split(',').filter(Boolean)
      return { period: input.period, currency: config.REPORTING_CURRENCY, items, missingRates }
    }
  }
}

export type ServiceCostService = ReturnType<typeof createServiceCostService>
