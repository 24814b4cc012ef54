import { directorySync } from './directory-sync.js'
import { purgeIdempotencyKeys, purgeSessions } from './housekeeping.js'
import type { Job } from './job.js'

/** Every job the scheduler runs. Later capabilities (SLA clocks, escalations, notifications) add here. */
export const jobs: Job[] = [purgeSessions, purgeIdempotencyKeys, directorySync]
