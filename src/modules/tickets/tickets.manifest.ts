import { provide } from '../../lib/ports.js'
import type { ModuleManifest } from '../manifest.js'
import { bulkResolvers } from './bulk.resolvers.js'
import bulkRoutes from './bulk.routes.js'
import { createBulkService } from './bulk.service.js'
import type { TicketView } from './tickets.repository.js'
import { crossKindResolvers } from './tickets.resolvers.js'
import { crossKindRoutes } from './tickets.routes.js'
import { createTicketService, type TicketService } from './tickets.service.js'

declare module '../../graphql/mappers.js' {
  interface GraphqlRows {
    Ticket: TicketView
  }
}

declare module '../../lib/ports.js' {
  interface Services {
    tickets: TicketService
    ticketBulk: ReturnType<typeof createBulkService>
  }
}

/**
 * The ticket core every kind shares, and bulk edits. Built with the ports other modules provide
 * (custom fields, categories, templates, approvals); kinds and subscribers plug in through their
 * manifests' `tickets` entry.
 */
export const ticketsManifest: ModuleManifest = {
  name: 'tickets',
  provides: [
    provide(
      ['tickets'],
      [
        'teams',
        'workflows',
        'customFieldValues',
        'categoryPort',
        'servicePort',
        'templatePort',
        'approvalPort',
        'ciLinkPort',
        'slaReadPort'
      ],
      deps => ({
        tickets: createTicketService({
          ...deps,
          ports: {
            customFields: deps.customFieldValues,
            categories: deps.categoryPort,
            services: deps.servicePort,
            templates: deps.templatePort,
            approvals: deps.approvalPort,
            ciLinks: deps.ciLinkPort,
            slaReads: deps.slaReadPort
          }
        })
      })
    ),
    provide(['ticketBulk'], ['tickets', 'teams', 'workflows'], deps => ({ ticketBulk: createBulkService(deps) }))
  ],
  routes: [crossKindRoutes, bulkRoutes],
  graphql: { resolvers: [crossKindResolvers, bulkResolvers] }
}
