import { systemActor } from '../../auth/actor.js'
import type { PeriodicJob } from '../../jobs/job.js'

/** Users follow the directory between logins too: leavers are disabled within a period. */
export const directorySync: PeriodicJob = {
  name: 'directory-sync',
  everyMs: 6 * 60 * 60_000,
  timeoutMs: 30 * 60_000,
  async run({ config, db, log, services }) {
    if (!config.LDAP_URL) return { skipped: 'LDAP_URL is not set' }
    const report = await services.directorySync.sync({ actor: systemActor('directory-sync'), log, db })
    return { ...report, errors: report.errors.length }
  }
}
