import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { Actor } from '../auth/actor.js'
import type { Ctx } from '../lib/context.js'
import { unauthenticated } from '../lib/errors.js'

declare module 'fastify' {
  interface FastifyRequest {
    actor: Actor | null
    /** The service context of an authenticated request; throws 401 when there is no actor. */
    ctx(): Ctx
  }
  interface FastifyContextConfig {
    /** Answer without authentication (health, login, docs). */
    public?: boolean
  }
}

const PUBLIC_PREFIXES = ['/docs', '/openapi.json', '/graphiql']

function bearer(request: FastifyRequest): string | null {
  const header = request.headers.authorization
  if (!header) return null
  const m = /^Bearer[ ]+([^\s]+)\s*$/i.exec(header)
  return m ? m[1]! : ''
}

/**
 * Resolves `Authorization: Bearer` (sessions and API tokens alike) to an actor before any handler
 * runs. Routes are private unless their config says `public`.
 */
export default fp(
  async function authPlugin(app: FastifyInstance) {
    app.decorateRequest('actor', null)
    app.decorateRequest('ctx', function (this: FastifyRequest): Ctx {
      if (!this.actor) throw unauthenticated()
      return { actor: this.actor, log: this.log, db: app.database.db, requestId: this.id, ip: this.ip }
    })

    app.addHook('onRequest', async (request, reply) => {
      const url = request.routeOptions.url
      if (request.routeOptions.config?.public || (url && PUBLIC_PREFIXES.some(p => url.startsWith(p)))) return
      const token = bearer(request)
      if (token === null) {
        // No bearer token: a trusted SSO proxy may vouch for the user instead
        const viaSso = await app.services.sso.authenticate(request.raw, request.log)
        if (viaSso) {
          request.actor = viaSso
          request.log = request.log.child({ user: viaSso.username, via: 'sso' })
          // The request's one log line is written through the reply's logger: it names the user too
          reply.log = request.log
          return
        }
        throw unauthenticated('send Authorization: Bearer <token>')
      }
      const actor = token ? await app.services.authenticator.authenticate(token, request.ip) : null
      if (!actor) throw unauthenticated('invalid, expired or revoked token')
      request.actor = actor
      request.log = request.log.child({ user: actor.username, via: actor.via })
      reply.log = request.log
    })
  },
  { name: 'auth', dependencies: ['services'] }
)
