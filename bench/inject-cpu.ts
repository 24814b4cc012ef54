/**
 * `npx tsx bench/inject-cpu.ts SCENARIO [requests]`: the process's CPU time per request of one app
 * scenario run in process through `app.inject` (no sockets), on the bench database. Without the HTTP
 * and TCP work it answers the application's own cost, which is what a change to a hot path moves, and
 * it stays readable on a machine other work shares (where socket syscalls swing the full bench).
 * Runs from src (tsx): no build needed. INJECT_CONCURRENCY requests in flight (default 10).
 */
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { openDatabase } from '../src/db/client.js'
import type { Load } from './load.js'
import { type AppKey, appLoads } from './scenarios.js'
import { cleanUp, prepareData } from './seed.js'
import { settings } from './settings.js'

const scenario = process.argv[2] as AppKey | undefined
const total = Number(process.argv[3] ?? 3000)
const concurrency = Number(process.env.INJECT_CONCURRENCY ?? 10)

type Inject = Awaited<ReturnType<typeof buildApp>>['inject']

async function drive(inject: Inject, load: Load, count: number): Promise<number> {
  let next = 0
  let failures = 0
  const worker = async () => {
    while (next < count) {
      const i = next++
      const base = load.requests[i % load.requests.length]!
      const r = typeof base.setupRequest === 'function' ? base.setupRequest({ ...base }, {}) : base
      const res = await inject({
        method: (r.method ?? 'GET') as 'GET',
        url: r.path!,
        headers: (r.headers ?? {}) as Record<string, string>,
        ...(r.body !== undefined ? { payload: String(r.body) } : {})
      })
      if (res.statusCode >= 300 || (load.accept && !load.accept(res.body))) {
        if (failures++ === 0) console.error(`${res.statusCode}: ${res.body.slice(0, 300)}`)
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  return failures
}

async function main(): Promise<void> {
  if (!scenario) throw new Error('usage: bench/inject-cpu.ts SCENARIO [requests]')
  const data = await prepareData(settings.databaseUrl)
  const config = loadConfig({
    DATABASE_URL: settings.databaseUrl,
    LOG_LEVEL: 'warn',
    ADMIN_USERNAME: settings.admin.username,
    ADMIN_PASSWORD: settings.admin.password,
    RUN_SCHEDULER: 'false',
    // A loaded machine must not shed the measured requests
    MAX_EVENT_LOOP_DELAY_MS: '0',
    DB_QUEUE_MAX: '0',
    GRAPHQL_RATE_LIMIT_PER_MINUTE: '100000000',
    INGEST_RATE_LIMIT_PER_MINUTE: '100000000'
  })
  const database = await openDatabase({ url: config.DATABASE_URL, poolSize: config.DB_POOL_SIZE })
  const app = await buildApp({ config, database })
  try {
    await app.services.sessions.ensureBootstrapAdmin()
    const login = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: settings.admin })
    const token = (login.json() as { token: string }).token
    const load = appLoads('', token, data)[scenario]
    if (!load) throw new Error(`no app scenario "${scenario}"`)
    await drive(app.inject.bind(app), load, Math.max(200, Math.floor(total / 5)))
    const cpu = process.cpuUsage()
    const started = performance.now()
    const failures = await drive(app.inject.bind(app), load, total)
    const used = process.cpuUsage(cpu)
    const ms = performance.now() - started
    console.log(
      `${scenario}: ${total} requests, ${((used.user + used.system) / total).toFixed(0)} µs CPU/req ` +
        `(user ${(used.user / total).toFixed(0)}), ${((total / ms) * 1000).toFixed(0)} req/s` +
        (failures ? `, ${failures} FAILURES` : '')
    )
  } finally {
    await app.close()
    await database.close()
    await cleanUp(settings.databaseUrl)
  }
}

main().then(
  () => process.exit(0),
  err => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err)
    process.exit(1)
  }
)
