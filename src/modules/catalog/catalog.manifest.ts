import { provide } from '../../lib/ports.js'
import type { ModuleManifest } from '../manifest.js'
import { catalogLoaders, catalogResolvers } from './catalog.resolvers.js'
import catalogRoutes from './catalog.routes.js'
import { createCatalogService } from './catalog.service.js'

declare module '../../lib/ports.js' {
  interface Services {
    catalog: ReturnType<typeof createCatalogService>
  }
}

/** The service catalogue: offerings a request is raised against. */
export const catalogManifest: ModuleManifest = {
  name: 'catalog',
  provides: [provide(['catalog'], [], deps => ({ catalog: createCatalogService(deps) }))],
  routes: [catalogRoutes],
  graphql: { resolvers: [catalogResolvers], loaders: [catalogLoaders] }
}
