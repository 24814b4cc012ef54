import { provide } from '../../lib/ports.js'
import type { ModuleManifest } from '../manifest.js'
import { requestHooks, requestTasksSubscriber } from './requests.hooks.js'
import { requestLoaders, requestResolvers } from './requests.resolvers.js'
import requestRoutes from './requests.routes.js'
import { createRequestService, type RequestService } from './requests.service.js'

declare module '../../lib/ports.js' {
  interface Services {
    requests: RequestService
  }
}

/** Service requests: raised against a catalogue offering, fulfilled through tasks. */
export const requestsManifest: ModuleManifest = {
  name: 'requests',
  provides: [
    provide(['requests'], ['tickets', 'teams', 'workflows'], deps => ({ requests: createRequestService(deps) }))
  ],
  routes: [requestRoutes],
  graphql: { resolvers: [requestResolvers], loaders: [requestLoaders] },
  tickets: () => ({ kinds: { request: requestHooks() }, subscribers: [requestTasksSubscriber] })
}
