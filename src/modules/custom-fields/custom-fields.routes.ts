import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { expectedVersion, IfMatchHeaders, withEtag } from '../../lib/http.js'
import { errorResponses, IdParams, PageOf } from '../../lib/schemas.js'
import {
  CreateCustomFieldBody,
  CustomFieldDefinition,
  CustomFieldListQuery,
  UpdateCustomFieldBody
} from './custom-fields.schemas.js'

const tags = ['custom-fields']

/** REST door to custom-field definitions (admin). No delete: retire a field with active=false. */
export default async function customFieldRoutes(base: FastifyInstance) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>()
  const svc = app.services.customFields

  app.get(
    '/custom-fields',
    {
      schema: {
        tags,
        summary: 'List custom-field definitions, by kind, position and key',
        querystring: CustomFieldListQuery,
        response: { 200: PageOf(CustomFieldDefinition), ...errorResponses(403) }
      }
    },
    async request => svc.list(request.ctx(), request.query)
  )

  app.post(
    '/custom-fields',
    {
      schema: {
        tags,
        summary: 'Define a custom field for a ticket kind (admin)',
        body: CreateCustomFieldBody,
        response: { 201: CustomFieldDefinition, ...errorResponses(403, 409, 422) }
      }
    },
    async (request, reply) => {
      reply.code(201)
      return withEtag(reply, await svc.create(request.ctx(), request.body))
    }
  )

  app.get(
    '/custom-fields/:id',
    {
      schema: {
        tags,
        summary: 'Get a custom-field definition',
        params: IdParams,
        response: { 200: CustomFieldDefinition, ...errorResponses(403, 404) }
      }
    },
    async (request, reply) => withEtag(reply, await svc.get(request.ctx(), request.params.id))
  )

  app.patch(
    '/custom-fields/:id',
    {
      schema: {
        tags,
        summary: 'Change label, required, default, options, position or active (admin); kind, key and type are fixed',
        params: IdParams,
        headers: IfMatchHeaders,
        body: UpdateCustomFieldBody,
        response: { 200: CustomFieldDefinition, ...errorResponses(403, 404, 412, 422) }
      }
    },
    async (request, reply) => {
      const expected = expectedVersion(request.headers['if-match'], undefined)
      return withEtag(reply, await svc.update(request.ctx(), request.params.id, request.body, expected))
    }
  )
}
