import { provide } from '../../lib/ports.js'
import type { ModuleManifest } from '../manifest.js'
import { linkLoaders, linkResolvers } from './links.resolvers.js'
import linkRoutes from './links.routes.js'
import { createLinkService, type LinkService } from './links.service.js'

declare module '../../lib/ports.js' {
  interface Services {
    links: LinkService
  }
}

/** Typed links between tickets. */
export const linksManifest: ModuleManifest = {
  name: 'links',
  provides: [provide(['links'], ['tickets'], deps => ({ links: createLinkService(deps) }))],
  routes: [linkRoutes],
  graphql: { resolvers: [linkResolvers], loaders: [linkLoaders] }
}
