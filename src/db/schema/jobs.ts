import { sql } from 'drizzle-orm'
import { index, integer, jsonb, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core'
import { ts } from './columns.js'

/**
 * The last run of each periodic job, kept for operators (and the tests that read it): the runner
 * stamps it as a run starts and ends. Scheduling itself lives in `work_items`.
 */
export const jobRuns = pgTable('job_runs', {
  name: text('name').primaryKey(),
  lastStartedAt: ts('last_started_at'),
  lastFinishedAt: ts('last_finished_at'),
  lastError: text('last_error'),
  claimedBy: text('claimed_by')
})

/**
 * Due work: one row per thing to do at or after `due_at` (a periodic job's next run, an outbox row, an
 * SLA timer). A worker leases rows with `FOR UPDATE SKIP LOCKED`; a lease that is not renewed expires,
 * so another worker takes over what a killed one held. `key` deduplicates live rows per queue (one
 * pending run per periodic job, one timer per ticket); dead letters keep their key without blocking a
 * new row under it.
 */
export const workItems = pgTable(
  'work_items',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    queue: text('queue').notNull(),
    key: text('key'),
    payload: jsonb('payload').notNull().default(sql`'{}'::jsonb`),
    dueAt: ts('due_at').notNull().defaultNow(),
    /** Claims so far; a success resets it for periodic jobs, a one-off row is deleted on success. */
    attempts: integer('attempts').notNull().default(0),
    maxAttempts: integer('max_attempts').notNull().default(10),
    leaseOwner: text('lease_owner'),
    /** Names one claim: only its holder may complete, fail or renew it. */
    leaseToken: uuid('lease_token'),
    leaseExpiresAt: ts('lease_expires_at'),
    lastError: text('last_error'),
    deadAt: ts('dead_at'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow()
  },
  t => [
    uniqueIndex('work_items_queue_key_uq').on(t.queue, t.key).where(sql`dead_at IS NULL`),
    // Claims scan live rows in due order; dead letters stay out of this index
    index('work_items_due_idx').on(t.dueAt).where(sql`dead_at IS NULL`),
    index('work_items_dead_idx').on(t.queue, t.deadAt).where(sql`dead_at IS NOT NULL`),
    uniqueIndex('work_items_lease_token_uq').on(t.leaseToken)
  ]
)
