import { provide } from '../../lib/ports.js'
import type { ModuleManifest } from '../manifest.js'
import type { CustomFieldPort } from '../tickets/tickets.ports.js'
import { customFieldResolvers } from './custom-fields.resolvers.js'
import customFieldRoutes from './custom-fields.routes.js'
import { createCustomFieldService } from './custom-fields.service.js'

declare module '../../lib/ports.js' {
  interface Services {
    customFields: ReturnType<typeof createCustomFieldService>
    /** The ticket core's port: values checked and stored against the definitions. */
    customFieldValues: CustomFieldPort
  }
}

/** Admin-defined fields per kind: definitions, and the values tickets carry. */
export const customFieldsManifest: ModuleManifest = {
  name: 'custom-fields',
  provides: [
    provide(['customFields', 'customFieldValues'], [], deps => {
      const customFields = createCustomFieldService(deps)
      return { customFields, customFieldValues: customFields.values }
    })
  ],
  routes: [customFieldRoutes],
  graphql: { resolvers: [customFieldResolvers] }
}
