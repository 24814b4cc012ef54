import { provide } from '../../lib/ports.js'
import type { ModuleManifest } from '../manifest.js'
import type { ServicePort } from '../tickets/tickets.ports.js'
import { serviceLoaders, serviceResolvers } from './services.resolvers.js'
import serviceRoutes from './services.routes.js'
import { createServiceCatalog, servicePort } from './services.service.js'
import { slaResolvers } from './slas.resolvers.js'
import slaRoutes from './slas.routes.js'
import { createSlaService } from './slas.service.js'

declare module '../../lib/ports.js' {
  interface Services {
    serviceCatalog: ReturnType<typeof createServiceCatalog>
    /** The ticket core's port: the service a ticket names, checked for the actor. */
    servicePort: ServicePort
    slas: ReturnType<typeof createSlaService>
  }
}

/** Service level management: the service catalog (SLAs and OLAs join it). */
export const servicesManifest: ModuleManifest = {
  name: 'services',
  provides: [
    provide(['servicePort'], [], () => ({ servicePort })),
    provide(['serviceCatalog'], [], deps => ({ serviceCatalog: createServiceCatalog(deps) })),
    provide(['slas'], ['calendars'], deps => ({ slas: createSlaService(deps) }))
  ],
  routes: [serviceRoutes, slaRoutes],
  graphql: { resolvers: [serviceResolvers, slaResolvers], loaders: [serviceLoaders] }
}
