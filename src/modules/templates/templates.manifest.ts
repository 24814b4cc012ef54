import { provide } from '../../lib/ports.js'
import type { ModuleManifest } from '../manifest.js'
import type { TemplatePort } from '../tickets/tickets.ports.js'
import { templateResolvers } from './templates.resolvers.js'
import templateRoutes from './templates.routes.js'
import type { TemplateRow } from './templates.service.js'
import { createTemplateService, templatePort } from './templates.service.js'

declare module '../../graphql/mappers.js' {
  interface GraphqlRows {
    TicketTemplate: TemplateRow
  }
}

declare module '../../lib/ports.js' {
  interface Services {
    templates: ReturnType<typeof createTemplateService>
    /** The ticket core's port: a create input filled in from a template. */
    templatePort: TemplatePort
  }
}

/** Ticket templates: prefilled create inputs per kind. */
export const templatesManifest: ModuleManifest = {
  name: 'templates',
  provides: [
    provide(['templates', 'templatePort'], [], deps => ({ templates: createTemplateService(deps), templatePort }))
  ],
  routes: [templateRoutes],
  graphql: { resolvers: [templateResolvers] }
}
