import { directorySync } from './directory-sync.js'
import { purgeEvents, settleFlapping } from './events.js'
import { purgeIdempotencyKeys, purgeSessions } from './housekeeping.js'
import type { Job } from './job.js'
import { problemDetection } from './problem-detection.js'

/** Every job the scheduler runs. Later capabilities (SLA clocks, escalations, notifications) add here. */
export const jobs: Job[] = [
  purgeSessions,
  purgeIdempotencyKeys,
  directorySync,
  settleFlapping,
  purgeEvents,
  problemDetection
]
