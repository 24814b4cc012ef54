import type { Duplex } from 'node:stream'
import type { ErrorObject } from 'ajv'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import Router from 'find-my-way'
import { AppError, type FieldError } from '../lib/errors.js'
import { fieldErrors } from '../lib/validate.js'

export interface ProblemBody {
  type: string
  title: string
  status: number
  detail: string
  instance?: string
  code: string
  errors?: FieldError[]
  [extra: string]: unknown
}

const STATUS_TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  408: 'Request Timeout',
  409: 'Conflict',
  411: 'Length Required',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  428: 'Precondition Required',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable'
}

const METHODS: Router.HTTPMethod[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']

export const problemType = (code: string) => `urn:servicedesk:problem:${code.toLowerCase().replace(/_/g, '-')}`

const PG_STATUS: Record<string, [number, string, string]> = {
  '22P02': [400, 'VALIDATION_FAILED', 'a value has the wrong format'],
  '22001': [400, 'VALIDATION_FAILED', 'a value is too long'],
  '22021': [400, 'VALIDATION_FAILED', 'a value holds a character that cannot be stored (NUL?)'],
  '22P05': [400, 'VALIDATION_FAILED', 'a value holds a character that cannot be stored (NUL?)'],
  '22003': [400, 'VALIDATION_FAILED', 'a number is out of range'],
  '22007': [400, 'VALIDATION_FAILED', 'a date is invalid'],
  '22008': [400, 'VALIDATION_FAILED', 'a date is out of range'],
  '23503': [422, 'VALIDATION_FAILED', 'a referenced record does not exist'],
  '23505': [409, 'CONFLICT', 'a record with these values already exists'],
  '40001': [409, 'CONFLICT', 'a concurrent change conflicted; retry'],
  '40P01': [409, 'CONFLICT', 'a concurrent change conflicted; retry'],
  '57014': [503, 'UNAVAILABLE', 'the database took too long'],
  '53300': [503, 'UNAVAILABLE', 'the database is busy'],
  '57P01': [503, 'UNAVAILABLE', 'the database is restarting'],
  '57P02': [503, 'UNAVAILABLE', 'the database is restarting'],
  '57P03': [503, 'UNAVAILABLE', 'the database is starting'],
  // the database itself is gone (dropped or renamed under a running server)
  '3D000': [503, 'UNAVAILABLE', 'the database is unavailable']
}
/** Connection-level classes: 08 connection exception, 53 insufficient resources, 57P operator intervention. */
const UNAVAILABLE_CLASS = /^(08|53|57P)/
/** Unique indexes whose violation names a field (a lost race after the service's own check). */
const UNIQUE_FIELDS: Record<string, string> = {
  users_username_uq: 'username',
  organisations_name_uq: 'name',
  teams_name_uq: 'name',
  categories_sibling_name_uq: 'name',
  ticket_templates_kind_name_uq: 'name',
  catalog_offerings_name_uq: 'name'
}
const NET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND'])

/** A database error under whatever wraps it (drizzle puts the driver's error in `cause`). */
function databaseProblem(err: unknown): ProblemBody | null {
  for (let e = err as { code?: unknown; cause?: unknown; message?: unknown } | undefined, i = 0; e && i < 4; i++) {
    const code = typeof e.code === 'string' ? e.code : ''
    const mapped =
      PG_STATUS[code] ?? (UNAVAILABLE_CLASS.test(code) ? [503, 'UNAVAILABLE', 'the database is unreachable'] : null)
    const unreachable =
      NET_CODES.has(code) ||
      (typeof e.message === 'string' &&
        /timeout exceeded when trying to connect|Connection terminated|connection error and is not queryable|PGlite is closed/i.test(
          e.message
        ))
    if (mapped || unreachable) {
      const [status, c, detail] = (mapped ?? [503, 'UNAVAILABLE', 'the database is unreachable']) as [
        number,
        string,
        string
      ]
      const field = code === '23505' ? UNIQUE_FIELDS[String((e as { constraint?: unknown }).constraint)] : undefined
      return {
        type: problemType(c),
        title: STATUS_TITLES[status] ?? 'Error',
        status,
        detail: field ? `${field}: already taken` : detail,
        code: c,
        ...(field ? { errors: [{ field, message: 'already taken' }] } : {})
      }
    }
    e = e.cause as typeof e
  }
  return null
}

export function problemFromError(err: FastifyError | AppError | Error): ProblemBody {
  const fromDb = err instanceof AppError ? null : databaseProblem(err)
  if (fromDb) return fromDb
  if (err instanceof AppError) {
    return {
      type: problemType(err.code),
      title: err.title,
      status: err.status,
      detail: err.message,
      code: err.code,
      ...(err.errors ? { errors: err.errors } : {}),
      ...(err.extra ?? {})
    }
  }
  const fe = err as FastifyError
  if (fe.validation) {
    const unique = fieldErrors(fe.validation as ErrorObject[], fe.validationContext)
    return {
      type: problemType('VALIDATION_FAILED'),
      title: 'Bad Request',
      status: 400,
      detail: unique.map(e => `${e.field}: ${e.message}`).join('; '),
      code: 'VALIDATION_FAILED',
      errors: unique
    }
  }
  const status = fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 600 ? fe.statusCode : 500
  if (status >= 500 && status !== 503) {
    return {
      type: 'about:blank',
      title: 'Internal Server Error',
      status: 500,
      detail: 'internal error',
      code: 'INTERNAL'
    }
  }
  const code =
    fe.code?.startsWith('FST_ERR_CTP_INVALID_JSON') || err instanceof SyntaxError
      ? 'MALFORMED_JSON'
      : (fe.code ?? 'HTTP_ERROR')
  const known = FRAMEWORK_PROBLEMS[code]
  return {
    type: problemType(known?.[0] ?? code.replace(/^FST_ERR_/, '')),
    title: STATUS_TITLES[status] ?? 'Error',
    status,
    detail: known?.[1] ?? (status === 503 ? fe.message || 'service unavailable, retry later' : fe.message),
    code: known?.[0] ?? code.replace(/^FST_ERR_/, '')
  }
}

/** Framework errors whose own message would echo the caller's text (the URL, a header): our words instead. */
const FRAMEWORK_PROBLEMS: Record<string, [string, string]> = {
  FST_ERR_BAD_URL: ['BAD_URL', 'the URL is not valid (bad percent-encoding?)'],
  FST_ERR_MAX_PARAM_LENGTH: ['URI_TOO_LONG', 'a path parameter is too long'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: ['CTP_INVALID_MEDIA_TYPE', 'this Content-Type is not taken: send application/json']
}

/**
 * Errors Node's HTTP parser meets before Fastify sees a request (headers too large, a timeout, bytes
 * that are not HTTP): answered as problem+json too, straight on the socket.
 */
export function clientErrorProblem(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  const [status, code, detail] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'REQUEST_TIMEOUT', 'the request took too long to arrive']
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'HEADERS_TOO_LARGE', 'the request headers are too large']
        : [400, 'BAD_REQUEST', 'the request is not valid HTTP']
  const title = STATUS_TITLES[status] ?? 'Error'
  const body = JSON.stringify({ type: problemType(code), title, status, detail, code })
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${title}\r\nContent-Type: application/problem+json; charset=utf-8\r\n` +
        `X-Content-Type-Options: nosniff\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
    )
  }
  socket.destroy(err)
}

