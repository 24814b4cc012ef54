import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { expectedVersion, withEtag } from '../../lib/http.js'
import { errorResponses, IdParams, PageOf } from '../../lib/schemas.js'
import { CreateTemplateBody, Template, TemplateListQuery, UpdateTemplateBody } from './templates.schemas.js'

/** REST door to ticket templates. */
export default async function templateRoutes(base: FastifyInstance) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>()
  const { templates } = app.services
  const tags = ['templates']

  app.get(
    '/templates',
    {
      schema: {
        tags,
        summary: 'List ticket templates by name (customers see active ones only)',
        querystring: TemplateListQuery,
        response: { 200: PageOf(Template), ...errorResponses(403) }
      }
    },
    async request => templates.list(request.ctx(), request.query)
  )
  app.post(
    '/templates',
    {
      schema: {
        tags,
        summary: 'Create a ticket template for one kind (admin)',
        body: CreateTemplateBody,
        response: { 201: Template, ...errorResponses(403, 409, 422) }
      }
    },
    async (request, reply) => {
      reply.code(201)
      return withEtag(reply, await templates.create(request.ctx(), request.body))
    }
  )
  app.get(
    '/templates/:id',
    {
      schema: {
        tags,
        summary: 'Get a ticket template',
        params: IdParams,
        response: { 200: Template, ...errorResponses(403, 404) }
      }
    },
    async (request, reply) => withEtag(reply, await templates.get(request.ctx(), request.params.id))
  )
  app.patch(
    '/templates/:id',
    {
      schema: {
        tags,
        summary: 'Update a ticket template; values, when given, replace the old ones (admin)',
        params: IdParams,
        headers: Type.Object({
          'if-match': Type.Optional(Type.String({ description: 'ETag of the version you edit' }))
        }),
        body: UpdateTemplateBody,
        response: { 200: Template, ...errorResponses(403, 404, 409, 412, 422) }
      }
    },
    async (request, reply) => {
      const expected = expectedVersion(request.headers['if-match'], undefined)
      return withEtag(reply, await templates.update(request.ctx(), request.params.id, request.body, expected))
    }
  )
}
