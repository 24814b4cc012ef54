import pino from 'pino'
import { ConfigError, loadConfig } from '../config.js'
import { openDatabase } from './client.js'
import { runMigrations } from './migrate.js'

const log = pino({ name: 'migrate' })
try {
  const config = loadConfig()
  const database = await openDatabase({ url: config.DATABASE_URL, dataDir: config.DATA_DIR, poolSize: 1 })
  await runMigrations(database, config.DATABASE_URL)
  await database.close()
  log.info({ driver: database.driver }, 'migrations applied')
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`)
  } else {
    log.fatal({ err }, 'migration failed')
  }
  process.exit(1)
}
