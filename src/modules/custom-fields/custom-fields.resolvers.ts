import type { Resolvers } from '../../graphql/types.js'
import { adminResolvers } from '../admin/admin-resolvers.js'
import { CreateCustomFieldBody, CustomFieldListQuery, UpdateCustomFieldBody } from './custom-fields.schemas.js'
import { customFieldOrder } from './custom-fields.service.js'

/** GraphQL door to custom-field definitions: the REST schemas check the arguments, the same service acts. */
export function customFieldResolvers(): Resolvers {
  return adminResolvers({
    service: services => services.customFields,
    names: {
      get: 'customFieldDefinition',
      list: 'customFieldDefinitions',
      create: 'createCustomFieldDefinition',
      update: 'updateCustomFieldDefinition'
    },
    listQuery: CustomFieldListQuery,
    create: CreateCustomFieldBody,
    patch: UpdateCustomFieldBody,
    // An explicit null defaultValue clears the default; other nulls mean "not given"
    clearable: ['defaultValue'],
    cursorOf: customFieldOrder.cursorOf
  })
}
