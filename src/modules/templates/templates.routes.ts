import type { FastifyInstance } from 'fastify'
import { adminRoutes } from '../admin/admin-routes.js'
import { CreateTemplateBody, Template, TemplateListQuery, UpdateTemplateBody } from './templates.schemas.js'

/** REST door to ticket templates. No delete: retire a template with active=false. */
export default async function templateRoutes(app: FastifyInstance) {
  adminRoutes(app, {
    path: '/templates',
    tags: ['templates'],
    view: Template,
    listQuery: TemplateListQuery,
    create: CreateTemplateBody,
    patch: UpdateTemplateBody,
    summary: {
      list: 'List ticket templates by name (customers see active ones only)',
      create: 'Create a ticket template for one kind (admin)',
      get: 'Get a ticket template',
      update: 'Update a ticket template; values, when given, replace the old ones (admin)'
    },
    service: app => app.services.templates
  })
}
