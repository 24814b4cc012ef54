import { provide } from '../../lib/ports.js'
import type { ModuleManifest } from '../manifest.js'
import { costCentreResolvers } from './cost-centres.resolvers.js'
import costCentreRoutes from './cost-centres.routes.js'
import { createCostCentreService } from './cost-centres.service.js'
import { costResolvers } from './costs.resolvers.js'
import costRoutes from './costs.routes.js'
import { createCostService } from './costs.service.js'
import { serviceCostResolvers } from './service-costs.resolvers.js'
import serviceCostRoutes from './service-costs.routes.js'
import { createServiceCostService } from './service-costs.service.js'

declare module '../../lib/ports.js' {
  interface Services {
    costCentres: ReturnType<typeof createCostCentreService>
    /** CI costs, exchange rates, the finance settings and who may read costs. */
    finance: ReturnType<typeof createCostService>
    /** The cost model: cost per service over the CMDB. */
    serviceCosts: ReturnType<typeof createServiceCostService>
  }
}

/** IT financial management: cost centres and budgets, CI costs, exchange rates, cost model and reports. */
export const financeManifest: ModuleManifest = {
  name: 'finance',
  provides: [
    provide(['costCentres'], [], deps => ({ costCentres: createCostCentreService(deps) })),
    provide(['finance'], [], deps => ({ finance: createCostService(deps) })),
    provide(['serviceCosts'], [], deps => ({ serviceCosts: createServiceCostService(deps) }))
  ],
  routes: [costCentreRoutes, costRoutes, serviceCostRoutes],
  graphql: { resolvers: [costCentreResolvers, costResolvers, serviceCostResolvers] }
}
