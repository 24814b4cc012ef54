import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import pg from 'pg'
import { type Database, openDatabase } from '../../src/db/client.js'
import { runMigrations } from '../../src/db/migrate.js'
import { migrationsHash, pgliteTemplatePath, pgTemplateName } from './global-setup.js'

export interface TestDatabase {
  database: Database
  url: string | undefined
  drop(): Promise<void>
}

export const driver = (process.env.TEST_DB_DRIVER ?? 'pglite') as 'pglite' | 'pg'

// The migrated templates global-setup.ts left for this run (read once per test file)
let hash: string | undefined
const templateHash = (): string => {
  hash ??= migrationsHash()
  return hash
}
let pgliteDump: Blob | undefined
function pgliteTemplate(): Blob | undefined {
  if (pgliteDump) return pgliteDump
  const path = pgliteTemplatePath(templateHash())
  if (existsSync(path)) pgliteDump = new Blob([readFileSync(path)])
  return pgliteDump
}

/**
 * A fresh, migrated database for one test file: an in-memory PGlite, or a new database on the
 * PostgreSQL server of TEST_DATABASE_URL (dropped afterwards). Test files never share state.
 * `migrate: false` leaves it empty (the migration upgrade test builds it from older migrations).
 */
export async function createTestDatabase(opts: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const migrate = opts.migrate ?? true
  if (driver === 'pglite') {
    const template = migrate ? pgliteTemplate() : undefined
    const database = await openDatabase({ memory: true, ...(template ? { loadDataDir: template } : {}) })
    if (migrate && !template) await runMigrations(database)
    return { database, url: undefined, drop: () => database.close() }
  }
  const serverUrl = process.env.TEST_DATABASE_URL
  if (!serverUrl) throw new Error('TEST_DATABASE_URL is needed for the pg project')
  const name = `sd_test_${randomBytes(6).toString('hex')}`
  const admin = new pg.Client({ connectionString: serverUrl })
  await admin.connect()
  const template = pgTemplateName(templateHash())
  const fromTemplate =
    migrate && ((await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [template])).rowCount ?? 0) > 0
  await admin.query(fromTemplate ? `CREATE DATABASE ${name} TEMPLATE ${template}` : `CREATE DATABASE ${name}`)
  await admin.end()
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  // A loaded CI machine runs many test files at once: waiting for one of the 5 connections can take
  // longer than the production default (DB_CONNECT_TIMEOUT_MS), which would turn a slow test into a 503
  const database = await openDatabase({ url: url.toString(), poolSize: 5, connectTimeoutMs: 60_000 })
  if (migrate && !fromTemplate) await runMigrations(database, url.toString())
  return {
    database,
    url: url.toString(),
    async drop() {
      await database.close()
      const c = new pg.Client({ connectionString: serverUrl })
      await c.connect()
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await c.end()
    }
  }
}

/**
 * Another connection pool on the same database: what a second API instance has. PGlite is one
 * process, so its peer shares the handle. Dropping a peer only closes its pool.
 */
export async function openPeerDatabase(of: TestDatabase): Promise<TestDatabase> {
  if (!of.url) return { database: of.database, url: undefined, drop: async () => {} }
  const database = await openDatabase({ url: of.url, poolSize: 5 })
  return { database, url: of.url, drop: () => database.close() }
}
