import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { withEtag } from '../../lib/http.js'
import { errorResponses, IdParams } from '../../lib/schemas.js'
import { IdempotencyHeaders } from '../tickets/tickets.routes.js'
import { ChangeFromProblemBody, changeSchemas } from './changes.schemas.js'

/** POST /problems/{id}/changes: a change raised to fix a problem, linked to it in the same transaction. */
export default async function changeFromProblemRoutes(parent: FastifyInstance) {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>()

  app.post(
    '/problems/:id/changes',
    {
      schema: {
        tags: ['changes', 'problems'],
        summary:
          'Raise a change for a problem (title, description, impact, urgency, category default from it) and link it: change caused_by problem',
        params: IdParams,
        headers: IdempotencyHeaders,
        body: ChangeFromProblemBody,
        response: { 201: changeSchemas.full, ...errorResponses(403, 404, 409, 422) }
      }
    },
    async (request, reply) => {
      const result = await app.services.changes.createFromProblem(
        request.ctx(),
        request.params.id,
        request.body,
        request.headers['idempotency-key']
      )
      if (result.replayed) reply.header('idempotent-replayed', 'true')
      reply.code(201).header('location', `/api/v1/changes/${result.body.id}`)
      return withEtag(reply, result.body)
    }
  )
}
