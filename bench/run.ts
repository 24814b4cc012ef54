/**
 * `npm run bench`: the API on PostgreSQL with 100,000 seeded incidents under autocannon (50
 * connections), each scenario beside a ceiling measured on a bare Fastify + pg server. Servers run on
 * CPU 0, the load generator (this process) on CPU 1, when taskset allows. See bench/settings.ts.
 */
import { readdirSync, statSync } from 'node:fs'
import { cpus } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { measureCmdb, printCmdb } from './cmdb.js'
import { measureDispatch, printDispatch } from './dispatch.js'
import { measureEscalations, printEscalations } from './escalations.js'
import { measureFinance, printFinance } from './finance.js'
import { type Measured, measure } from './load.js'
import { canPin, killAll, pinSelf, run, type Server, startServer } from './processes.js'
import { report } from './report.js'
import { measureReports, printReports } from './reports.js'
import { type AppKey, appLoads, type CeilingKey, ceilingLoads, login, ORDER, probe } from './scenarios.js'
import { cleanUp, prepareData } from './seed.js'
import { settings } from './settings.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const started = Date.now()
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)} s`

// The whole run is bounded: setup (build, seed) plus every scenario with its warm-up and some slack
// (60 s of it for the CMDB scenario, 300 s for seeding the reports' million tickets once)
const budgetMs = (660 + ORDER.length * (settings.duration + settings.warmup + 5)) * 1000
setTimeout(() => {
  console.error(`bench: over its time budget of ${budgetMs / 1000} s, stopping`)
  killAll()
  process.exit(2)
}, budgetMs).unref()
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killAll()
    process.exit(130)
  })
}

/** Builds dist/ unless it is newer than every source file. */
function build(): void {
  const newest = (dir: string) =>
    Math.max(
      ...readdirSync(`${root}${dir}`, { recursive: true, encoding: 'utf8' }).map(
        f => statSync(`${root}${dir}/${f}`).mtimeMs
      )
    )
  const sources = Math.max(
    newest('src'),
    statSync(`${root}tsconfig.json`).mtimeMs,
    statSync(`${root}tsconfig.build.json`).mtimeMs
  )
  const built = (() => {
    try {
      return statSync(`${root}dist/server.js`).mtimeMs
    } catch {
      return 0
    }
  })()
  if (built > sources) return
  console.log('building dist/ (npm run build)…')
  run(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-p', `${root}tsconfig.build.json`])
}

/** Share of CPU time used by anything over one second (the bench itself idles meanwhile). */
async function cpuBusy(): Promise<number> {
  const total = () =>
    cpus().reduce(
      (t, c) => ({ idle: t.idle + c.times.idle, all: t.all + Object.values(c.times).reduce((a, b) => a + b, 0) }),
      { idle: 0, all: 0 }
    )
  const before = total()
  await sleep(1000)
  const after = total()
  return 1 - (after.idle - before.idle) / Math.max(1, after.all - before.all)
}

function startApp(): Promise<Server> {
  return startServer('app', [process.execPath, `${root}dist/server.js`], {
    cpu: settings.serverCpu,
    port: settings.appPort,
    cwd: root,
    env: {
      DATABASE_URL: settings.databaseUrl,
      PORT: String(settings.appPort),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      ADMIN_USERNAME: settings.admin.username,
      ADMIN_PASSWORD: settings.admin.password,
      RUN_SCHEDULER: 'false',
      // One load generator is one caller: per-caller limits stay on (their cost is measured) but far away
      GRAPHQL_RATE_LIMIT_PER_MINUTE: '100000000',
      INGEST_RATE_LIMIT_PER_MINUTE: '100000000'
    }
  })
}

function startCeiling(): Promise<Server> {
  return startServer('ceiling server', [process.execPath, '--import', 'tsx', `${root}bench/ceiling-server.ts`], {
    cpu: settings.serverCpu,
    port: settings.ceilingPort,
    cwd: root,
    env: { DATABASE_URL: settings.databaseUrl, PORT: String(settings.ceilingPort) }
  })
}

async function main(): Promise<number> {
  build()
  const data = await prepareData(settings.databaseUrl)
  const { ids } = data
  console.log(`search words (incidents holding each): ${data.words.map(w => `${w.word} ${w.matches}`).join(', ')}`)
  console.log(`bulk: ${data.chunks.length} chunks of 1,000 open incidents`)
  const pinned = pinSelf(settings.loadCpu)
  console.log(
    pinned
      ? `servers on CPU ${settings.serverCpu}, load generator on CPU ${settings.loadCpu}`
      : `taskset ${canPin ? 'failed' : 'not found'}: processes are not pinned, numbers are noisier`
  )

  const servers: Server[] = []
  try {
    const app = await startApp()
    servers.push(app)
    const ceiling = await startCeiling() // after the app: it files its rows for the bootstrap admin
    servers.push(ceiling)
    const appLoad = appLoads(app.url, await login(app.url), data)
    const ceilingLoad = ceilingLoads(ceiling.url, ids)
    for (const [k, l] of Object.entries(appLoad)) await probe(`app ${k}`, l)
    for (const [k, l] of Object.entries(ceilingLoad)) await probe(`ceiling ${k}`, l)

    const busy = await cpuBusy()
    if (busy > 0.15) {
      console.log(
        `WARNING: CPUs ${(busy * 100).toFixed(0)} % busy while the bench idles: something else runs, numbers are noisy`
      )
    }
    console.log(
      `${ORDER.length} runs of ${settings.warmup} s warm-up + ${settings.duration} s, ${settings.connections} connections`
    )
    const appResults = {} as Record<AppKey, Measured>
    const ceilingResults = {} as Record<CeilingKey, Measured>
    const chosen = ORDER.filter(
      step => settings.only.length === 0 || settings.only.includes('app' in step ? step.app : `ceiling:${step.ceiling}`)
    )
    for (const step of chosen) {
      const [label, load] =
        'app' in step ? [`app ${step.app}`, appLoad[step.app]] : [`ceiling ${step.ceiling}`, ceilingLoad[step.ceiling]]
      const server = 'app' in step ? app : ceiling
      const m = await measure(load, server.cpuSeconds)
      if ('app' in step) appResults[step.app] = m
      else ceilingResults[step.ceiling] = m
      const cpu = m.cpu
        ? `  server CPU ${(m.cpu.share * 100).toFixed(0)} %, ${m.cpu.perRequestUs.toFixed(0)} µs/req`
        : ''
      console.log(
        `  ${label.padEnd(16)} ${m.rps.toFixed(0).padStart(7)} req/s  p50 ${m.p50} ms  p99 ${m.p99} ms${cpu}${m.failures ? `  FAILURES: ${m.detail}` : ''}  [${elapsed()}]`
      )
    }
    const { clean } = report(appResults, ceilingResults, new URL('results.json', import.meta.url))
    // The notification dispatcher, on its own database so the scenarios' tables are not touched
    if (settings.only.length === 0 || settings.only.includes('dispatch')) {
      const dispatch = await measureDispatch(settings.databaseUrl.replace(/\/[^/]*$/, '/postgres'))
      printDispatch(dispatch)
      if (dispatch.sent !== dispatch.rows) return 1
    }
    // Scheduler throughput (escalations), on its own database too
    if (settings.only.length === 0 || settings.only.includes('escalations')) {
      const escalations = await measureEscalations(settings.databaseUrl.replace(/\/[^/]*$/, '/postgres'))
      printEscalations(escalations)
      if (escalations.applied !== escalations.due) return 1
    }
    // The CMDB import and impact analysis (issue 12), on a database of its own; modest sizes keep the
    // whole bench near five minutes (`npx tsx bench/cmdb.ts` runs the issue's full 10,000 / 100,000)
    let cmdbOk = true
    if (settings.only.length === 0 || settings.only.includes('cmdb')) {
      const cmdb = await measureCmdb(settings.databaseUrl.replace(/\/[^/]*$/, '/postgres'), settings.cmdb)
      cmdbOk = printCmdb(cmdb)
    }
    // The ticket and SLA reports over 1,000,000 tickets (issue 16), on a database of its own, seeded once
    let reportsOk = true
    if (settings.only.length === 0 || settings.only.includes('reports')) {
      reportsOk = printReports(await measureReports(settings.databaseUrl, settings.reports))
    }
    // The finance reports over a 100,000-CI CMDB (issue 15), on a database of its own, dropped after
    let financeOk = true
    if (settings.only.length === 0 || settings.only.includes('finance')) {
      financeOk = printFinance(await measureFinance(settings.databaseUrl.replace(/\/[^/]*$/, '/postgres')))
    }
    return clean && cmdbOk && reportsOk && financeOk ? 0 : 1
  } finally {
    for (const s of servers.reverse()) await s.stop()
    await cleanUp(settings.databaseUrl)
    console.log(`\nbench finished in ${elapsed()}`)
  }
}

main().then(
  code => process.exit(code),
  err => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err)
    killAll()
    process.exit(1)
  }
)
