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
  /** Queries waiting for a pool connection now (PGlite queues inside its one connection: 0). */
  waiting(): number
  /** node-postgres pool occupancy for /metrics (PGlite has no pool: null). */
  poolStats(): { total: number; idle: number; waiting: number } | null
}

export interface DatabaseOptions {
  url?: string | undefined
  dataDir?: string
  poolSize?: number
  /** PostgreSQL: longest wait for a pool connection before the query fails (mapped to 503). */
  connectTimeoutMs?: number
  /** PostgreSQL: every session read-only (`default_transaction_read_only`): the read replica's pool. */
  readOnly?: boolean
  /** PGlite only: keep everything in memory (tests). */
  memory?: boolean
  /** PGlite in memory only: start from this dumped data directory instead of a new cluster (tests). */
  loadDataDir?: Blob
}

/** node-postgres when a URL is given, an embedded PGlite otherwise: same schema, same code. */
export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  if (opts.url) {
    const pool = new pg.Pool({
      connectionString: opts.url,
      max: opts.poolSize ?? 10,
      connectionTimeoutMillis: opts.connectTimeoutMs ?? 3000,
      idleTimeoutMillis: 30000,
      // A read URL that names the primary by mistake still cannot write
      ...(opts.readOnly ? { options: '-c default_transaction_read_only=on' } : {})
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
      },
      waiting: () => pool.waitingCount,
      poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount })
    }
  }
  let client: PGlite
  if (opts.memory) {
    client = opts.loadDataDir ? new PGlite({ loadDataDir: opts.loadDataDir }) : new PGlite()
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
    },
    waiting: () => 0,
    poolStats: () => null
  }
}

/**
 * The handle reports read through: a read-only pool on DATABASE_READ_URL (a streaming replica) when it
 * is set beside a PostgreSQL primary, the primary itself otherwise (PGlite, or no read URL). The same
 * Database API either way, so report code never asks which one it has.
 */
export async function openReadDatabase(
  primary: Database,
  opts: { url?: string | undefined; poolSize?: number; connectTimeoutMs?: number }
): Promise<Database> {
  if (!opts.url || primary.driver !== 'pg') return primary
  return openDatabase({ ...opts, url: opts.url, readOnly: true })
}

/** `postgres://user:secret@db:5432/sd` as `db:5432/sd`: where, never the credentials. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url)
    return `${u.host}${u.pathname}`
  } catch {
    return 'an unparsable URL'
  }
}

interface WaitLog {
  warn(obj: object, msg: string): void
  info(obj: object, msg: string): void
  debug(obj: object, msg: string): void
}

/**
 * Waits until the database answers, retrying with capped exponential backoff. The first failure is
 * one line naming DATABASE_URL; later attempts log at debug, and the recovery once at info.
 */
export async function waitForDatabase(
  database: Database,
  url: string | undefined,
  log: WaitLog,
  opts: { firstDelayMs?: number; maxDelayMs?: number; signal?: AbortSignal } = {}
): Promise<void> {
  let delay = opts.firstDelayMs ?? 500
  for (let attempt = 1; ; attempt++) {
    try {
      await database.ping()
      if (attempt > 1) log.info({ attempts: attempt }, 'database reachable')
      return
    } catch (err) {
      if (opts.signal?.aborted) throw err
      const reason = (err as { code?: string; message?: string }).code ?? (err as Error).message
      const where = url ? describeUrl(url) : 'the embedded database'
      const msg = `database unreachable at ${where} (DATABASE_URL): ${reason}; retrying with backoff`
      if (attempt === 1) log.warn({ reason }, msg)
      else log.debug({ reason, attempt, delayMs: delay }, msg)
    }
    await new Promise(resolve => setTimeout(resolve, delay))
    delay = Math.min(delay * 2, opts.maxDelayMs ?? 15_000)
  }
}
