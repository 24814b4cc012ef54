import { provide } from '../../lib/ports.js'
import type { ModuleManifest } from '../manifest.js'
import type { ApprovalPort } from '../tickets/tickets.ports.js'
import { approvalLoaders, approvalResolvers } from './approvals.resolvers.js'
import approvalRoutes from './approvals.routes.js'
import { type ApprovalService, createApprovalPort, createApprovalService } from './approvals.service.js'

declare module '../../lib/ports.js' {
  interface Services {
    approvals: ApprovalService
    /** The ticket core's port: rounds opened, checked and cancelled as tickets move. */
    approvalPort: ApprovalPort
  }
}

/**
 * Approval rounds. The port the ticket core is built with needs nothing; the service (decide, queues)
 * needs the ticket core: two providers, so the wiring stays one-directional.
 */
export const approvalsManifest: ModuleManifest = {
  name: 'approvals',
  provides: [
    provide(['approvalPort'], [], deps => ({ approvalPort: createApprovalPort(deps.config.NOTIFY_MAX_ATTEMPTS) })),
    provide(['approvals'], ['tickets'], deps => ({ approvals: createApprovalService(deps) }))
  ],
  routes: [approvalRoutes],
  graphql: { resolvers: [approvalResolvers], loaders: [approvalLoaders] }
}
