import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { unauthenticated } from '../lib/errors.js'
import { createMetrics, type Metrics } from '../lib/metrics.js'
import { listenForScrapes, type MetricsListener, tokenMatches } from '../lib/metrics-listener.js'
import { phaseOfStatus } from '../modules/workflows/workflows.service.js'

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics
  }
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
      phaseOf: phaseOfStatus(workflows)
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
      let listener: MetricsListener | null = null
      app.addHook('onListen', async () => {
        if (listener) return
        listener = await listenForScrapes(metrics, { port, host: app.config.HOST, log: app.log })
        app.log.info({ port }, 'metrics listener started')
      })
      app.addHook('onClose', async () => listener?.close())
    }
  },
  { name: 'metrics', dependencies: ['services'] }
)
