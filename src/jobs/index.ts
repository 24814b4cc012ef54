import { modules } from '../modules/index.js'
import { purgeIdempotencyKeys } from './housekeeping.js'
import type { Job } from './job.js'

/**
 * Every job the scheduler runs: the core's housekeeping, then each module's jobs (its manifest's
 * `jobs`). Later capabilities (SLA clocks, escalations, notifications) declare theirs there.
 */
export const jobs: Job[] = [purgeIdempotencyKeys, ...modules.flatMap(m => m.jobs ?? [])]
