import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { errorResponses } from '../../lib/schemas.js'
import { adminRoutes } from '../admin/admin-routes.js'
import {
  Preview,
  PreviewBody,
  TemplateBody,
  TemplateListQuery,
  TemplatePatch,
  TemplateView
} from './notification-templates.schemas.js'

/** REST door to the notification template overrides and their preview (admins). */
export default async function templateRoutes(base: FastifyInstance) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>()
  app.post(
    '/notification-templates/preview',
    {
      schema: {
        tags: ['notifications'],
        summary: 'Render a notification template with sample values: given parts, else the template in force (admin)',
        body: PreviewBody,
        response: { 200: Preview, ...errorResponses(403, 422) }
      }
    },
    async request => base.services.notificationTemplates.preview(request.ctx(), request.body)
  )
  adminRoutes(base, {
    path: '/notification-templates',
    tags: ['notifications'],
    view: TemplateView,
    listQuery: TemplateListQuery,
    create: TemplateBody,
    patch: TemplatePatch,
    summary: {
      list: 'List notification template overrides, by event (admin)',
      create: 'Override the template of an event, locale and channel (admin)',
      get: 'Get a notification template override (admin)',
      update: 'Update a notification template override (admin)',
      remove:
        'Delete a notification template override: the English override or the shipped template applies again (admin)'
    },
    description: {
      create:
        'A recipient gets the override of their locale, else the English override, else the shipped English template. Placeholders are {{name}}; an unknown one is 422 naming the part.'
    },
    service: app => app.services.notificationTemplates
  })
}
