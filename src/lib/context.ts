import type { FastifyBaseLogger } from 'fastify'
import type { Actor } from '../auth/actor.js'
import type { Config } from '../config.js'
import type { Db } from '../db/client.js'

/** What every service function receives about the caller. No request, no reply. */
export interface Ctx {
  actor: Actor
  log: FastifyBaseLogger
  requestId?: string
  ip?: string
}

/** What service factories are built from; the scheduler builds the same ones without Fastify. */
export interface Deps {
  db: Db
  config: Config
  log: FastifyBaseLogger
}

/** A drizzle transaction has the same query surface as the database handle. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0]
export type Queryable = Db | Tx
