import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerHookHandler } from 'fastify'
import fp from 'fastify-plugin'
import type { Actor } from '../auth/actor.js'
import { tooManyRequests } from '../lib/errors.js'
import { createRateLimiter } from '../lib/rate-limiter.js'
import { problemFromError, sendProblem } from './errors.js'

interface Limit {
  name: string
  /** Counted in the database on every hit (login); the others sync from memory while far below the limit. */
  exact?: boolean
  /** Requests allowed per window; 0 turns the limit off. */
  max: number
  windowMs: number
  applies(method: string, url: string): boolean
  /** What is counted: null counts nothing (no caller yet; auth answers 401 elsewhere). */
  key(request: FastifyRequest): string | null
}

/** An integrator is its token; a person (session or SSO) is counted as themselves across sessions. */
const callerKey = (actor: Actor | null) =>
  actor ? (actor.via === 'token' ? `token:${actor.credentialId}` : `user:${actor.id ?? actor.username}`) : null

const methodsOf = (m: string | string[]) => (Array.isArray(m) ? m : [m])

/**
 * Request limits shared by every API instance: the counters live in the database (one upsert per
 * request near the limit, see lib/rate-limiter.ts), so N instances behind a balancer still allow the limit, not N
 * times it. Login is counted per client address before anything else; event ingest and GraphQL per
 * token after authentication. An exceeded limit answers 429 problem+json with Retry-After.
 */
export default fp(
  async function rateLimitsPlugin(app: FastifyInstance) {
    const { config } = app
    const counter = app.services.rateCounter
    const limiter = createRateLimiter(counter, app.log)
    app.addHook('onClose', () => limiter.close())
    const limits: Limit[] = [
      {
        name: 'login',
        exact: true,
        max: config.LOGIN_RATE_LIMIT_PER_MINUTE,
        windowMs: 60_000,
        applies: (method, url) => method === 'POST' && url === '/api/v1/auth/login',
        key: request => `login:ip:${request.ip}`
      },
      {
        name: 'ingest',
        max: config.INGEST_RATE_LIMIT_PER_MINUTE,
        windowMs: 60_000,
        applies: (method, url) =>
          (method === 'POST' || method === 'PUT') && (url === '/api/v1/events' || url.startsWith('/api/v1/events/')),
        key: request => {
          const who = callerKey(request.actor)
          return who ? `ingest:${who}` : null
        }
      },
      {
        name: 'graphql',
        max: config.GRAPHQL_RATE_LIMIT_PER_MINUTE,
        windowMs: 60_000,
        applies: (_method, url) => url === '/graphql',
        key: request => {
          const who = callerKey(request.actor)
          return who ? `graphql:${who}` : null
        }
      }
    ]

    function guard(limit: Limit): preHandlerHookHandler {
      return async function rateLimited(request: FastifyRequest, reply: FastifyReply) {
        const key = limit.key(request)
        if (!key) return
        const { hits, resetMs } = limit.exact
          ? await counter.hit(key, limit.windowMs)
          : await limiter.hit(key, limit.windowMs, limit.max)
        reply.header('ratelimit-limit', String(limit.max))
        reply.header('ratelimit-remaining', String(Math.max(0, limit.max - hits)))
        if (hits <= limit.max) return
        const retryAfter = Math.max(1, Math.ceil(resetMs / 1000))
        request.log.info({ limit: limit.name, key }, 'rate limited')
        // Answered here: mercurius would turn a thrown error into a GraphQL body with status 200
        return sendProblem(
          reply,
          request,
          problemFromError(tooManyRequests(`too many requests; retry in ${retryAfter} s`, retryAfter))
        )
      }
    }

    app.addHook('onRoute', route => {
      const methods = methodsOf(route.method)
      const limit = limits.find(l => l.max > 0 && methods.some(m => l.applies(m, route.url)))
      if (!limit) return
      const hook = guard(limit)
      // Login is counted before its body is even parsed; the others once the caller is known
      if (limit.name === 'login') {
        const existing = route.onRequest ? [route.onRequest].flat() : []
        route.onRequest = [...existing, hook]
      } else {
        const existing = route.preHandler ? [route.preHandler].flat() : []
        route.preHandler = [hook, ...existing]
      }
    })
  },
  { name: 'rate-limits', dependencies: ['services', 'auth'] }
)
