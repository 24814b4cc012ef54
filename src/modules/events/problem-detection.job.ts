import { systemActor } from '../../auth/actor.js'
import type { PeriodicJob } from '../../jobs/job.js'

/** Recurring incidents (problem rules: same CI, fingerprint, family or category) open or update problems. */
export const problemDetection: PeriodicJob = {
  name: 'problem-detection',
  everyMs: 60_000,
  run: async ({ services, db, log }) => ({
    ...(await services.problemRules.detect({ actor: systemActor('problem-detection'), log, db }))
  })
}
