import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { DateTime, errorResponses, PageOf, PageQuery, Uuid } from '../../lib/schemas.js'
import { KIND_INFO, TICKET_KINDS } from '../tickets/kinds.js'

export const WatcherBody = Type.Object(
  { userId: Type.Optional(Uuid) },
  { additionalProperties: false, description: 'userId: who is to watch; the caller when left out' }
)
export const Watcher = Type.Object({ userId: Uuid, displayName: Type.String(), createdAt: DateTime })

/** Watchers of every kind's tickets: /incidents/{id}/watchers, /changes/{id}/watchers, … */
export default async function watcherRoutes(parent: FastifyInstance) {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>()
  const svc = app.services.watchers
  for (const kind of TICKET_KINDS) {
    const { collection, noun } = KIND_INFO[kind]
    const tags = [collection]
    const params = Type.Object({ id: Uuid }, { additionalProperties: false })
    app.get(
      `/${collection}/:id/watchers`,
      {
        schema: {
          tags,
          summary: `Watchers of this ${noun}: people told of it besides its requester and assignee`,
          params,
          querystring: PageQuery,
          response: { 200: PageOf(Watcher), ...errorResponses(400, 404) }
        }
      },
      async request => svc.list(request.ctx(), kind, request.params.id, request.query)
    )
    app.post(
      `/${collection}/:id/watchers`,
      {
        schema: {
          tags,
          summary: `Watch this ${noun} (yourself, or as staff someone who can see it)`,
          params,
          body: WatcherBody,
          response: { 201: Watcher, ...errorResponses(400, 403, 404, 422) }
        }
      },
      async (request, reply) => {
        reply.code(201)
        return svc.add(request.ctx(), kind, request.params.id, request.body)
      }
    )
    app.delete(
      `/${collection}/:id/watchers/:userId`,
      {
        schema: {
          tags,
          summary: `Stop watching this ${noun} (yourself, or as staff someone else)`,
          params: Type.Object({ id: Uuid, userId: Uuid }, { additionalProperties: false }),
          response: { 204: Type.Null(), ...errorResponses(403, 404) }
        }
      },
      async (request, reply) => {
        await svc.remove(request.ctx(), kind, request.params.id, request.params.userId)
        reply.code(204)
        return null
      }
    )
  }
}
