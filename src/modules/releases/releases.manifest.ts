import { provide } from '../../lib/ports.js'
import type { ModuleManifest } from '../manifest.js'
import { createDeploymentService, type DeploymentService } from './deployments.service.js'
import { releaseEventsSubscriber } from './releases.events.js'
import { releaseHooks } from './releases.hooks.js'
import { releaseLoaders, releaseResolvers } from './releases.resolvers.js'
import releaseRoutes from './releases.routes.js'
import { createReleaseService, type ReleaseService } from './releases.service.js'

declare module '../../graphql/mappers.js' {
  interface TicketDetailColumns {
    managerId: string | null
    releaseTeamId: string | null
  }
}

declare module '../../lib/ports.js' {
  interface Services {
    releases: ReleaseService
    deployments: DeploymentService
  }
}

/** Releases bundling changes, and their deployments. */
export const releasesManifest: ModuleManifest = {
  name: 'releases',
  provides: [
    provide(['releases', 'deployments'], ['tickets', 'workflows'], deps => ({
      releases: createReleaseService(deps),
      deployments: createDeploymentService(deps)
    }))
  ],
  routes: [releaseRoutes],
  graphql: { resolvers: [releaseResolvers], loaders: [releaseLoaders] },
  tickets: ({ config }) => ({
    kinds: { release: releaseHooks() },
    subscribers: [releaseEventsSubscriber(config.NOTIFY_MAX_ATTEMPTS)]
  })
}
