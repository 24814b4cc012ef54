import type { FastifyInstance } from 'fastify'
import { adminRoutes } from '../admin/admin-routes.js'
import {
  CreateCustomFieldBody,
  CustomFieldDefinition,
  CustomFieldListQuery,
  UpdateCustomFieldBody
} from './custom-fields.schemas.js'

/** REST door to custom-field definitions (admin). No delete: retire a field with active=false. */
export default async function customFieldRoutes(app: FastifyInstance) {
  adminRoutes(app, {
    path: '/custom-fields',
    tags: ['custom-fields'],
    view: CustomFieldDefinition,
    listQuery: CustomFieldListQuery,
    create: CreateCustomFieldBody,
    patch: UpdateCustomFieldBody,
    summary: {
      list: 'List custom-field definitions, by kind, position and key',
      create: 'Define a custom field for a ticket kind (admin)',
      get: 'Get a custom-field definition',
      update: 'Change label, required, default, options, position or active (admin); kind, key and type are fixed'
    },
    service: app => app.services.customFields
  })
}
