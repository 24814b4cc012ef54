/**
 * Finance bench on PostgreSQL (`npx tsx bench/finance.ts`, TEST_DATABASE_URL or
 * postgres://postgres@127.0.0.1:5432/test): the cost-per-service report over a 100,000-CI CMDB with
 * 500 service CIs (aim: p99 under 500 ms), beside the margin and chargeback reports over the same
 * graph. The CMDB is a layered graph that converges: 500 services → 5,000 applications → 20,000
 * servers → 74,500 infrastructure CIs, each CI depending on two of the layer below (so paths meet),
 * every CI with a recurring cost, every tenth with a capital one, a tenth of them in USD. `npm run bench`
 * runs it after the reports (BENCH_ONLY=finance for it alone). FINANCE_BENCH_SAMPLES (30) is the reads per report; FINANCE_BENCH_MONTHS
 * (3) the months each report covers. FINANCE_BENCH_KEEP=1 keeps the seeded database (its name is printed)
 * for EXPLAIN (ANALYZE, BUFFERS).
 */
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import pino from 'pino'
import { systemActor } from '../src/auth/actor.js'
import { loadConfig } from '../src/config.js'
import { createCostService } from '../src/modules/finance/costs.service.js'
import { createReportService } from '../src/modules/finance/reports.service.js'
import { openScratchDatabase } from './seed.js'

export const FINANCE_AIM_P99_MS = 500
const LAYERS = [500, 5_000, 20_000, 74_500]
const SAMPLES = Number(process.env.FINANCE_BENCH_SAMPLES ?? 30)
const MONTHS = Number(process.env.FINANCE_BENCH_MONTHS ?? 3)

export interface FinanceResult {
  /** Label → printed value, in the order measured. */
  rows: Record<string, string>
  /** The worst p99 of the cost-per-service reads (the issue's aim), in ms. */
  costPerServiceP99: number
}

