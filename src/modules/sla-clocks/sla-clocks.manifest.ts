import { provide } from '../../lib/ports.js'
import type { ModuleManifest } from '../manifest.js'
import { createClockService } from './clocks.service.js'
import { slaClockResolvers } from './sla-clocks.resolvers.js'
import slaClockRoutes from './sla-clocks.routes.js'
import { slaTimerJob } from './timer.job.js'

declare module '../../lib/ports.js' {
  interface Services {
    slaClocks: ReturnType<typeof createClockService>
  }
}

/** SLA and OLA clocks of tickets: a ticket-writer subscriber, the breach timers, the reads. */
export const slaClocksManifest: ModuleManifest = {
  name: 'sla-clocks',
  provides: [
    provide(['slaClocks'], ['calendars', 'slas', 'workflows', 'tickets', 'slaEscalations'], deps => ({
      slaClocks: createClockService(deps)
    }))
  ],
  routes: [slaClockRoutes],
  graphql: { resolvers: [slaClockResolvers] },
  jobs: [slaTimerJob],
  tickets: ({ slaClocks }) => ({ subscribers: [slaClocks.subscriber] })
}
