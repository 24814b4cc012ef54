import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { expectedVersion, withEtag } from '../../lib/http.js'
import { errorResponses, IdParams, PageOf } from '../../lib/schemas.js'
import { CreateOfferingBody, Offering, OfferingListQuery, UpdateOfferingBody } from './catalog.schemas.js'

/** REST door to the service catalog's offerings. */
export default async function catalogRoutes(base: FastifyInstance) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>()
  const { catalog } = app.services
  const tags = ['catalog']

  app.get(
    '/catalog/offerings',
    {
      schema: {
        tags,
        summary: 'List catalog offerings by name (customers see active ones only)',
        querystring: OfferingListQuery,
        response: { 200: PageOf(Offering), ...errorResponses(403) }
      }
    },
    async request => catalog.list(request.ctx(), request.query)
  )
  app.post(
    '/catalog/offerings',
    {
      schema: {
        tags,
        summary: 'Create a catalog offering with its approval rule and fulfilment tasks (admin)',
        body: CreateOfferingBody,
        response: { 201: Offering, ...errorResponses(403, 409, 422) }
      }
    },
    async (request, reply) => {
      reply.code(201)
      return withEtag(reply, await catalog.create(request.ctx(), request.body))
    }
  )
  app.get(
    '/catalog/offerings/:id',
    {
      schema: {
        tags,
        summary: 'Get a catalog offering',
        params: IdParams,
        response: { 200: Offering, ...errorResponses(403, 404) }
      }
    },
    async (request, reply) => withEtag(reply, await catalog.get(request.ctx(), request.params.id))
  )
  app.patch(
    '/catalog/offerings/:id',
    {
      schema: {
        tags,
        summary: 'Update a catalog offering; null clears teamId or approval (admin)',
        params: IdParams,
        headers: Type.Object({
          'if-match': Type.Optional(Type.String({ description: 'ETag of the version you edit' }))
        }),
        body: UpdateOfferingBody,
        response: { 200: Offering, ...errorResponses(403, 404, 409, 412, 422) }
      }
    },
    async (request, reply) => {
      const expected = expectedVersion(request.headers['if-match'], undefined)
      return withEtag(reply, await catalog.update(request.ctx(), request.params.id, request.body, expected))
    }
  )
}
