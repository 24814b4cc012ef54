import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import { loadConfigOrExit } from './config.js'
import { openDatabase } from './db/client.js'
import { runMigrations } from './db/migrate.js'
import { jobs } from './jobs/index.js'
import { createJobRunner } from './jobs/runner.js'

const config = loadConfigOrExit()

const database = await openDatabase({
  url: config.DATABASE_URL,
  dataDir: config.DATA_DIR,
  poolSize: config.DB_POOL_SIZE
})
if (config.MIGRATE_ON_START) await runMigrations(database, config.DATABASE_URL)
const app = await buildApp({ config, database })

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

// PGlite is single-process, so the embedded mode runs the scheduler here; production runs it apart
const embeddedScheduler = config.RUN_SCHEDULER ?? database.driver === 'pglite'
const runner = embeddedScheduler
  ? createJobRunner(
      { db: database.db, config, log: app.log.child({ component: 'scheduler' }), services: app.services },
      jobs,
      config.SCHEDULER_POLL_MS
    )
  : null

closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
  if (err) app.log.error({ err }, 'closing after an error')
  else app.log.info({ signal }, 'shutting down')
  await runner?.stop()
  await app.close()
  await database.close()
})

await app.listen({ port: config.PORT, host: config.HOST })
runner?.start()
app.log.info({ driver: database.driver, scheduler: embeddedScheduler }, 'servicedesk api ready')
