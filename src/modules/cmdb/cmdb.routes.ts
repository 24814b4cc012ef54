import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { expectedVersion, IfMatchHeaders, withEtag, withVersion } from '../../lib/http.js'
import { errorResponses, IdParams, PageOf } from '../../lib/schemas.js'
import {
  Ci,
  CiHistoryEntry,
  CiListPage,
  CiListQuery,
  CiRelationship,
  CiTicket,
  CiTicketsQuery,
  CreateCiBody,
  Impact,
  ImpactQuery,
  RelateBody,
  RelationshipListQuery,
  RelationshipParams,
  UpdateCiBody
} from './cmdb.schemas.js'

const tags = ['cmdb']

/** REST door to configuration items and their relationships. */
export default async function cmdbRoutes(base: FastifyInstance) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>()
  const svc = app.services.cis

  app.post(
    '/cis',
    {
      schema: {
        tags,
        summary: 'Create a configuration item (admin or a cmdb:import token)',
        body: CreateCiBody,
        response: { 201: Ci, ...errorResponses(403, 422) }
      }
    },
    async (request, reply) => {
      const ci = await svc.create(request.ctx(), request.body)
      reply.code(201).header('location', `/api/v1/cis/${ci.id}`)
      return ci
    }
  )

  app.get(
    '/cis',
    {
      schema: {
        tags,
        summary:
          'List configuration items (keyset pagination; filters match exactly, q matches part of a name, filter is RSQL)',
        querystring: CiListQuery,
        response: { 200: CiListPage, ...errorResponses(403) }
      }
    },
    async request => svc.list(request.ctx(), request.query)
  )

  app.get(
    '/cis/:id',
    {
      schema: {
        tags,
        summary: 'Get a configuration item',
        params: IdParams,
        response: { 200: Ci, ...errorResponses(403, 404) }
      }
    },
    async (request, reply) => withEtag(reply, await svc.get(request.ctx(), request.params.id))
  )

  app.patch(
    '/cis/:id',
    {
      schema: {
        tags,
        summary: 'Update a configuration item (admin or a cmdb:import token)',
        params: IdParams,
        headers: IfMatchHeaders,
        body: withVersion(UpdateCiBody),
        response: { 200: Ci, ...errorResponses(403, 404, 412, 422, 428) }
      }
    },
    async (request, reply) => {
      const { version, ...input } = request.body
      const expected = expectedVersion(request.headers['if-match'], version)
      return withEtag(reply, await svc.update(request.ctx(), request.params.id, input, expected))
    }
  )

  app.get(
    '/cis/:id/impact',
    {
      schema: {
        tags,
        summary: 'Impact analysis: the CIs this one stands on (downstream) and that stand on it (upstream), to depth N',
        description:
          'One recursive query, cycle-safe: each CI once per direction at its shortest distance, with its path from this CI.',
        params: IdParams,
        querystring: ImpactQuery,
        response: { 200: Impact, ...errorResponses(403, 404, 422) }
      }
    },
    async request => app.services.ciGraph.impact(request.ctx(), request.params.id, request.query)
  )

  app.get(
    '/cis/:id/tickets',
    {
      schema: {
        tags,
        summary: 'Tickets naming this configuration item (open ones unless state=all), newest first',
        params: IdParams,
        querystring: CiTicketsQuery,
        response: { 200: PageOf(CiTicket), ...errorResponses(403, 404, 422) }
      }
    },
    async request => app.services.ciGraph.tickets(request.ctx(), request.params.id, request.query)
  )

  app.get(
    '/cis/:id/history',
    {
      schema: {
        tags,
        summary: 'Every change of a configuration item: who or which discovery source, when, field, old, new',
        params: IdParams,
        querystring: RelationshipListQuery,
        response: { 200: PageOf(CiHistoryEntry), ...errorResponses(403, 404) }
      }
    },
    async request => svc.history(request.ctx(), request.params.id, request.query)
  )

  app.get(
    '/cis/:id/relationships',
    {
      schema: {
        tags,
        summary: 'Relationships of a configuration item, both directions',
        params: IdParams,
        querystring: RelationshipListQuery,
        response: { 200: PageOf(CiRelationship), ...errorResponses(403, 404) }
      }
    },
    async request => svc.relationships(request.ctx(), request.params.id, request.query)
  )

  app.post(
    '/cis/:id/relationships',
    {
      schema: {
        tags,
        summary: 'Relate this configuration item (the source) to a target',
        params: IdParams,
        body: RelateBody,
        response: { 201: CiRelationship, ...errorResponses(403, 404, 409, 422) }
      }
    },
    async (request, reply) => {
      reply.code(201)
      return svc.relate(request.ctx(), request.params.id, request.body)
    }
  )

  app.delete(
    '/cis/:id/relationships/:relationshipId',
    {
      schema: {
        tags,
        summary: 'Remove a relationship of this configuration item',
        params: RelationshipParams,
        response: { 204: Type.Null(), ...errorResponses(403, 404) }
      }
    },
    async (request, reply) => {
      await svc.unrelate(request.ctx(), request.params.id, request.params.relationshipId)
      return reply.code(204).send(null)
    }
  )
}
