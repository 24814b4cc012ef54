/**
 * CMDB bench on PostgreSQL: the discovery import of N CIs (created, unchanged, 10 % changed) beside a
 * bare ceiling measured in the same run (one INSERT … SELECT FROM unnest(…) ON CONFLICT DO UPDATE of
 * the same rows through pg), and impact analysis to depth 5 on a graph of G CIs (p50/p99), each on a
 * fresh database of its own. `npm run bench` runs it after the HTTP scenarios with modest sizes;
 * `npx tsx bench/cmdb.ts [--items 10000] [--graph 100000] [--samples 200] [--skip-impact] [--skip-import]`
 * runs it alone (TEST_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test).
 * Aims (issue 12): 10,000 created under 1.5 s, unchanged under 1 s, impact depth 5 p99 under 50 ms.
 */
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import pg from 'pg'
import pino from 'pino'
import { systemActor } from '../src/auth/actor.js'
import { loadConfig } from '../src/config.js'
import { discoverySources } from '../src/db/schema/index.js'
import { uuidv7 } from '../src/lib/ids.js'
import { createCiGraphService } from '../src/modules/cmdb/impact.service.js'
import { createImportService } from '../src/modules/cmdb/import.service.js'
import { openScratchDatabase } from './seed.js'

/** The aims, scaled to the item count for the import ones (they are stated for 10,000). */
export const CMDB_AIMS = { createdMsPer10k: 1500, unchangedMsPer10k: 1000, impactP99Ms: 50 }

export interface CmdbOptions {
  items?: number
  graph?: number
  samples?: number
  impact?: boolean
  import?: boolean
}

export interface CmdbResult {
  items: number
  graph: number
  samples: number
  /** Milliseconds per step */
  import?: { created: number; unchanged: number; changed: number; ceilingFirst: number; ceilingAgain: number }
  /** Reads at the default limit (1,000 CIs), and `upstream-all` at the most one read may ask (10,000) */
  impact?: Record<'upstream' | 'both' | 'upstream-all', { p50: number; p99: number; nodes: number }>
}

export async function measureCmdb(serverUrl: string, opts: CmdbOptions = {}): Promise<CmdbResult> {
  const N = opts.items ?? 10_000
  const GRAPH = opts.graph ?? 100_000
  const SAMPLES = opts.samples ?? 200
  const result: CmdbResult = { items: N, graph: GRAPH, samples: SAMPLES }
  const scratch = await openScratchDatabase(serverUrl, 'sd_bench_cmdb')
  const { database, url } = scratch
  const c = new pg.Client({ connectionString: url })
  try {
    await scratch.migrate()
    await c.connect()
    const log = pino({ level: 'silent' })
    const deps = { db: database.db, config: loadConfig({}), log }
    const ctx = { actor: systemActor('bench'), log, db: database.db }
    const imports = createImportService(deps)
    const graph = createCiGraphService(deps)
    await database.db.insert(discoverySources).values({ id: uuidv7(), name: 'bench' })

    const hex = (i: number, w: number) => i.toString(16).padStart(w, '0')
    const item = (i: number, mem = 4096) => ({
      key: `host-${i}`,
      class: 'server',
      name: `srv-${i}`,
      identifiers: {
        serial: `SER${hex(i, 8)}`,
        systemUuid: `4c4c4544-${hex(i, 4).slice(-4)}-${hex(i >> 16, 4)}-8000-${hex(i, 12)}`,
        macAddresses: [`52:54:${hex(i, 8).match(/../g)!.join(':')}`],
        fqdn: `srv-${i}.bench.example`
      },
      attributes: { os_name: 'Ubuntu', os_version: '24.04', memory_mb: mem, cpu_cores: 8 }
    })
    const time = async (fn: () => Promise<unknown>) => {
      const t0 = performance.now()
      await fn()
      return performance.now() - t0
    }
    if (opts.import !== false) {
      const items = Array.from({ length: N }, (_, i) => item(i))
      const created = await time(() => imports.importCis(ctx, { source: 'bench', items }))
      const unchanged = await time(() => imports.importCis(ctx, { source: 'bench', items }))
      const changedItems = items.map((it, i) => (i % 10 === 0 ? item(i, 8192) : it))
      const changed = await time(() => imports.importCis(ctx, { source: 'bench', items: changedItems }))

      // The bare ceiling: the same rows in one upsert through pg
      await c.query('create table bench_ceiling (key text primary key, name text, serial text, attrs jsonb)')
      const cols = [
        items.map(i => i.key),
        items.map(i => i.name),
        items.map(i => i.identifiers.serial),
        items.map(i => JSON.stringify(i.attributes))
      ]
      const upsert = `insert into bench_ceiling select * from unnest($1::text[], $2::text[], $3::text[], $4::jsonb[])
        on conflict (key) do update set name = excluded.name, serial = excluded.serial, attrs = excluded.attrs`
      const ceilingFirst = await time(() => c.query(upsert, cols))
      const ceilingAgain = await time(() => c.query(upsert, cols))
      result.import = { created, unchanged, changed, ceilingFirst, ceilingAgain }
    }

    if (opts.impact !== false) {
      // A tree (each CI runs on one of ten times fewer) plus one cross dependency each
      await c.query(`insert into configuration_items (id, name, class)
        select (lpad(to_hex(g), 8, '0') || '-0000-7000-8000-000000000000')::uuid, 'g-' || g, 'generic'
        from generate_series(1, ${GRAPH}) g`)
      await c.query(`insert into ci_relationships (id, source_id, target_id, type)
        select gen_random_uuid(), (lpad(to_hex(g), 8, '0') || '-0000-7000-8000-000000000000')::uuid,
          (lpad(to_hex(g / 10), 8, '0') || '-0000-7000-8000-000000000000')::uuid, 'runs_on'
        from generate_series(10, ${GRAPH}) g`)
      await c.query(`insert into ci_relationships (id, source_id, target_id, type)
        select gen_random_uuid(), (lpad(to_hex(g), 8, '0') || '-0000-7000-8000-000000000000')::uuid,
          (lpad(to_hex(1 + (g * 7919) % ${GRAPH}), 8, '0') || '-0000-7000-8000-000000000000')::uuid, 'depends_on'
        from generate_series(1, ${GRAPH}) g where 1 + (g * 7919) % ${GRAPH} <> g
        on conflict do nothing`)
      await c.query('analyze')
      const id = (g: number) => `${hex(g, 8)}-0000-7000-8000-000000000000`
      const impact = {} as NonNullable<CmdbResult['impact']>
      const reads = [
        ['upstream', 'upstream', undefined],
        ['both', 'both', undefined],
        ['upstream-all', 'upstream', 10_000]
      ] as const
      for (const [key, direction, limit] of reads) {
        const samples: number[] = []
        let nodes = 0
        for (let k = 0; k < SAMPLES; k++) {
          const root = id(1 + ((k * 104729) % Math.min(1000, GRAPH)))
          const input = { direction, depth: 5, ...(limit ? { limit } : {}) }
          samples.push(await time(async () => (nodes += (await graph.impact(ctx, root, input)).nodes.length)))
        }
        samples.sort((a, b) => a - b)
        const p = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]!
        impact[key] = { p50: p(0.5), p99: p(0.99), nodes: Math.round(nodes / SAMPLES) }
      }
      result.impact = impact
    }
    return result
  } finally {
    await c.end().catch(() => {})
    await scratch.drop()
  }
}

