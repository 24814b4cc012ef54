import closeWithGrace from 'close-with-grace'
import pino from 'pino'
import { loadConfigOrExit } from './config.js'
import { openDatabase, waitForDatabase } from './db/client.js'
import { runMigrations } from './db/migrate.js'
import { jobs } from './jobs/index.js'
import { createJobRunner } from './jobs/runner.js'
import { listenForWork } from './jobs/wakeup.js'
import { createMetrics } from './lib/metrics.js'
import { listenForScrapes, type MetricsListener } from './lib/metrics-listener.js'
import { phaseOfStatus } from './modules/workflows/workflows.service.js'
import { createServices } from './services.js'

const config = loadConfigOrExit()

const log = pino({ level: config.LOG_LEVEL, name: 'scheduler' })
if (!config.DATABASE_URL) {
  log.fatal(
    'the separate scheduler needs DATABASE_URL (PostgreSQL); with the embedded database, npm start runs it in-process'
  )
  process.exit(1)
}
// Each running item may hold a connection; claims and lease renewals need one beside them
const database = await openDatabase({
  url: config.DATABASE_URL,
  poolSize: config.SCHEDULER_CONCURRENCY + 2,
  connectTimeoutMs: config.DB_CONNECT_TIMEOUT_MS
})
const deps = { db: database.db, config, log }
const services = createServices(deps)
// Job runs, failures and durations are counted here, where they run; the queue's and outbox's figures
// are read from the database on scrape, as the API's /metrics does
const metricsPort = config.SCHEDULER_METRICS_PORT
const metrics =
  metricsPort === undefined ? null : createMetrics(database, { phaseOf: phaseOfStatus(services.workflows) })
const runner = createJobRunner(
  { ...deps, services },
  jobs,
  config.SCHEDULER_POLL_MS,
  metrics ? { observe: metrics.observeJob } : {}
)

let wakeups: { close(): Promise<void> } | null = null
let scrapes: MetricsListener | null = null

const stopping = new AbortController()
closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
  if (err) log.error({ err }, 'closing after an error')
  else log.info({ signal }, 'scheduler stopping')
  stopping.abort()
  await scrapes?.close()
  await wakeups?.close()
  // Stops claiming and finishes the items and batches in hand (their leases renewed meanwhile)
  await runner.stop()
  await database.close()
})

// An unreachable database at start is waited for (one line naming DATABASE_URL), not a stack trace
try {
  await waitForDatabase(database, config.DATABASE_URL, log, { signal: stopping.signal })
  if (config.MIGRATE_ON_START) await runMigrations(database, config.DATABASE_URL)
  if (metrics && metricsPort !== undefined) {
    scrapes = await listenForScrapes(metrics, {
      port: metricsPort,
      host: config.HOST,
      token: config.METRICS_TOKEN,
      log
    }).catch((err: NodeJS.ErrnoException) => {
      throw new Error(`SCHEDULER_METRICS_PORT ${metricsPort} on ${config.HOST}: ${err.code ?? err.message}`, {
        cause: err
      })
    })
    log.info({ port: scrapes.port, token: config.METRICS_TOKEN !== undefined }, 'scheduler metrics listener started')
  }
  runner.start()
  wakeups = listenForWork(config.DATABASE_URL, at => runner.nudge(at), log)
  log.info(
    { jobs: jobs.map(j => j.name), concurrency: config.SCHEDULER_CONCURRENCY, owner: runner.owner },
    'scheduler started'
  )
} catch (err) {
  if (!stopping.signal.aborted) {
    log.fatal({ err }, 'could not start')
    process.exit(1)
  }
}
