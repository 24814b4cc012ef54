import { fileURLToPath } from 'node:url'
import { sql } from 'drizzle-orm'
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres'
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator'
import type { PgliteDatabase } from 'drizzle-orm/pglite'
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator'
import pg from 'pg'
import type { Database } from './client.js'

export const migrationsFolder = fileURLToPath(new URL('../../migrations', import.meta.url))

// Any constant works; it only has to be the same in every process that migrates.
const MIGRATION_LOCK = 7_349_210_11

/**
 * Applies pending drizzle-kit migrations. On PostgreSQL several processes may start at once, so the
 * run holds an advisory lock on its own connection and the others wait, then find nothing to do.
 */
export async function runMigrations(database: Database, url?: string): Promise<void> {
  if (database.driver === 'pglite') {
    await migratePglite(database.db as unknown as PgliteDatabase, { migrationsFolder })
    return
  }
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const db = drizzlePg({ client })
    await db.execute(sql`SELECT pg_advisory_lock(${MIGRATION_LOCK})`)
    try {
      await migratePg(db, { migrationsFolder })
    } finally {
      await db.execute(sql`SELECT pg_advisory_unlock(${MIGRATION_LOCK})`)
    }
  } finally {
    await client.end()
  }
}
