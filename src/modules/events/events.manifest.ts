import { provide } from '../../lib/ports.js'
import type { ModuleManifest } from '../manifest.js'
import eventConfigRoutes from './event-config.routes.js'
import { createEventSettingsService, type EventSettingsService } from './event-settings.service.js'
import { purgeEvents, settleFlapping } from './events.jobs.js'
import { eventLoaders, eventResolvers } from './events.resolvers.js'
import eventRoutes from './events.routes.js'
import { createEventService, type EventService } from './events.service.js'
import { problemDetection } from './problem-detection.job.js'
import { problemRuleResolvers } from './problem-rules.resolvers.js'
import problemRuleRoutes from './problem-rules.routes.js'
import { createProblemRuleService, type ProblemRuleService } from './problem-rules.service.js'
import { createRoutingRuleService, type RoutingRuleService } from './routing-rules.service.js'

declare module '../../lib/ports.js' {
  interface Services {
    eventSettings: EventSettingsService
    eventRoutingRules: RoutingRuleService
    events: EventService
    problemRules: ProblemRuleService
  }
}

/** Monitoring events: receivers, deduplication into alerts, routing to incidents, problem detection. */
export const eventsManifest: ModuleManifest = {
  name: 'events',
  provides: [
    provide(['eventSettings', 'eventRoutingRules'], [], deps => ({
      eventSettings: createEventSettingsService(deps),
      eventRoutingRules: createRoutingRuleService(deps)
    })),
    provide(['events'], ['tickets', 'links', 'workflows', 'eventSettings', 'eventRoutingRules'], deps => ({
      events: createEventService({ ...deps, settings: deps.eventSettings, routing: deps.eventRoutingRules })
    })),
    provide(['problemRules'], ['tickets', 'links', 'workflows'], deps => ({
      problemRules: createProblemRuleService(deps)
    }))
  ],
  routes: [eventRoutes, problemRuleRoutes, eventConfigRoutes],
  graphql: { resolvers: [eventResolvers, problemRuleResolvers], loaders: [eventLoaders] },
  jobs: [settleFlapping, purgeEvents, problemDetection]
}
