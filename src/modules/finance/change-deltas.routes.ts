import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { withEtag } from '../../lib/http.js'
import { errorResponses, IdParams, PageOf } from '../../lib/schemas.js'
import { adminRoutes } from '../admin/admin-routes.js'
import {
  ChangeCostDelta,
  ChangeCostDeltaListQuery,
  CreateChangeCostDeltaBody,
  UpdateChangeCostDeltaBody
} from './change-deltas.schemas.js'

const NOTE =
  "What a change does to the costs ahead: add (an exact decimal amount, monthly from effectiveMonth or one_off in it, in its currency) or retire (ciId, one of the change's CIs: its costs stop from effectiveMonth). The forecast counts the deltas of approved changes (scheduled, implement)."

/** REST door to the cost deltas of changes. */
export default async function changeDeltaRoutes(base: FastifyInstance) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>()
  const tags = ['finance']

  app.get(
    '/changes/:id/cost-deltas',
    {
      schema: {
        tags,
        summary: 'The cost deltas of a change (finance, admin; other staff while granted CI cost reading)',
        description: NOTE,
        params: IdParams,
        querystring: ChangeCostDeltaListQuery,
        response: { 200: PageOf(ChangeCostDelta), ...errorResponses(403, 404) }
      }
    },
    async request => app.services.changeCostDeltas.listOfChange(request.ctx(), request.params.id, request.query)
  )

  app.post(
    '/changes/:id/cost-deltas',
    {
      schema: {
        tags,
        summary: 'Add a cost delta to a change (finance, admin)',
        description: NOTE,
        params: IdParams,
        body: CreateChangeCostDeltaBody,
        response: { 201: ChangeCostDelta, ...errorResponses(403, 404, 422) }
      }
    },
    async (request, reply) => {
      const created = await app.services.changeCostDeltas.add(request.ctx(), request.params.id, request.body)
      reply.code(201).header('location', `/api/v1/change-cost-deltas/${created.id}`)
      return withEtag(reply, created)
    }
  )

  adminRoutes(base, {
    path: '/change-cost-deltas',
    tags,
    view: ChangeCostDelta,
    patch: UpdateChangeCostDeltaBody,
    summary: {
      get: 'Get a change cost delta',
      update: 'Change a change cost delta (its action stays)',
      remove: 'Delete a change cost delta'
    },
    description: { update: NOTE },
    service: app => app.services.changeCostDeltas
  })
}
