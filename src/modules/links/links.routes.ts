import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { DateTime, errorResponses, PageOf, StringEnum, Uuid } from '../../lib/schemas.js'
import { KIND_INFO, TICKET_KINDS } from '../tickets/kinds.js'
import { PageQuery } from '../tickets/tickets.schemas.js'
import { LINK_TYPES } from './links.service.js'

export const LinkTypeSchema = StringEnum(LINK_TYPES as unknown as readonly string[], {
  description:
    'As read from this ticket: caused_by, causes, related_to, duplicate_of, duplicated_by, child_of, parent_of'
})
export const LinkBody = Type.Object({ type: LinkTypeSchema, ticketId: Uuid }, { additionalProperties: false })
export const Link = Type.Object({
  id: Uuid,
  type: Type.String(),
  ticketId: Uuid,
  number: Type.String(),
  kind: StringEnum(TICKET_KINDS),
  title: Type.String(),
  status: Type.String(),
  createdAt: DateTime
})

/** Links of every kind's tickets: /incidents/{id}/links, /problems/{id}/links, … */
export default async function linkRoutes(parent: FastifyInstance) {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>()
  const svc = app.services.links
  for (const kind of TICKET_KINDS) {
    const { collection, noun } = KIND_INFO[kind]
    const tags = [collection]
    const params = Type.Object({ id: Uuid }, { additionalProperties: false })
    app.get(
      `/${collection}/:id/links`,
      {
        schema: {
          tags,
          summary: `Links of this ${noun} to other tickets, read from this end`,
          params,
          querystring: PageQuery,
          response: { 200: PageOf(Link), ...errorResponses(404) }
        }
      },
      async request => svc.list(request.ctx(), kind, request.params.id, request.query)
    )
    app.post(
      `/${collection}/:id/links`,
      {
        schema: {
          tags,
          summary: `Link this ${noun} to another ticket (cycles and second parents/originals are 409)`,
          params,
          body: LinkBody,
          response: { 201: Link, ...errorResponses(403, 404, 409, 422) }
        }
      },
      async (request, reply) => {
        reply.code(201)
        return svc.link(request.ctx(), kind, request.params.id, request.body)
      }
    )
    app.delete(
      `/${collection}/:id/links/:linkId`,
      {
        schema: {
          tags,
          summary: 'Remove a link (from either end)',
          params: Type.Object({ id: Uuid, linkId: Uuid }, { additionalProperties: false }),
          response: { 204: Type.Null(), ...errorResponses(403, 404) }
        }
      },
      async (request, reply) => {
        await svc.unlink(request.ctx(), kind, request.params.id, request.params.linkId)
        reply.code(204)
        return null
      }
    )
  }
}
