import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'

const Status = Type.Object({ status: Type.String() })

/** Liveness and readiness for load balancers and orchestrators; no authentication. */
export default async function healthRoutes(app: FastifyInstance) {
  let closing = false
  app.addHook('onClose', async () => {
    closing = true
  })
  app.addHook('preClose', async () => {
    closing = true
  })

  app.get(
    '/health',
    {
      config: { public: true },
      schema: { tags: ['operations'], summary: 'The process is up', security: [], response: { 200: Status } }
    },
    async () => ({ status: 'ok' })
  )

  app.get(
    '/ready',
    {
      config: { public: true },
      schema: {
        tags: ['operations'],
        summary: 'The database answers and the server is not shutting down',
        security: [],
        response: { 200: Status, 503: Status }
      }
    },
    async (request, reply) => {
      if (closing) return reply.code(503).send({ status: 'shutting down' })
      if (!app.lifecycle.started) return reply.code(503).header('retry-after', '5').send({ status: 'starting' })
      try {
        await app.database.ping()
        return { status: 'ready' }
      } catch (err) {
        request.log.warn({ err }, 'database not ready')
        return reply.code(503).header('retry-after', '5').send({ status: 'database unavailable' })
      }
    }
  )
}
