import { writeFileSync } from 'node:fs'
import type { Measured } from './load.js'
import { type AppKey, CEILING_NAMES, type CeilingKey, EVENT_AIMS, ROWS } from './scenarios.js'

export interface ResultRow {
  scenario: string
  rps: number
  p50: number
  p99: number
  /** Null where no bare-server ceiling compares (search, bulk). */
  ceiling: number | null
  ratio: number | null
  /** Failed requests of the scenario and of its ceiling run; anything above 0 makes the row suspect. */
  errors: number
}

const round = (n: number, digits = 0) => Number(n.toFixed(digits))

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map(r => r[i]!.length)))
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')
  return [line(header), widths.map(w => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}

/** Prints the comparison and the ceilings, writes results.json; answers whether every run was clean. */
export function report(
  app: Record<AppKey, Measured>,
  ceilings: Record<CeilingKey, Measured>,
  file: URL
): { rows: ResultRow[]; clean: boolean } {
  const ran = ROWS.filter(r => (r.app ? app[r.app] : true) && (r.ceiling ? ceilings[r.ceiling] : true))
  const rows: ResultRow[] = ran.map(r => {
    const ceiling = r.ceiling ? ceilings[r.ceiling] : null
    const own = r.app ? app[r.app] : ceiling!
    return {
      scenario: r.scenario,
      rps: round(own.rps),
      p50: round(own.p50, 2),
      p99: round(own.p99, 2),
      ceiling: ceiling ? round(ceiling.rps) : null,
      ratio: ceiling ? round(ceiling.rps > 0 ? own.rps / ceiling.rps : 0, 2) : null,
      errors: own.failures + (r.app && ceiling ? ceiling.failures : 0)
    }
  })

  const printed = rows.map((row, i) => {
    const aim = ran[i]!.aim
    const verdict = aim === null || row.ratio === null ? '' : `${row.ratio >= aim ? 'ok' : 'BELOW'} (aim >= ${aim})`
    return [
      row.scenario,
      String(row.rps),
      String(row.p50),
      String(row.p99),
      row.ceiling === null ? '-' : String(row.ceiling),
      row.ratio === null ? '-' : row.ratio.toFixed(2),
      verdict,
      row.errors ? `ERRORS: ${row.errors}` : '-'
    ]
  })
  console.log(
    `\n${table(['scenario', 'req/s', 'p50 ms', 'p99 ms', 'ceiling req/s', 'ratio', 'aim', 'errors'], printed)}`
  )

  for (const [key, { perRequest, aim }] of Object.entries(EVENT_AIMS) as [
    AppKey,
    { perRequest: number; aim: number }
  ][]) {
    if (!app[key]) continue
    const perSecond = round(app[key].rps * perRequest)
    const name = perRequest === 1 ? 'single events' : `batches of ${perRequest}`
    console.log(`event ingest, ${name}: ${perSecond} events/s  ${perSecond >= aim ? 'ok' : 'BELOW'} (aim >= ${aim})`)
  }

  const ceilingRows = (Object.keys(CEILING_NAMES) as CeilingKey[])
    .filter(k => ceilings[k])
    .map(k => {
      const m = ceilings[k]
      return [
        CEILING_NAMES[k],
        String(round(m.rps)),
        String(round(m.p50, 2)),
        String(round(m.p99, 2)),
        m.failures ? 'ERRORS' : '-'
      ]
    })
  console.log(
    `\nceilings (bare Fastify + pg Pool of 10)\n${table(['ceiling', 'req/s', 'p50 ms', 'p99 ms', 'errors'], ceilingRows)}`
  )

  const failed = [
    ...(Object.keys(app) as AppKey[]).filter(k => app[k].failures).map(k => `app ${k}: ${app[k].detail}`),
    ...(Object.keys(ceilings) as CeilingKey[])
      .filter(k => ceilings[k].failures)
      .map(k => `ceiling ${CEILING_NAMES[k]}: ${ceilings[k].detail}`)
  ]
  for (const f of failed) console.log(`FAILED REQUESTS in ${f}`)

  writeFileSync(file, `${JSON.stringify(rows, null, 2)}\n`)
  return { rows, clean: failed.length === 0 }
}
