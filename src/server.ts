import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import { loadConfigOrExit } from './config.js'
import { describeUrl, openDatabase, openReadDatabase, waitForDatabase } from './db/client.js'
import { runMigrations } from './db/migrate.js'
import { jobs } from './jobs/index.js'
import { createJobRunner } from './jobs/runner.js'

const config = loadConfigOrExit()

const database = await openDatabase({
  url: config.DATABASE_URL,
  dataDir: config.DATA_DIR,
  poolSize: config.DB_POOL_SIZE,
  connectTimeoutMs: config.DB_CONNECT_TIMEOUT_MS
})
// Reports read from the replica when there is one (with PGlite or no read URL: the primary)
const readDatabase = await openReadDatabase(database, {
  url: config.DATABASE_READ_URL,
  poolSize: config.DB_POOL_SIZE,
  connectTimeoutMs: config.DB_CONNECT_TIMEOUT_MS
})
// Listen first and answer /health at once; the rest answers 503 until the database is there and migrated
const app = await buildApp({ config, database, readDatabase, startUnready: true })
if (config.DATABASE_READ_URL && readDatabase === database) {
  app.log.warn('DATABASE_READ_URL is ignored without DATABASE_URL: the embedded database answers the reports')
}

// PGlite is single-process, so the embedded mode runs the scheduler here; production runs it apart
const embeddedScheduler = config.RUN_SCHEDULER ?? database.driver === 'pglite'
const runner = embeddedScheduler
  ? createJobRunner(
      {
        db: database.db,
        readDb: readDatabase.db,
        config,
        log: app.log.child({ component: 'scheduler' }),
        services: app.services
      },
      jobs,
      config.SCHEDULER_POLL_MS,
      { observe: app.metrics.observeJob }
    )
  : null

const stopping = new AbortController()
closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
  if (err) app.log.error({ err }, 'closing after an error')
  else app.log.info({ signal }, 'shutting down')
  stopping.abort()
  await runner?.stop()
  await app.close()
  if (readDatabase !== database) await readDatabase.close()
  await database.close()
})

await app.listen({ port: config.PORT, host: config.HOST })

/** Waits for the database (retrying with backoff), migrates, bootstraps, then reports ready. */
async function start() {
  await waitForDatabase(database, config.DATABASE_URL, app.log, { signal: stopping.signal })
  if (readDatabase !== database) {
    // A replica down at start is reported, not waited for: reports answer 503 until it is back
    await readDatabase.ping().then(
      () => app.log.info({ replica: describeUrl(config.DATABASE_READ_URL ?? '') }, 'reports read from the replica'),
      (err: unknown) =>
        app.log.warn(
          { err, replica: describeUrl(config.DATABASE_READ_URL ?? '') },
          'read replica unreachable (DATABASE_READ_URL): reports fail until it answers'
        )
    )
  }
  if (config.MIGRATE_ON_START) await runMigrations(database, config.DATABASE_URL)

  const bootstrap = await app.services.sessions.ensureBootstrapAdmin()
  if (bootstrap.generatedPassword) {
    app.log.warn(
      { username: config.ADMIN_USERNAME, password: bootstrap.generatedPassword },
      'created the first admin with a generated password (shown once; set ADMIN_PASSWORD to choose it)'
    )
  } else if (bootstrap.blockedBy) {
    app.log.error(
      { username: bootstrap.blockedBy },
      'no admin exists and ADMIN_USERNAME belongs to a non-admin user: choose another ADMIN_USERNAME'
    )
  } else if (bootstrap.created) {
    app.log.info({ username: config.ADMIN_USERNAME }, 'created the first admin')
  }

  app.lifecycle.started = true
  runner?.start()
  app.log.info({ driver: database.driver, scheduler: embeddedScheduler }, 'servicedesk api ready')
}

start().catch(err => {
  if (stopping.signal.aborted) return // SIGTERM while waiting for the database: closeWithGrace finishes
  app.log.fatal({ err }, 'could not start')
  process.exit(1)
})
