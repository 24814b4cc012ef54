/**
 * `npx tsx bench/profile.ts SCENARIO` (BENCH_DURATION seconds): one app scenario of the bench against the API started
 * under `node --cpu-prof`, on the bench database (seeded by `npm run bench`; BENCH_DATABASE_URL), then
 * the server's CPU time per request and the functions with the most self time. CPU per request is what
 * to compare between two builds on a machine other work shares (throughput there is noise).
 * Run `npm run build` first: it profiles dist/. PROFILE_CPU=0 measures without the profiler;
 * PROFILE_DIST=dir runs another build (e.g. one of main, to compare).
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { measure } from './load.js'
import { startServer } from './processes.js'
import { type AppKey, appLoads, login, probe } from './scenarios.js'
import { cleanUp, prepareData } from './seed.js'
import { settings } from './settings.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const scenario = process.argv[2] as AppKey | undefined
const top = Number(process.env.PROFILE_TOP ?? 40)
/** PROFILE_CPU=0: only the CPU time per request, without the profiler's own overhead. */
const profiling = process.env.PROFILE_CPU !== '0'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}
interface Profile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

/** Self time by function and by package/file area, in µs per request, of the samples after `skipUs`. */
function summarise(profile: Profile, skipUs: number, requests: number): void {
  const byId = new Map(profile.nodes.map(n => [n.id, n]))
  const self = new Map<number, number>()
  let at = 0
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0
    at += delta
    if (at < skipUs) continue
    const id = profile.samples[i]!
    self.set(id, (self.get(id) ?? 0) + delta)
  }
  const byFunction = new Map<string, number>()
  const byArea = new Map<string, number>()
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame
    if (functionName === '(idle)') continue
    const file = url.replace(/^file:\/\//, '').replace(root, '')
    const name = `${functionName || '(anonymous)'} ${file}:${lineNumber + 1}`
    byFunction.set(name, (byFunction.get(name) ?? 0) + us)
    const area = file.startsWith('node_modules/')
      ? file
          .split('/')
          .slice(0, file.split('/')[1]!.startsWith('@') ? 3 : 2)
          .join('/')
      : file === ''
        ? functionName
        : file.startsWith('node:')
          ? 'node:*'
          : file
    byArea.set(area, (byArea.get(area) ?? 0) + us)
  }
  const print = (title: string, m: Map<string, number>, n: number) => {
    console.log(`\n${title} (µs per request, self time)`)
    for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, n)) {
      console.log(`${(us / requests).toFixed(1).padStart(8)}  ${k}`)
    }
  }
  print('by area', byArea, 30)
  print('by function', byFunction, top)
}

async function main(): Promise<void> {
  if (!scenario) throw new Error('usage: bench/profile.ts SCENARIO')
  const data = await prepareData(settings.databaseUrl)
  const dir = mkdtempSync(join(tmpdir(), 'sd-profile-'))
  const spawned = Date.now()
  const app = await startServer(
    'app',
    [
      process.execPath,
      ...(profiling ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : []),
      `${root}${process.env.PROFILE_DIST ?? 'dist'}/server.js`
    ],
    {
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
        GRAPHQL_RATE_LIMIT_PER_MINUTE: '100000000',
        INGEST_RATE_LIMIT_PER_MINUTE: '100000000'
      }
    }
  )
  // /health answers before the database is ready; the scenarios need /ready
  for (
    let i = 0;
    i < 300 &&
    !(await fetch(`${app.url}/ready`).then(
      r => r.ok,
      () => false
    ));
    i++
  ) {
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  let requests = 0
  let measuredFrom = 0
  try {
    const load = appLoads(app.url, await login(app.url), data)[scenario]
    if (!load) throw new Error(`no app scenario "${scenario}"`)
    await probe(scenario, load)
    // Samples from the end of the warm-up on (the profile's clock starts about when the process does)
    measuredFrom = (Date.now() - spawned + settings.warmup * 1000) * 1000
    const m = await measure(load, app.cpuSeconds)
    requests = m.rps * settings.duration
    console.log(
      `${scenario}: ${m.rps.toFixed(0)} req/s, server CPU ${m.cpu?.perRequestUs.toFixed(0)} µs/req${m.failures ? `, FAILURES ${m.detail}` : ''}`
    )
  } finally {
    await app.stop()
    await cleanUp(settings.databaseUrl)
  }
  if (!profiling) return
  const file = readdirSync(dir).find(f => f.endsWith('.cpuprofile'))
  if (!file) throw new Error(`no profile written in ${dir}`)
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Profile
  console.log(`profile: ${join(dir, file)}`)
  summarise(profile, measuredFrom, requests)
}

main().then(
  () => process.exit(0),
  err => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err)
    process.exit(1)
  }
)
