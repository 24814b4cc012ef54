import { provide } from '../../lib/ports.js'
import type { ModuleManifest } from '../manifest.js'
import { ticketReportResolvers } from './ticket-reports.resolvers.js'
import ticketReportRoutes from './ticket-reports.routes.js'
import { createTicketReportService } from './ticket-reports.service.js'

declare module '../../lib/ports.js' {
  interface Services {
    ticketReports: ReturnType<typeof createTicketReportService>
  }
}

/** Ticket summary, ageing and trend reports (aggregate SQL on read) and who may read them. */
export const ticketReportsManifest: ModuleManifest = {
  name: 'ticket-reports',
  provides: [
    provide(['ticketReports'], ['tickets', 'slaClocks'], deps => ({ ticketReports: createTicketReportService(deps) }))
  ],
  routes: [ticketReportRoutes],
  graphql: { resolvers: [ticketReportResolvers] }
}
