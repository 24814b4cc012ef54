import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { errorResponses } from '../../lib/schemas.js'
import { BulkUpdateBody, BulkUpdateResult } from './bulk.schemas.js'

/** POST /tickets/bulk: many tickets of any kinds changed at once, all or nothing. */
export default async function bulkRoutes(parent: FastifyInstance) {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>()
  app.post(
    '/tickets/bulk',
    {
      schema: {
        tags: ['tickets'],
        summary: 'Update up to 1,000 tickets at once (all or nothing; every problem answered at once as 422)',
        body: BulkUpdateBody,
        response: { 200: BulkUpdateResult, ...errorResponses(403, 422) }
      }
    },
    async request => app.services.ticketBulk.update(request.ctx(), request.body)
  )
}
