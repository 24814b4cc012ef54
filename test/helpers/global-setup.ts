import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { openDatabase } from '../../src/db/client.js'
import { runMigrations } from '../../src/db/migrate.js'

/**
 * Migrating a new database for every test file cost most of a file's setup (a new PGlite cluster
 * is about 3 s of CPU, the migrations half a second more). This runs once per `vitest run`: it
 * migrates one database per driver and leaves it as a template, which test/helpers/db.ts copies:
 * a dumped PGlite data directory, and a PostgreSQL template database. Both are named by a hash of
 * the migrations, so a changed migration never reuses a stale template.
 */
export default async function setup(): Promise<void> {
  const hash = migrationsHash()
  await pgliteTemplate(hash)
  if (process.env.TEST_DATABASE_URL) await pgTemplate(process.env.TEST_DATABASE_URL, hash)
}

export function migrationsHash(): string {
  const h = createHash('sha1')
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) walk(path)
      else h.update(entry.name).update(readFileSync(path))
    }
  }
  walk('migrations')
  return h.digest('hex').slice(0, 12)
}

export const pgliteTemplatePath = (hash: string): string => join(tmpdir(), `sd-test-pglite-${hash}.tar`)

async function pgliteTemplate(hash: string): Promise<void> {
  const path = pgliteTemplatePath(hash)
  if (existsSync(path)) return
  const database = await openDatabase({ memory: true })
  await runMigrations(database)
  const client = (database.db as unknown as { $client: { dumpDataDir(c: 'none'): Promise<Blob> } }).$client
  const dump = await client.dumpDataDir('none')
  await database.close()
  // Written aside and renamed, so a concurrent run never reads half a file
  const partial = `${path}.${process.pid}`
  writeFileSync(partial, Buffer.from(await dump.arrayBuffer()))
  renameSync(partial, path)
}

export const pgTemplateName = (hash: string): string => `sd_template_${hash}`

async function pgTemplate(serverUrl: string, hash: string): Promise<void> {
  const name = pgTemplateName(hash)
  const admin = new pg.Client({ connectionString: serverUrl })
  await admin.connect()
  try {
    const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])
    if (found.rowCount) return
    const building = `${name}_building_${process.pid}`
    await admin.query(`CREATE DATABASE ${building}`)
    const url = new URL(serverUrl)
    url.pathname = `/${building}`
    const database = await openDatabase({ url: url.toString(), poolSize: 1 })
    await runMigrations(database, url.toString())
    await database.close()
    try {
      await admin.query(`ALTER DATABASE ${building} RENAME TO ${name}`)
    } catch {
      // Another run built it first
      await admin.query(`DROP DATABASE IF EXISTS ${building} WITH (FORCE)`)
    }
  } finally {
    await admin.end()
  }
}
