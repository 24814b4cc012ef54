import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { unauthenticated } from '../../../lib/errors.js'
import { errorResponses } from '../../../lib/schemas.js'
import { sendAgentError } from './inventory-errors.js'

const CHALLENGE = 'Basic realm="inventory"'

/**
 * The API token an agent sends: `Bearer <token>`, or HTTP Basic with the token as the password (what
 * agents can send: `--user x --password <token>`). Null when there is none.
 */
function tokenOf(header: string | undefined): string | null {
  if (!header) return null
  const bearer = /^Bearer[ ]+(\S+)\s*$/i.exec(header)
  if (bearer) return bearer[1]!
  const basic = /^Basic[ ]+([A-Za-z0-9+/=]+)\s*$/i.exec(header)
  if (!basic) return null
  const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  return colon >= 0 ? decoded.slice(colon + 1) || null : null
}

/**
 * The one URL inventory agents are pointed at (`--server …/api/v1/inventory`). Bodies are taken raw
 * (JSON, XML, or zlib/gzip/brotli by Content-Type) and inflated by the service within the limit;
 * without credentials the answer is 401 with a Basic challenge, which is what makes agents send them.
 */
export default async function inventoryRoutes(app: FastifyInstance) {
  const limit = app.config.INVENTORY_BODY_LIMIT_BYTES
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: limit }, (_request, body, done) => done(null, body))

  app.post(
    '/inventory',
    {
      bodyLimit: limit,
      compress: false,
      config: { public: true },
      // Refusals in the shape the agent reads ({"status":"error"} or <REPLY><ERROR>), same status
      errorHandler: sendAgentError,
      schema: {
        tags: ['cmdb'],
        summary:
          'Inventory agents post here unchanged: GLPI Agent JSON (contact, inventory) and OCS / FusionInventory XML',
        description:
          'Authorization: Bearer <API token>, or Basic with the token as the password; the token needs cmdb:import. ' +
          'Content-Type application/json, application/xml, application/x-compress-zlib (or x-compress), ' +
          'application/x-compress-gzip or application/x-compress-br; XML answers use the encoding of the request. ' +
          'A body inflating past INVENTORY_BODY_LIMIT_BYTES is a 413. Refusals (4xx) come in the shape the agent reads, ' +
          'with the same status: GLPI Agent {"status":"error","message":…,"code":…,"errors":[…]} (application/json); ' +
          'OCS / FusionInventory <REPLY><ERROR>…</ERROR></REPLY> (application/xml, or zlib when the request was); ' +
          'any other client RFC 9457 problem+json.',
        response: {
          200: Type.Unknown({ description: 'What the agent expects: {"status":"ok",…} or an XML <REPLY>' }),
          ...errorResponses(403, 413, 415, 422)
        }
      }
    },
    async (request: FastifyRequest, reply: FastifyReply) => {
      const token = tokenOf(request.headers.authorization)
      const actor = token ? await app.services.authenticator.authenticate(token, request.ip) : null
      if (!actor) {
        reply.header('www-authenticate', CHALLENGE)
        throw unauthenticated(
          token ? 'invalid, expired or revoked token' : 'send the API token (Basic password or Bearer)'
        )
      }
      request.actor = actor
      const agentId = request.headers['glpi-agent-id']
      const requestId = request.headers['glpi-request-id']
      if (typeof agentId === 'string') reply.header('glpi-agent-id', agentId.slice(0, 64))
      if (typeof requestId === 'string') reply.header('glpi-request-id', requestId.slice(0, 16))
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0)
      const answer = await app.services.inventory.receive(request.ctx(), request.headers['content-type'], body)
      return reply.code(200).type(answer.contentType).send(answer.body)
    }
  )
}
