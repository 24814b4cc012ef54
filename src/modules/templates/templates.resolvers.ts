import type { Resolvers } from '../../graphql/types.js'
import { adminResolvers } from '../admin/admin-resolvers.js'
import { CreateTemplateBody, TemplateListQuery, UpdateTemplateBody } from './templates.schemas.js'
import { templateKeyset } from './templates.service.js'

/** GraphQL door to ticket templates: the REST schemas check the arguments, the same service acts. */
export function templateResolvers(): Resolvers {
  return adminResolvers({
    service: services => services.templates,
    names: { get: 'template', list: 'templates', create: 'createTemplate', update: 'updateTemplate' },
    listQuery: TemplateListQuery,
    create: CreateTemplateBody,
    patch: UpdateTemplateBody,
    cursorOf: templateKeyset.cursorOf
  })
}
