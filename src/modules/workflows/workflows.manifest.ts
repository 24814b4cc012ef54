import { provide } from '../../lib/ports.js'
import type { ModuleManifest } from '../manifest.js'
import { workflowResolvers } from './workflows.resolvers.js'
import workflowRoutes from './workflows.routes.js'
import { createWorkflowService, type WorkflowService } from './workflows.service.js'

declare module '../../lib/ports.js' {
  interface Services {
    workflows: WorkflowService
  }
}

/** Each kind's statuses and transitions, editable by admins. */
export const workflowsManifest: ModuleManifest = {
  name: 'workflows',
  provides: [provide(['workflows'], [], deps => ({ workflows: createWorkflowService(deps) }))],
  routes: [workflowRoutes],
  graphql: { resolvers: [workflowResolvers] }
}
