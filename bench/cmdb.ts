/**
 * CMDB bench on PostgreSQL (`npx tsx bench/cmdb.ts`, TEST_DATABASE_URL or postgres://postgres@127.0.0.1:5432/test):
 * the discovery import of 10,000 CIs (created, unchanged, 10 % changed) beside a bare ceiling measured in
 * the same run (one INSERT … SELECT FROM unnest(…) ON CONFLICT DO UPDATE of the same rows through pg),
 * and impact analysis to depth 5 on a 100,000-CI graph (p50/p99). Not yet wired into bench/run.ts.
 * CMDB_BENCH=impact runs the impact part only; CMDB_BENCH_SAMPLES (200) is the impact reads per direction.
 */
import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import pg from 'pg'
import pino from 'pino'
import { systemActor } from '../src/auth/actor.js'
import { loadConfig } from '../src/config.js'
import { openDatabase } from '../src/db/client.js'
import { runMigrations } from '../src/db/migrate.js'
import { discoverySources } from '../src/db/schema/index.js'
import { uuidv7 } from '../src/lib/ids.js'
import { createCiGraphService } from '../src/modules/cmdb/impact.service.js'
import { createImportService } from '../src/modules/cmdb/import.service.js'

const serverUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const N = 10_000
const GRAPH = 100_000
const onlyImpact = process.env.CMDB_BENCH === 'impact'
const SAMPLES = Number(process.env.CMDB_BENCH_SAMPLES ?? 200)

const name = `sd_bench_cmdb_${randomBytes(4).toString('hex')}`
const admin = new pg.Client({ connectionString: serverUrl })
await admin.connect()
await admin.query(`CREATE DATABASE ${name}`)
const url = new URL(serverUrl)
url.pathname = `/${name}`
const database = await openDatabase({ url: url.toString(), poolSize: 10 })
const out: Record<string, string> = {}
try {
  await runMigrations(database, url.toString())
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
  const items = Array.from({ length: N }, (_, i) => item(i))
  const time = async (label: string, fn: () => Promise<unknown>) => {
    const t0 = performance.now()
    const r = await fn()
    out[label] = `${(performance.now() - t0).toFixed(0)} ms`
    return r
  }
  const c = new pg.Client({ connectionString: url.toString() })
  await c.connect()
  if (!onlyImpact) {
    await time('import 10,000 (created)', () => imports.importCis(ctx, { source: 'bench', items }))
    await time('import 10,000 (unchanged)', () => imports.importCis(ctx, { source: 'bench', items }))
    const changed = items.map((it, i) => (i % 10 === 0 ? item(i, 8192) : it))
    await time('import 10,000 (10 % changed)', () => imports.importCis(ctx, { source: 'bench', items: changed }))

    // The bare ceiling: the same 10,000 rows in one upsert through pg
    await c.query('create table bench_ceiling (key text primary key, name text, serial text, attrs jsonb)')
    const cols = [
      items.map(i => i.key),
      items.map(i => i.name),
      items.map(i => i.identifiers.serial),
      items.map(i => JSON.stringify(i.attributes))
    ]
    const upsert = `insert into bench_ceiling select * from unnest($1::text[], $2::text[], $3::text[], $4::jsonb[])
      on conflict (key) do update set name = excluded.name, serial = excluded.serial, attrs = excluded.attrs`
    await time('bare upsert ceiling (first)', () => c.query(upsert, cols))
    await time('bare upsert ceiling (again)', () => c.query(upsert, cols))
  }

  // A 100,000-CI graph: a tree (each CI runs on one of ten times fewer) plus one cross dependency each
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
  await c.end()
  const id = (g: number) => `${hex(g, 8)}-0000-7000-8000-000000000000`
  for (const direction of ['upstream', 'both'] as const) {
    const samples: number[] = []
    for (let k = 0; k < SAMPLES; k++) {
      const root = id(1 + ((k * 104729) % 1000))
      const t0 = performance.now()
      await graph.impact(ctx, root, { direction, depth: 5 })
      samples.push(performance.now() - t0)
    }
    samples.sort((a, b) => a - b)
    const p = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]!.toFixed(1)
    out[`impact depth 5 ${direction} (p50 / p99)`] = `${p(0.5)} / ${p(0.99)} ms`
  }
} finally {
  await database.close()
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
  await admin.end()
}
for (const [k, v] of Object.entries(out)) process.stdout.write(`${k.padEnd(40)} ${v}\n`)
