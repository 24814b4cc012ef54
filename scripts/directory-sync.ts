import pino from 'pino'
import { systemActor } from '../src/auth/actor.js'
import { loadConfigOrExit } from '../src/config.js'
import { openDatabase } from '../src/db/client.js'
import { runMigrations } from '../src/db/migrate.js'
import { AppError } from '../src/lib/errors.js'
import { createServices } from '../src/services.js'

// `npm run directory:sync`: one sync as the system actor, the report on stdout. With the embedded
// database (no DATABASE_URL) stop the server first, or call POST /api/v1/directory/sync instead.
const config = loadConfigOrExit()
if (!config.LDAP_URL) {
  process.stderr.write('LDAP_URL is not set: there is no directory to sync\n')
  process.exit(1)
}

const log = pino({ level: config.LOG_LEVEL, name: 'directory-sync' }, pino.destination(2))
const database = await openDatabase({ url: config.DATABASE_URL, dataDir: config.DATA_DIR, poolSize: 2 })
let code = 0
try {
  if (config.MIGRATE_ON_START) await runMigrations(database, config.DATABASE_URL)
  const deps = { db: database.db, config, log }
  const report = await createServices(deps).directorySync.sync({
    actor: systemActor('directory-sync'),
    log,
    db: database.db
  })
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
  if (report.errors.length > 0) code = 2
} catch (err) {
  process.stderr.write(`directory sync failed: ${err instanceof AppError ? err.message : String(err)}\n`)
  code = 1
} finally {
  await database.close()
}
process.exit(code)
