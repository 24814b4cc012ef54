import { provide } from '../../lib/ports.js'
import type { ModuleManifest } from '../manifest.js'
import type { CategoryPort } from '../tickets/tickets.ports.js'
import { categoryLoaders, categoryResolvers } from './categories.resolvers.js'
import categoryRoutes from './categories.routes.js'
import type { CategoryView } from './categories.service.js'
import { categoryPort, createCategoryService } from './categories.service.js'

declare module '../../graphql/mappers.js' {
  interface GraphqlRows {
    Category: CategoryView
  }
}

declare module '../../lib/ports.js' {
  interface Services {
    categories: ReturnType<typeof createCategoryService>
    /** The ticket core's port: a category id resolved to its path. */
    categoryPort: CategoryPort
  }
}

/** Per-kind category trees. */
export const categoriesManifest: ModuleManifest = {
  name: 'categories',
  provides: [
    // The port is built apart: the ticket core needs it, and the service needs the ticket core (its writer)
    provide(['categoryPort'], [], () => ({ categoryPort })),
    provide(['categories'], ['tickets'], deps => ({ categories: createCategoryService(deps) }))
  ],
  routes: [categoryRoutes],
  graphql: { resolvers: [categoryResolvers], loaders: [categoryLoaders] }
}
