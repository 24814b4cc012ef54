/** Bench settings from the environment; everything else is fixed so runs compare. */
function seconds(value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1 || n > 600)
    throw new Error(`BENCH_DURATION must be 1 to 600 seconds, not "${value}"`)
  return n
}

export const settings = {
  /** Comma list of scenario keys (e.g. "eventsBatch,eventsSingle", "ceiling:pk,get"): run only those. */
  only: (process.env.BENCH_ONLY ?? '')
    .split(',')
    .map(s => s.trim())
    .filter(Boolean),
  databaseUrl: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/servicedesk_bench',
  /** Seconds of measured load per scenario. */
  duration: seconds(process.env.BENCH_DURATION, 10),
  /** Seconds of unmeasured load before each scenario (JIT, pools, caches). */
  warmup: 2,
  connections: 50,
  incidents: 100_000,
  appPort: 3950,
  ceilingPort: 3951,
  admin: { username: 'admin', password: 'bench-admin-password-1' },
  /** Title prefix of every row the write scenarios add; removed before and after a run. */
  writeMarker: 'bench-write',
  /** The CMDB scenario in `npm run bench`: import this many CIs; impact on a graph of so many, sampled. */
  cmdb: { items: 10_000, graph: 20_000, samples: 100 },
  /** The report scenario: every report this many times over a desk of so many tickets (bench/reports.ts). */
  reports: { tickets: 1_000_000, runs: 30 },
  /** CPU for the servers and CPU for the load generator, when taskset exists. */
  serverCpu: '0',
  loadCpu: '1'
}