/** The figures with their aims; false when one misses its aim. */
export function printCmdb(r: CmdbResult): boolean {
  let ok = true
  const verdict = (ms: number, aim: number) => {
    if (ms >= aim) ok = false
    return ms < aim ? 'ok' : 'BELOW AIM'
  }
  const ms = (v: number) => `${v.toFixed(0)} ms`.padStart(9)
  console.log(
    `\nCMDB on PostgreSQL (${r.items.toLocaleString('en')} items, graph of ${r.graph.toLocaleString('en')} CIs)`
  )
  if (r.import) {
    const scale = r.items / 10_000
    const i = r.import
    const aimC = CMDB_AIMS.createdMsPer10k * scale
    const aimU = CMDB_AIMS.unchangedMsPer10k * scale
    console.log(`  import (created)        ${ms(i.created)}  ${verdict(i.created, aimC)} (aim < ${aimC.toFixed(0)} ms)`)
    console.log(
      `  import (unchanged)      ${ms(i.unchanged)}  ${verdict(i.unchanged, aimU)} (aim < ${aimU.toFixed(0)} ms), ${(i.ceilingAgain / i.unchanged).toFixed(2)} of the bare ceiling`
    )
    console.log(`  import (10 % changed)   ${ms(i.changed)}`)
    console.log(`  bare upsert ceiling     ${ms(i.ceilingFirst)} first, ${ms(i.ceilingAgain).trim()} again`)
  }
  if (r.impact) {
    for (const [dir, v] of Object.entries(r.impact)) {
      const judged = dir !== 'upstream-all'
      const tail = judged
        ? `${verdict(v.p99, CMDB_AIMS.impactP99Ms)} (aim p99 < ${CMDB_AIMS.impactP99Ms} ms, ${r.samples} reads, default limit)`
        : `(limit 10,000, not judged)`
      console.log(
        `  impact depth 5 ${dir.padEnd(12)} p50 ${v.p50.toFixed(1)} ms  p99 ${v.p99.toFixed(1)} ms  ${v.nodes} CIs a read  ${tail}`
      )
    }
  }
  return ok
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({
    options: {
      items: { type: 'string' },
      graph: { type: 'string' },
      samples: { type: 'string' },
      'skip-impact': { type: 'boolean' },
      'skip-import': { type: 'boolean' }
    }
  })
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v))
  const opts: CmdbOptions = {
    impact: !values['skip-impact'] && process.env.CMDB_BENCH !== 'import',
    import: !values['skip-import'] && process.env.CMDB_BENCH !== 'impact'
  }
  const items = num(values.items)
  const graph = num(values.graph)
  const samples = num(values.samples ?? process.env.CMDB_BENCH_SAMPLES)
  if (items !== undefined) opts.items = items
  if (graph !== undefined) opts.graph = graph
  if (samples !== undefined) opts.samples = samples
  measureCmdb(process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test', opts).then(
    r => process.exit(printCmdb(r) ? 0 : 1),
    err => {
      console.error(err)
      process.exit(1)
    }
  )
}
