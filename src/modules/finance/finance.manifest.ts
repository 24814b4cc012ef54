import { provide } from '../../lib/ports.js'
import type { ModuleManifest } from '../manifest.js'
import { changeDeltaResolvers } from './change-deltas.resolvers.js'
import changeDeltaRoutes from './change-deltas.routes.js'
import { createChangeDeltaService } from './change-deltas.service.js'
import { costCentreResolvers } from './cost-centres.resolvers.js'
import costCentreRoutes from './cost-centres.routes.js'
import { createCostCentreService } from './cost-centres.service.js'
import { costResolvers } from './costs.resolvers.js'
import costRoutes from './costs.routes.js'
import { createCostService } from './costs.service.js'
import { reportResolvers } from './reports.resolvers.js'
import reportRoutes from './reports.routes.js'
import { createReportService } from './reports.service.js'
import { serviceModelResolvers } from './service-models.resolvers.js'
import serviceModelRoutes from './service-models.routes.js'
import { createServiceModelService } from './service-models.service.js'

declare module '../../lib/ports.js' {
  interface Services {
    costCentres: ReturnType<typeof createCostCentreService>
    /** The cost deltas of changes (the forecast counts those of approved changes). */
    changeCostDeltas: ReturnType<typeof createChangeDeltaService>
    /** CI costs, exchange rates, the finance settings and who may read costs. */
    finance: ReturnType<typeof createCostService>
    /** The finance reports, computed on read. */
    financeReports: ReturnType<typeof createReportService>
    /** Service cost weights, service prices and service consumers. */
    serviceModels: ReturnType<typeof createServiceModelService>
  }
}

/** IT financial management: cost centres and budgets, CI costs, exchange rates, cost model and reports. */
export const financeManifest: ModuleManifest = {
  name: 'finance',
  provides: [
    provide(['costCentres'], [], deps => ({ costCentres: createCostCentreService(deps) })),
    provide(['finance'], [], deps => ({ finance: createCostService(deps) })),
    provide(['changeCostDeltas'], ['finance'], deps => ({ changeCostDeltas: createChangeDeltaService(deps) })),
    provide(['financeReports'], ['finance'], deps => ({ financeReports: createReportService(deps) })),
    provide(['serviceModels'], [], deps => ({ serviceModels: createServiceModelService(deps) }))
  ],
  routes: [costCentreRoutes, costRoutes, changeDeltaRoutes, reportRoutes, serviceModelRoutes],
  graphql: {
    resolvers: [costCentreResolvers, costResolvers, changeDeltaResolvers, reportResolvers, serviceModelResolvers]
  }
}