/** Seeds the CMDB into a database of its own on `serverUrl`'s server, samples the reports, drops it. */
export async function measureFinance(serverUrl: string): Promise<FinanceResult> {
  let costPerServiceP99 = 0
  const scratch = await openScratchDatabase(serverUrl, 'sd_bench_finance')
  const { database, url } = scratch
  const out: Record<string, string> = {}
  try {
    await scratch.migrate()
    const log = pino({ level: 'silent' })
    const config = loadConfig({})
    const deps = { db: database.db, config, log }
    const ctx = { actor: systemActor('bench'), log, db: database.db }
    const reports = createReportService({ ...deps, finance: createCostService(deps) })

    const c = new pg.Client({ connectionString: url })
    await c.connect()
    const seeded = performance.now()
    // CI g (1-based) in layer L; ids are g in hex; layer starts: 1, 501, 5501, 25501
    const starts = LAYERS.map((_, i) => 1 + LAYERS.slice(0, i).reduce((a, b) => a + b, 0))
    const total = LAYERS.reduce((a, b) => a + b, 0)
    const id = (g: string) => `(lpad(to_hex(${g}), 8, '0') || '-0000-7000-8000-000000000000')::uuid`
    await c.query(`insert into configuration_items (id, name, class, attributes)
    select ${id('g')}, 'f-' || g, case when g < ${starts[1]} then 'business_service' else 'generic' end,
      case when g < ${starts[1]} then jsonb_build_object('users', 1 + g % 50) else '{}'::jsonb end
    from generate_series(1, ${total}) g`)
    for (let l = 0; l < LAYERS.length - 1; l++) {
      const [from, size, below, belowSize] = [starts[l]!, LAYERS[l]!, starts[l + 1]!, LAYERS[l + 1]!]
      for (const [k, type] of [
        [7919, 'depends_on'],
        [104729, 'runs_on']
      ] as const) {
        await c.query(`insert into ci_relationships (id, source_id, target_id, type)
        select gen_random_uuid(), ${id('g')}, ${id(`${below} + ((g - ${from}) * ${k} + ${k % 13}) % ${belowSize}`)}, '${type}'
        from generate_series(${from}, ${from + size - 1}) g on conflict do nothing`)
      }
    }
    await c.query(`insert into exchange_rates (id, currency, valid_from, rate) values
    (gen_random_uuid(), 'USD', '2025-01-01', 0.9), (gen_random_uuid(), 'USD', '2026-02-10', 0.8)`)
    await c.query(`insert into ci_costs (id, ci_id, kind, category, currency, amount, period, start_date)
    select gen_random_uuid(), ${id('g')}, 'recurring', 'hosting', case when g % 10 = 0 then 'USD' else 'EUR' end,
      10 + g % 90, 'month', '2025-01-01' from generate_series(1, ${total}) g`)
    await c.query(`insert into ci_costs (id, ci_id, kind, category, currency, amount, start_date, depreciation_months, residual_value)
    select gen_random_uuid(), ${id('g')}, 'capital', 'hardware', 'EUR', 3600, '2025-06-15', 36, 0
    from generate_series(1, ${total}, 10) g`)
    // Chargeback: each service consumed by one to three of 200 organisations; weights on every service's direct CIs
    await c.query(`insert into organisations (id, name) select ${id('g')}, 'org-' || g from generate_series(1, 200) g`)
    await c.query(`insert into service_consumers (id, service_id, organisation_id, units)
    select gen_random_uuid(), ${id('s')}, ${id('1 + (s * k) % 200')}, k from generate_series(1, ${LAYERS[0]}) s,
      generate_series(1, 3) k where k <= 1 + s % 3 on conflict do nothing`)
    await c.query(`insert into service_cost_weights (id, service_id, ci_id, weight)
    select gen_random_uuid(), r.source_id, r.target_id, 1 + abs(hashtext(r.id::text)) % 9 from ci_relationships r
    join configuration_items s on s.id = r.source_id where s.class = 'business_service' on conflict do nothing`)
    await c.query(`insert into service_prices (id, service_id, basis, amount, currency, quantity_attribute)
    select gen_random_uuid(), ${id('s')}, 'per_user', 25, 'EUR', 'users' from generate_series(1, ${LAYERS[0]}) s`)
    await c.query('analyze')
    await c.end()
    out['seed 100,000 CIs, 500 services'] = `${((performance.now() - seeded) / 1000).toFixed(1)} s`

    const to = `2026-${String(MONTHS).padStart(2, '0')}`
    const input = { from: '2026-01', to }
    const sample = async (label: string, fn: () => Promise<unknown>) => {
      await fn() // warm
      const samples: number[] = []
      for (let k = 0; k < SAMPLES; k++) {
        const t0 = performance.now()
        await fn()
        samples.push(performance.now() - t0)
      }
      samples.sort((a, b) => a - b)
      const p = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]!
      out[`${label} (p50 / p99)`] = `${p(0.5).toFixed(0)} / ${p(0.99).toFixed(0)} ms`
      if (label.startsWith('cost-per-service')) costPerServiceP99 = Math.max(costPerServiceP99, p(0.99))
    }
    const first = await reports.costPerService(ctx, input)
    out['services answered / CIs under the first'] = `${first.items.length} / ${first.items[0]?.ciCount}`
    await sample(`cost-per-service even, ${MONTHS} months`, () => reports.costPerService(ctx, input))
    await sample(`cost-per-service usage, ${MONTHS} months`, () =>
      reports.costPerService(ctx, { ...input, split: 'usage', usageAttribute: 'users' })
    )
    await sample(`cost-per-service weights, ${MONTHS} months`, () =>
      reports.costPerService(ctx, { ...input, split: 'weights' })
    )
    await sample(`service-margin, ${MONTHS} months`, () => reports.serviceMargin(ctx, input))
    await sample(`chargeback by usage, ${MONTHS} months`, () => reports.chargeback(ctx, { ...input, by: 'usage' }))
  } finally {
    const keep = process.env.FINANCE_BENCH_KEEP === '1'
    if (keep) out['kept database'] = scratch.name
    await scratch.drop(keep)
  }
  return { rows: out, costPerServiceP99 }
}

/** Prints the rows and the aim; false when the aim is missed. */
export function printFinance(result: FinanceResult): boolean {
  process.stdout.write('\nfinance reports, 100,000 CIs and 500 services (PostgreSQL)\n')
  for (const [k, v] of Object.entries(result.rows)) process.stdout.write(`  ${k.padEnd(48)} ${v}\n`)
  const ok = result.costPerServiceP99 < FINANCE_AIM_P99_MS
  process.stdout.write(
    `  cost-per-service p99 ${result.costPerServiceP99.toFixed(0)} ms, aim under ${FINANCE_AIM_P99_MS} ms: ${ok ? 'met' : 'MISSED'}\n`
  )
  return ok
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await measureFinance(process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test')
  process.exit(printFinance(result) ? 0 : 1)
}
