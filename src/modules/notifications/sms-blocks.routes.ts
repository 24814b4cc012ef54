import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { DateTime, errorResponses, PageOf, Uuid } from '../../lib/schemas.js'

export const SmsBlock = Type.Object({
  phone: Type.String({ description: 'E.164' }),
  reason: Type.String({ description: 'What the gateway answered' }),
  createdAt: DateTime
})
const Params = Type.Object({ id: Uuid }, { additionalProperties: false })
const OneParams = Type.Object(
  { id: Uuid, phone: Type.String({ pattern: '^\\+[1-9][0-9]{1,14}$', description: 'E.164' }) },
  { additionalProperties: false }
)

/** REST door to a user's SMS blocks: list, clear one. */
export default async function smsBlockRoutes(base: FastifyInstance) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>()
  app.get(
    '/users/:id/sms-blocks',
    {
      schema: {
        tags: ['notifications'],
        summary:
          'Numbers of a user an SMS gateway refused for good: not texted until the number is edited or the block cleared',
        params: Params,
        response: { 200: PageOf(SmsBlock), ...errorResponses(403, 404) }
      }
    },
    async request => base.services.smsBlocks.list(request.ctx(), request.params.id)
  )
  app.delete(
    '/users/:id/sms-blocks/:phone',
    {
      schema: {
        tags: ['notifications'],
        summary: 'Clear an SMS block: the number is texted again (the user themselves or a user admin)',
        params: OneParams,
        response: { 204: Type.Null(), ...errorResponses(403, 404) }
      }
    },
    async (request, reply) => {
      await base.services.smsBlocks.clear(request.ctx(), request.params.id, request.params.phone)
      return reply.code(204).send(null)
    }
  )
}
