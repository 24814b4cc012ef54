import { mkdirSync } from 'node:fs'
import { PGlite } from '@electric-sql/pglite'
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres'
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core'
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite'
import pg from 'pg'
import * as schema from './schema/index.js'

export type Schema = typeof schema
export type Db = PgDatabase<PgQueryResultHKT, Schema>

export interface Database {
  db: Db
  driver: 'pg' | 'pglite'
  close(): Promise<void>
  /** Cheap round trip for readiness checks. */
  ping(): Promise<void>
}

export interface DatabaseOptions {
  url?: string | undefined
  dataDir?: string
  poolSize?: number
  /** PGlite only: keep everything in memory (tests). */
  memory?: boolean
}

/** node-postgres when a URL is given, an embedded PGlite otherwise: same schema, same code. */
export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  if (opts.url) {
    const pool = new pg.Pool({
      connectionString: opts.url,
      max: opts.poolSize ?? 10,
      connectionTimeoutMillis: 5000,
      idleTimeoutMillis: 30000
    })
    // An idle client that errors (server restart) must not crash the process
    pool.on('error', () => {})
    const db = drizzlePg({ client: pool, schema }) as unknown as Db
    return {
      db,
      driver: 'pg',
      close: () => pool.end(),
      ping: async () => {
        await pool.query('SELECT 1')
      }
    }
  }
  let client: PGlite
  if (opts.memory) {
    client = new PGlite()
  } else {
    const dir = opts.dataDir ?? './data'
    mkdirSync(dir, { recursive: true })
    client = new PGlite(dir)
  }
  await client.waitReady
  const db = drizzlePglite({ client, schema }) as unknown as Db
  return {
    db,
    driver: 'pglite',
    close: () => client.close(),
    ping: async () => {
      await client.query('SELECT 1')
    }
  }
}
