import { pgTable, text, timestamp } from 'drizzle-orm/pg-core'

/** One row per scheduled job: a run is claimed by moving last_started_at, so one instance runs it per period. */
export const jobRuns = pgTable('job_runs', {
  name: text('name').primaryKey(),
  lastStartedAt: timestamp('last_started_at', { withTimezone: true, mode: 'date', precision: 3 }),
  lastFinishedAt: timestamp('last_finished_at', { withTimezone: true, mode: 'date', precision: 3 }),
  lastError: text('last_error'),
  claimedBy: text('claimed_by')
})
