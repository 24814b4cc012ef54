import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { errorResponses, IdParams, PageOf } from '../../lib/schemas.js'
import { ChangeFreeze, CreateFreezeBody, FreezeListQuery, UpdateFreezeBody } from './freezes.schemas.js'

const tags = ['changes']

/** REST door to change freeze periods (staff read, admins write). */
export default async function freezeRoutes(base: FastifyInstance) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>()
  const svc = app.services.changeFreezes

  app.get(
    '/change-freezes',
    {
      schema: {
        tags,
        summary: 'Change freezes overlapping a window (by start time, keyset pagination)',
        querystring: FreezeListQuery,
        response: { 200: PageOf(ChangeFreeze), ...errorResponses(403, 422) }
      }
    },
    async request => svc.list(request.ctx(), request.query)
  )

  app.post(
    '/change-freezes',
    {
      schema: {
        tags,
        summary: 'Declare a change freeze (admin)',
        body: CreateFreezeBody,
        response: { 201: ChangeFreeze, ...errorResponses(403, 422) }
      }
    },
    async (request, reply) => {
      const freeze = await svc.create(request.ctx(), request.body)
      reply.code(201).header('location', `/api/v1/change-freezes/${freeze.id}`)
      return freeze
    }
  )

  app.get(
    '/change-freezes/:id',
    {
      schema: {
        tags,
        summary: 'Get a change freeze',
        params: IdParams,
        response: { 200: ChangeFreeze, ...errorResponses(403, 404) }
      }
    },
    async request => svc.get(request.ctx(), request.params.id)
  )

  app.patch(
    '/change-freezes/:id',
    {
      schema: {
        tags,
        summary: 'Update a change freeze (admin)',
        params: IdParams,
        body: UpdateFreezeBody,
        response: { 200: ChangeFreeze, ...errorResponses(403, 404, 422) }
      }
    },
    async request => svc.update(request.ctx(), request.params.id, request.body)
  )

  app.delete(
    '/change-freezes/:id',
    {
      schema: {
        tags,
        summary: 'Delete a change freeze (admin)',
        params: IdParams,
        response: { 204: Type.Null(), ...errorResponses(403, 404) }
      }
    },
    async (request, reply) => {
      await svc.remove(request.ctx(), request.params.id)
      return reply.code(204).send(null)
    }
  )
}
