import { randomUUID } from 'node:crypto'
import underPressure from '@fastify/under-pressure'
import Fastify, { type FastifyReply, type FastifyRequest, type FastifyServerOptions, LogController } from 'fastify'
import type { Config } from './config.js'
import type { Database } from './db/client.js'
import { unavailable } from './lib/errors.js'
import { lazyChildLogger } from './lib/lazy-logger.js'
import { Problem } from './lib/schemas.js'
import { modules } from './modules/index.js'
import authPlugin from './plugins/auth.js'
import docsPlugin from './plugins/docs.js'
import errorsPlugin, { clientErrorProblem, problemFromError, sendProblem } from './plugins/errors.js'
import graphqlPlugin from './plugins/graphql.js'
import healthRoutes from './plugins/health.js'
import httpPlugin from './plugins/http.js'
import metricsPlugin from './plugins/metrics.js'
import rateLimitsPlugin from './plugins/rate-limits.js'
import servicesPlugin from './plugins/services.js'
import validationPlugin from './plugins/validation.js'

export interface BuildOptions {
  config: Config
  database: Database
  /** The read replica's handle (openReadDatabase); absent: reports read `database`. */
  readDatabase?: Database
  logger?: FastifyServerOptions['logger']
  /** Answer 503 until `app.lifecycle.started` is set (the server entry, while it waits for the database). */
  startUnready?: boolean
}

/** One log line per request, on its answer, carrying the request too (Fastify writes two by default). */
class OneLinePerRequest extends LogController {
  override incomingRequest() {}
  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply) {
    const responseTime = Math.round(reply.elapsedTime * 10) / 10
    if (error) reply.log.error({ req: request, res: reply, err: error, responseTime }, 'request errored')
    else reply.log.info({ req: request, res: reply, responseTime }, 'request completed')
  }
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/

/** Builds the whole API on a database it is handed. Tests and the server entry use this same function. */
export async function buildApp({ config, database, readDatabase, logger, startUnready }: BuildOptions) {
  const app = Fastify({
    logger: logger ?? {
      level: config.LOG_LEVEL,
      redact: { paths: ['req.headers.authorization', 'req.headers.cookie'], remove: true }
    },
    logController: new OneLinePerRequest(),
    // Request loggers are made when something is logged, not for every request (lib/lazy-logger.ts)
    childLoggerFactory: lazyChildLogger,
    bodyLimit: config.BODY_LIMIT_BYTES,
    requestTimeout: config.REQUEST_TIMEOUT_MS,
    connectionTimeout: config.REQUEST_TIMEOUT_MS,
    requestIdHeader: false,
    genReqId: req => {
      const given = req.headers['x-request-id']
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID()
    },
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    routerOptions: { maxParamLength: 200 },
    // Shutdown: idle keep-alive sockets close at once, busy ones after their answer (Connection: close);
    // requests arriving meanwhile get our problem+json 503 (plugins/http.ts), not Fastify's plain JSON
    forceCloseConnections: 'idle',
    return503OnClosing: false,
    // Bad percent-encoding and over-long parameters: problem+json like every other error
    clientErrorHandler: clientErrorProblem,
    frameworkErrors: (err, request, reply) => {
      reply.header('x-request-id', request.id)
      return sendProblem(reply, request, problemFromError(err))
    }
  })

  // Callback style (no promise per request) on the hottest hooks
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id)
    reply.header('x-content-type-options', 'nosniff')
    done()
  })
  // GraphQL documents are small: a tighter body limit than the REST default
  app.addHook('onRoute', route => {
    if (route.url === '/graphql') route.bodyLimit = config.GRAPHQL_BODY_LIMIT_BYTES
  })

  // JSON is the only body format: text/plain (what cross-site forms send) answers 415
  app.removeContentTypeParser('text/plain')
  app.addSchema(Problem)
  await app.register(errorsPlugin)
  await app.register(validationPlugin)
  await app.register(httpPlugin, { config, database, startUnready: startUnready ?? false })
  await app.register(underPressure, {
    maxEventLoopDelay: config.MAX_EVENT_LOOP_DELAY_MS,
    retryAfter: 5,
    pressureHandler: request => {
      // Liveness is never shed: a busy process is alive, and killing it would only add load elsewhere
      if (request.url === '/health') return
      throw unavailable('server overloaded, retry later')
    }
  })
  await app.register(servicesPlugin, { config, database, readDatabase })
  await app.register(metricsPlugin)
  await app.register(docsPlugin)
  await app.register(authPlugin)
  await app.register(rateLimitsPlugin)
  await app.register(healthRoutes)
  // Each module's REST routes, in the module list's order (the order openapi.yaml lists them)
  for (const route of modules.flatMap(m => m.routes ?? [])) await app.register(route, { prefix: '/api/v1' })
  await app.register(graphqlPlugin)
  return app
}

export type App = Awaited<ReturnType<typeof buildApp>>
