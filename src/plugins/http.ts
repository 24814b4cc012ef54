import { hash } from 'node:crypto'
import compress from '@fastify/compress'
import cors from '@fastify/cors'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { type Config, corsOrigins } from '../config.js'
import type { Database } from '../db/client.js'
import { AppError, unavailable } from '../lib/errors.js'
import { tooDeepAt } from '../lib/json-depth.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Where the process is in its life: not started (database or migrations pending), closing. */
    lifecycle: { started: boolean; closing: boolean }
  }
}

export interface HttpOptions {
  config: Config
  database: Database
  /** Answer 503 (except /health and /ready) until `lifecycle.started` is set: the server entry does so. */
  startUnready?: boolean
}

/** Headers a browser front end reads from our answers. */
export const EXPOSED_HEADERS = [
  'ETag',
  'Location',
  'Retry-After',
  'Idempotent-Replayed',
  'X-Request-Id',
  'X-Report-As-Of',
  'X-Replica-Lag-Seconds'
]
export const ALLOWED_HEADERS = [
  'Authorization',
  'Content-Type',
  'If-Match',
  'If-None-Match',
  'Idempotency-Key',
  'X-Request-Id'
]
/** Request body encodings we decompress; anything else is 415 (the body limit counts decompressed bytes). */
const REQUEST_ENCODINGS = ['gzip', 'deflate', 'br', 'identity'] as const
const ALWAYS_ANSWERED = new Set(['/health', '/ready'])

/** `"3"` as set by withEtag: the row version, completed below with a digest of the representation. */
const VERSION_TAG = /^"(\d{1,9})"$/

// A validator, not a signature: SHA-1 in one call (no Hash object) is plenty to tell two bodies apart
const digest = (payload: string | Buffer) => hash('sha1', payload, 'base64url').slice(0, 16)

/** RFC 9110 If-None-Match: weak comparison against any listed tag, or `*`. */
function noneMatch(header: string | undefined, tag: string): boolean {
  if (!header) return false
  if (header.trim() === '*') return true
  const bare = tag.replace(/^W\//, '')
  return header.split(',').some(t => t.trim().replace(/^W\//, '') === bare)
}

const isRead = (request: FastifyRequest) => request.method === 'GET' || request.method === 'HEAD'

/**
 * HTTP conventions every route shares: bounded JSON, CORS, compression, ETags that follow the
 * representation and 304s, and the process lifecycle (not started yet, closing, a saturated pool).
 */
export default fp(
  async function httpPlugin(app: FastifyInstance, opts: HttpOptions) {
    const { config, database } = opts
    app.decorate('lifecycle', { started: !opts.startUnready, closing: false })

    // JSON bodies: bounded nesting before parsing; prototype poisoning refused as before
    const maxDepth = config.JSON_MAX_DEPTH
    const parseJson = app.getDefaultJsonParser('error', 'error')
    app.removeContentTypeParser('application/json')
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
      const at = tooDeepAt(body as string, maxDepth)
      if (at !== null) {
        done(
          new AppError(
            'BODY_TOO_DEEP',
            400,
            'Bad Request',
            `${at}: nests deeper than ${maxDepth} levels (JSON_MAX_DEPTH)`,
            [{ field: at, message: `nests deeper than ${maxDepth} levels` }]
          ),
          undefined
        )
        return
      }
      parseJson(request, body as string, done)
    })

    app.addHook('onRequest', (request, reply, done) => {
      const lifecycle = app.lifecycle
      if (lifecycle.closing) {
        reply.header('connection', 'close')
        if (!ALWAYS_ANSWERED.has(request.url)) return done(unavailable('the server is shutting down; retry'))
      }
      if (!lifecycle.started && !ALWAYS_ANSWERED.has(request.url)) {
        return done(unavailable('the server is starting (waiting for the database); retry'))
      }
      // Shed rather than queue behind a saturated pool: the client retries elsewhere or later
      if (config.DB_QUEUE_MAX > 0 && database.waiting() >= config.DB_QUEUE_MAX && request.url !== '/health') {
        return done(unavailable('the database pool is saturated; retry'))
      }
      done()
    })
    app.addHook('preClose', async () => {
      app.lifecycle.closing = true
    })

    // Browsers: only the configured origins; preflights answer here, before authentication
    const origins = corsOrigins(config)
    if (origins.length > 0) {
      await app.register(cors, {
        origin: origins.includes('*') ? '*' : origins,
        methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
        allowedHeaders: ALLOWED_HEADERS,
        exposedHeaders: EXPOSED_HEADERS,
        maxAge: 600,
        strictPreflight: false,
        optionsSuccessStatus: 204
      })
    }

    // ETag = row version + digest of the body sent, so it changes whenever the representation does
    // (linked records, embedded summaries); If-Match still compares the version part.
    app.addHook('onSend', async (request, reply, payload) => {
      if (app.lifecycle.closing) reply.header('connection', 'close')
      const given = reply.getHeader('etag')
      if (typeof given !== 'string' || reply.statusCode >= 300) return payload
      if (typeof payload !== 'string' && !Buffer.isBuffer(payload)) return payload
      const version = VERSION_TAG.exec(given)?.[1]
      const tag = version === undefined ? given : `"${version}-${digest(payload)}"`
      reply.header('etag', tag)
      if (isRead(request) && reply.statusCode === 200 && noneMatch(request.headers['if-none-match'], tag)) {
        reply.code(304)
        reply.removeHeader('content-type')
        reply.removeHeader('content-length')
        return null
      }
      return payload
    })

    // Registered after the ETag hook: route-level onSend hooks (compression) run after app-level ones
    await app.register(compress, {
      threshold: 1024,
      encodings: ['br', 'gzip', 'deflate', 'identity'],
      requestEncodings: [...REQUEST_ENCODINGS],
      onUnsupportedRequestEncoding: encoding =>
        new AppError(
          'UNSUPPORTED_CONTENT_ENCODING',
          415,
          'Unsupported Media Type',
          `Content-Encoding ${encoding.slice(0, 40)} is not taken; send ${REQUEST_ENCODINGS.join(', ')}`
        ),
      onInvalidRequestPayload: encoding =>
        new AppError(
          'MALFORMED_BODY',
          400,
          'Bad Request',
          `the body is not valid ${encoding.slice(0, 40)} data (Content-Encoding)`
        )
    })
  },
  { name: 'http', dependencies: ['errors'] }
)
