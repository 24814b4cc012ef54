import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { errorResponses, IdParams, PageOf } from '../../lib/schemas.js'
import { Baseline, BaselineDiff, BaselineListQuery, CreateBaselineBody, DiffQuery } from './baselines.schemas.js'

const tags = ['cmdb']

/** REST door to CMDB baselines. */
export default async function baselineRoutes(base: FastifyInstance) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>()
  const svc = app.services.ciBaselines
  app.post(
    '/baselines',
    {
      schema: {
        tags,
        summary: 'Freeze a named snapshot of a set of CIs (an RSQL filter, or a service and what it stands on)',
        body: CreateBaselineBody,
        response: { 201: Baseline, ...errorResponses(403, 422) }
      }
    },
    async (request, reply) => {
      const made = await svc.create(request.ctx(), request.body)
      reply.code(201).header('location', `/api/v1/baselines/${made.id}`)
      return made
    }
  )
  app.get(
    '/baselines',
    {
      schema: {
        tags,
        summary: 'Baselines, oldest first',
        querystring: BaselineListQuery,
        response: { 200: PageOf(Baseline), ...errorResponses(403) }
      }
    },
    async request => svc.list(request.ctx(), request.query)
  )
  app.get(
    '/baselines/:id',
    {
      schema: {
        tags,
        summary: 'Get a baseline',
        params: IdParams,
        response: { 200: Baseline, ...errorResponses(403, 404) }
      }
    },
    async request => svc.get(request.ctx(), request.params.id)
  )
  app.get(
    '/baselines/:id/diff',
    {
      schema: {
        tags,
        summary: 'What changed since a baseline: against now (its scope evaluated now) or another baseline',
        params: IdParams,
        querystring: DiffQuery,
        response: { 200: BaselineDiff, ...errorResponses(403, 404, 422) }
      }
    },
    async request => svc.diff(request.ctx(), request.params.id, request.query.against)
  )
}
