import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { AnySchema } from 'ajv'
import type { FastifyInstance, FastifySchema } from 'fastify'
import { Type } from 'typebox'
import { badRequest } from '../../lib/errors.js'
import { errorResponses, IdParams, PageOf } from '../../lib/schemas.js'
import { makeAjv } from '../../lib/validate.js'
import { IdempotencyHeaders } from '../tickets/tickets.routes.js'
import {
  AlertListQuery,
  AlertView,
  BatchOutcome,
  EventListQuery,
  EventOutcome,
  EventView,
  GenericEvent
} from './events.schemas.js'
import { RECEIVERS } from './receivers/index.js'

const tags = ['events']
const SOURCE_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/
const SourceParams = Type.Object(
  { source: Type.String({ pattern: SOURCE_RE.source }) },
  { additionalProperties: false }
)

/**
 * Ingest bodies are checked item by item by the service (a batch reports per item), so the route schema
 * documents the body without validating it; headers and params are validated as everywhere else.
 */
const text = makeAjv(true)
const bodyChecksInService = ({ schema, httpPart }: { schema: FastifySchema; httpPart?: string }) =>
  httpPart === 'body' ? () => true : text.compile(schema as AnySchema)

/** REST door to monitoring events: the generic API, native receivers, and the stored events and alerts. */
export default async function eventRoutes(base: FastifyInstance) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>()
  const svc = app.services.events
  const bodyLimit = app.config.EVENT_BODY_LIMIT_BYTES

  app.post(
    '/events',
    {
      bodyLimit,
      validatorCompiler: bodyChecksInService,
      schema: {
        tags,
        summary: 'Post one monitoring event, or a batch of up to 1,000 (events:write)',
        description:
          'One event answers its outcome; an array answers per item (a bad item is rejected alone). Idempotency-Key (or eventId) makes a retry answer the first result.',
        headers: IdempotencyHeaders,
        body: Type.Union([GenericEvent, Type.Array(GenericEvent, { minItems: 1, maxItems: 1000 })]),
        response: { 202: Type.Union([EventOutcome, BatchOutcome]), ...errorResponses(403, 409, 413, 422) }
      }
    },
    async (request, reply) => {
      const result = await svc.post(request.ctx(), request.body, request.headers['idempotency-key'])
      if (result.replayed) reply.header('idempotent-replayed', 'true')
      return reply.code(202).send(result.body)
    }
  )

  for (const receiver of RECEIVERS) {
    const handler = async (
      request: { ctx(): never; body: unknown; params: unknown; headers: Record<string, unknown> },
      reply: { code(n: number): { send(b: unknown): unknown }; header(k: string, v: string): unknown }
    ) => {
      const source = (request.params as { source?: string }).source
      if (source !== undefined && !SOURCE_RE.test(source)) {
        throw badRequest('source: letters, digits, dot, dash and underscore', [{ field: 'source', message: 'invalid' }])
      }
      const key = request.headers['idempotency-key'] as string | undefined
      const result = await svc.receive(request.ctx(), receiver, source, request.body, key)
      if (result.replayed) reply.header('idempotent-replayed', 'true')
      return reply.code(202).send(result.body)
    }
    const schema = (withSource: boolean) => ({
      tags,
      summary: `${receiver.title}${withSource ? ' (the path names the sending instance)' : ''}`,
      headers: IdempotencyHeaders,
      ...(withSource ? { params: SourceParams } : {}),
      body: Type.Object(
        {},
        { additionalProperties: true, description: `the ${receiver.tool} webhook body, unchanged` }
      ),
      response: { 202: BatchOutcome, ...errorResponses(403, 409, 413, 422) }
    })
    const methods = receiver.tool === 'grafana' ? (['POST', 'PUT'] as const) : (['POST'] as const)
    for (const method of methods) {
      for (const withSource of [false, true]) {
        app.route({
          method,
          url: withSource ? `/events/${receiver.tool}/:source` : `/events/${receiver.tool}`,
          bodyLimit,
          validatorCompiler: bodyChecksInService,
          schema: schema(withSource),
          handler: handler as never
        })
      }
    }
  }

  app.get(
    '/events',
    {
      schema: {
        tags,
        summary: 'List stored monitoring events, newest first (filters; q searches summaries)',
        querystring: EventListQuery,
        response: { 200: PageOf(EventView), ...errorResponses(403) }
      }
    },
    async request => svc.list(request.ctx(), request.query)
  )

  app.get(
    '/events/:id',
    {
      schema: {
        tags,
        summary: 'Get a stored event, with what it did and why (matchedBy, reason)',
        params: IdParams,
        response: { 200: EventView, ...errorResponses(403, 404) }
      }
    },
    async request => svc.get(request.ctx(), request.params.id)
  )

  app.get(
    '/alerts',
    {
      schema: {
        tags,
        summary: 'List alerts (one per fingerprint and episode: occurrences, last seen, flapping), newest first',
        querystring: AlertListQuery,
        response: { 200: PageOf(AlertView), ...errorResponses(403) }
      }
    },
    async request => svc.alerts(request.ctx(), request.query)
  )

  app.get(
    '/alerts/:id',
    {
      schema: {
        tags,
        summary: 'Get an alert',
        params: IdParams,
        response: { 200: AlertView, ...errorResponses(403, 404) }
      }
    },
    async request => svc.alert(request.ctx(), request.params.id)
  )
}
