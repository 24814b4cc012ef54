import { systemActor } from '../../auth/actor.js'
import type { PeriodicJob } from '../../jobs/job.js'

/** Flapping alerts quiet for a whole flap window settle: a held recovery then resolves its incident. */
export const settleFlapping: PeriodicJob = {
  name: 'events-settle-flapping',
  everyMs: 60_000,
  run: ({ services, db, log }) => services.events.maintenance.settleFlapping({ actor: systemActor('events'), log, db })
}

/** Monitoring events past the retention set in the event settings are removed (incidents stay). */
export const purgeEvents: PeriodicJob = {
  name: 'events-retention',
  everyMs: 60 * 60_000,
  run: ({ services }) => services.events.maintenance.purgeEvents()
}