export function sendProblem(reply: FastifyReply, request: FastifyRequest, body: ProblemBody): FastifyReply {
  // The occurrence, by request id (as in the logs): never the URL, which is the caller's text
  body.instance = `urn:servicedesk:request:${request.id}`
  reply.header('x-content-type-options', 'nosniff')
  // A route that takes another scheme (the inventory's Basic) sets its own challenge
  if (body.status === 401 && !reply.hasHeader('www-authenticate')) reply.header('www-authenticate', 'Bearer')
  if (body.status === 503) reply.header('retry-after', '5')
  if (typeof body.retryAfter === 'number') reply.header('retry-after', String(body.retryAfter))
  return reply.code(body.status).type('application/problem+json; charset=utf-8').send(JSON.stringify(body))
}

/** One error handler: typed domain errors and framework errors become RFC 9457 problem+json. */
export default fp(
  async function errorsPlugin(app: FastifyInstance) {
    app.setErrorHandler((err, request, reply) => {
      const body = problemFromError(err as FastifyError)
      // A 503 we chose (shedding, starting, shutting down) is a warning, not a failure with a stack
      if (body.status === 503 && err instanceof AppError)
        request.log.warn({ code: body.code, detail: body.detail }, 'shed')
      else if (body.status >= 500) request.log.error({ err }, 'request failed')
      else if (!(err instanceof AppError))
        request.log.info({ code: body.code, detail: body.detail }, 'rejected request')
      return sendProblem(reply, request, body)
    })
    // The route table, to tell a path that does not exist (404) from a method it does not have (405)
    const routes = Router({ maxParamLength: Number.MAX_SAFE_INTEGER })
    app.addHook('onRoute', route => {
      if (route.url === '*') return
      for (const method of [route.method].flat() as Router.HTTPMethod[]) {
        if (!routes.hasRoute(method, route.url)) routes.on(method, route.url, () => {})
      }
    })
    app.setNotFoundHandler((request, reply) => {
      const path = request.url.split('?')[0] ?? '/'
      const allowed = METHODS.filter(m => m !== request.method && routes.find(m, path) !== null)
      if (allowed.length > 0) {
        reply.header('allow', allowed.join(', '))
        return sendProblem(reply, request, {
          type: problemType('METHOD_NOT_ALLOWED'),
          title: 'Method Not Allowed',
          status: 405,
          detail: `this path does not take ${request.method.slice(0, 10)}; it takes ${allowed.join(', ')}`,
          code: 'METHOD_NOT_ALLOWED'
        })
      }
      return sendProblem(reply, request, {
        type: problemType('ROUTE_NOT_FOUND'),
        title: 'Not Found',
        status: 404,
        detail: 'no route has this path',
        code: 'ROUTE_NOT_FOUND'
      })
    })
  },
  { name: 'errors' }
)
