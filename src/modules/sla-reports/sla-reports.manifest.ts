import { provide } from '../../lib/ports.js'
import type { ModuleManifest } from '../manifest.js'
import { slaReportResolvers } from './sla-reports.resolvers.js'
import slaReportRoutes from './sla-reports.routes.js'
import { createSlaReportService } from './sla-reports.service.js'

declare module '../../lib/ports.js' {
  interface Services {
    slaReports: ReturnType<typeof createSlaReportService>
  }
}

/** SLA and OLA compliance reports over the clocks, computed on read. */
export const slaReportsManifest: ModuleManifest = {
  name: 'sla-reports',
  provides: [
    provide(['slaReports'], ['ticketReports'], deps => ({
      slaReports: createSlaReportService(deps, deps.ticketReports.access)
    }))
  ],
  routes: [slaReportRoutes],
  graphql: { resolvers: [slaReportResolvers] }
}
