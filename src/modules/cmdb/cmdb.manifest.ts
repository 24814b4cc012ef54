import { provide } from '../../lib/ports.js'
import type { ModuleManifest } from '../manifest.js'
import type { CiLinkPort } from '../tickets/tickets.ports.js'
import baselineRoutes from './baselines.routes.js'
import { createBaselineService } from './baselines.service.js'
import catalogueRoutes from './catalogue.routes.js'
import { createCatalogueService } from './catalogue.service.js'
import type { CiRelationshipView, CiView } from './cis.repository.js'
import { createCiService } from './cis.service.js'
import { cmdbLoaders, cmdbResolvers } from './cmdb.resolvers.js'
import cmdbRoutes from './cmdb.routes.js'
import { cmdbMoreLoaders, cmdbMoreResolvers } from './cmdb-more.resolvers.js'
import { createCiGraphService } from './impact.service.js'
import importRoutes from './import.routes.js'
import { createImportService } from './import.service.js'
import inventoryRoutes from './inventory/inventory.routes.js'
import { createInventoryService } from './inventory/inventory.service.js'
import { missingSweep } from './missing.job.js'
import { createCiLinkPort } from './ticket-cis.js'

declare module '../../graphql/mappers.js' {
  interface GraphqlRows {
    ConfigurationItem: CiView
    CiRelationship: CiRelationshipView
  }
}

declare module '../../lib/ports.js' {
  interface Services {
    cis: ReturnType<typeof createCiService>
    cmdbCatalogue: ReturnType<typeof createCatalogueService>
    ciGraph: ReturnType<typeof createCiGraphService>
    ciImport: ReturnType<typeof createImportService>
    inventory: ReturnType<typeof createInventoryService>
    ciBaselines: ReturnType<typeof createBaselineService>
    ciLinkPort: CiLinkPort
  }
}

/** Configuration items and their relations. */
export const cmdbManifest: ModuleManifest = {
  name: 'cmdb',
  provides: [
    provide(['cis'], [], deps => ({ cis: createCiService(deps) })),
    provide(['ciLinkPort'], [], () => ({ ciLinkPort: createCiLinkPort() })),
    provide(['cmdbCatalogue'], [], deps => ({ cmdbCatalogue: createCatalogueService(deps) })),
    provide(['ciGraph'], [], deps => ({ ciGraph: createCiGraphService(deps) })),
    provide(['ciImport'], [], deps => ({ ciImport: createImportService(deps) })),
    provide(['ciBaselines'], [], deps => ({ ciBaselines: createBaselineService(deps) })),
    provide(['inventory'], ['ciImport'], deps => ({ inventory: createInventoryService(deps, deps) }))
  ],
  routes: [cmdbRoutes, catalogueRoutes, importRoutes, inventoryRoutes, baselineRoutes],
  jobs: [missingSweep],
  graphql: { resolvers: [cmdbResolvers, cmdbMoreResolvers], loaders: [cmdbLoaders, cmdbMoreLoaders] }
}
