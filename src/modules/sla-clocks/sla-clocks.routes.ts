import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { errorResponses } from '../../lib/schemas.js'
import { TicketRefParams, TicketSla } from './sla-clocks.schemas.js'

/** REST door to a ticket's SLA and OLA clocks. */
export default async function slaClockRoutes(base: FastifyInstance) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>()
  app.get(
    '/tickets/:ref/sla',
    {
      schema: {
        tags: ['tickets'],
        operationId: 'ticketSla',
        summary: "A ticket's SLA clocks (and OLA clocks, for staff): state, due time, business minutes used, segments",
        params: TicketRefParams,
        response: { 200: TicketSla, ...errorResponses(403, 404) }
      }
    },
    async request => base.services.slaClocks.ticketSla(request.ctx(), request.params.ref)
  )
}
