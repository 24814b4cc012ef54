import { PgTransaction } from 'drizzle-orm/pg-core'
import type { FastifyBaseLogger } from 'fastify'
import type { Actor } from '../auth/actor.js'
import type { Config } from '../config.js'
import type { Db } from '../db/client.js'

/** A drizzle transaction has the same query surface as the database handle. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0]
export type Queryable = Db | Tx

/**
 * What every service function receives about the caller. No request, no reply. `db` is the handle
 * to use: the root database, or the transaction in progress when a service is called from inside
 * one, so a service never opens a second transaction beside its caller's (on PGlite, one connection,
 * that would wait forever).
 */
export interface Ctx {
  actor: Actor
  log: FastifyBaseLogger
  db: Queryable
  requestId?: string
  ip?: string
}

/** A context whose handle is a transaction in progress. */
export type TxCtx = Ctx & { db: Tx }

/** What service factories are built from; the scheduler builds the same ones without Fastify. */
export interface Deps {
  db: Db
  /**
   * Where reports read: the read replica (DATABASE_READ_URL), or the primary when there is none.
   * Read-only and possibly behind the primary: for reads that say how fresh they are, never before a write.
   */
  readDb?: Db
  config: Config
  log: FastifyBaseLogger
}

export const inTransaction = (q: Queryable): q is Tx => q instanceof PgTransaction

/**
 * Runs `fn` in the caller's transaction when there is one, in a new one otherwise. `fn` receives the
 * transaction and the context carrying it: pass that context on to every service it calls.
 */
export function withTx<T>(ctx: Ctx, fn: (tx: Tx, ctx: TxCtx) => Promise<T>): Promise<T> {
  const { db } = ctx
  if (inTransaction(db)) return fn(db, { ...ctx, db })
  return db.transaction(tx => fn(tx, { ...ctx, db: tx }))
}
