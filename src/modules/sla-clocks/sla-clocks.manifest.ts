import { provide } from '../../lib/ports.js'
import type { ModuleManifest } from '../manifest.js'
import { createSlaReadPort } from './clock-reads.js'
import { createClockService } from './clocks.service.js'
import { slaClockResolvers } from './sla-clocks.resolvers.js'
import slaClockRoutes from './sla-clocks.routes.js'
import { slaTimerJob } from './timer.job.js'

declare module '../../lib/ports.js' {
  interface Services {
    slaClocks: ReturnType<typeof createClockService>
    /** The `sla` object, filters and sorts of ticket reads (tickets.ports.ts SlaReadPort). */
    slaReadPort: ReturnType<typeof createSlaReadPort>
  }
}

/** SLA and OLA clocks of tickets: a ticket-writer subscriber, the breach timers, the reads. */
export const slaClocksManifest: ModuleManifest = {
  name: 'sla-clocks',
  provides: [
    provide(['slaReadPort'], [], () => ({ slaReadPort: createSlaReadPort() })),
    provide(['slaClocks'], ['calendars', 'slas', 'workflows', 'tickets', 'slaEscalations', 'slaReadPort'], deps => {
      const slaClocks = createClockService(deps)
      // The ticket reads tell time by the clocks' time source (tests replace slaClocks.clock.now)
      deps.slaReadPort.clock = slaClocks.clock
      return { slaClocks }
    })
  ],
  routes: [slaClockRoutes],
  graphql: { resolvers: [slaClockResolvers] },
  jobs: [slaTimerJob],
  tickets: ({ slaClocks }) => ({ subscribers: [slaClocks.subscriber] })
}
