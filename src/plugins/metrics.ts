import { createHash, timingSafeEqual } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { unauthenticated } from '../lib/errors.js'
import { createMetrics, type Metrics } from '../lib/metrics.js'
import type { TicketKind } from '../modules/kinds/kinds.js'

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics
  }
}

const digest = (s: string) => createHash('sha256').update(s).digest()

/** Bearer token check in constant time (both sides hashed to one length first). */
function tokenMatches(header: string | undefined, token: string): boolean {
  const given = header?.startsWith('Bearer ') ? header.slice(7).trim() : ''
  return timingSafeEqual(digest(given), digest(token))
}

/**
 * Prometheus metrics: every answered request is counted and timed by route pattern and status.
 * GET /metrics answers on the API port behind METRICS_TOKEN; without a token it is not there (404),
 * and METRICS_PORT serves it from a listener of its own (bind it where only Prometheus reaches).
 */
export default fp(
  async function metricsPlugin(app: FastifyInstance) {
    const { workflows, events } = app.services
    const metrics = createMetrics(app.database, {
      readDatabase: app.readDatabase,
      phaseOf: async (kind, status) => (await workflows.get(kind as TicketKind)).status(status)?.phase
    })
    app.decorate('metrics', metrics)
    events.onIngested(counts => metrics.observeEvents(counts))

    app.addHook('onResponse', (request, reply, done) => {
      metrics.observeRequest(
        request.method,
        request.routeOptions.url ?? 'unmatched',
        reply.statusCode,
        reply.elapsedTime / 1000
      )
      done()
    })

    const token = app.config.METRICS_TOKEN
    if (token !== undefined) {
      app.get('/metrics', { config: { public: true }, schema: { hide: true } }, async (request, reply) => {
        if (!tokenMatches(request.headers.authorization, token)) {
          reply.header('www-authenticate', 'Bearer realm="metrics"')
          throw unauthenticated('a valid metrics bearer token is required')
        }
        const body = await metrics.registry.metrics()
        return reply.type(metrics.registry.contentType).send(body)
      })
    }

    const port = app.config.METRICS_PORT
    if (port !== undefined) {
      let server: Server | null = null
      app.addHook('onListen', async () => {
        if (server) return
        server = createServer((req, res) => {
          if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
            res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n')
            return
          }
          metrics.registry.metrics().then(
            body => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body),
            (err: unknown) => {
              app.log.error({ err }, 'metrics collection failed')
              res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics collection failed\n')
            }
          )
        })
        const listening = server
        await new Promise<void>((resolve, reject) => {
          listening.once('error', reject)
          listening.listen(port, app.config.HOST, () => resolve())
        })
        app.log.info({ port }, 'metrics listener started')
      })
      app.addHook('onClose', async () => {
        const open = server
        if (open) await new Promise<void>(resolve => open.close(() => resolve()))
      })
    }
  },
  { name: 'metrics', dependencies: ['services'] }
)
