import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { expectedVersion, withEtag } from '../../lib/http.js'
import { errorResponses, IdParams, PageOf } from '../../lib/schemas.js'
import {
  AssignmentBody,
  CreateIncidentBody,
  HistoryEntry,
  Incident,
  IncidentListQuery,
  IncidentSummary,
  Note,
  NoteBody,
  PageQuery,
  TransitionBody,
  Transitions,
  UpdateIncidentBody
} from './incidents.schemas.js'

const tags = ['incidents']
const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({ description: 'Retry-safe create: the same key and body answer the first result' })
  )
})
const IfMatchHeaders = Type.Object({
  'if-match': Type.Optional(Type.String({ description: 'ETag of the version you edit' }))
})

/** REST door to the incident service: parse, call one service function, shape the answer. */
export default async function incidentRoutes(base: FastifyInstance) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>()
  const svc = app.services.incidents

  app.post(
    '/incidents',
    {
      schema: {
        tags,
        summary: 'Create an incident',
        headers: IdempotencyHeaders,
        body: CreateIncidentBody,
        response: { 201: Incident, ...errorResponses(403, 409, 422) }
      }
    },
    async (request, reply) => {
      const result = await svc.create(request.ctx(), request.body, request.headers['idempotency-key'])
      if (result.replayed) reply.header('idempotent-replayed', 'true')
      reply.code(result.status as 201).header('location', `/api/v1/incidents/${result.body.id}`)
      return withEtag(reply, result.body)
    }
  )

  app.get(
    '/incidents',
    {
      schema: {
        tags,
        summary: 'List incidents (keyset pagination, filters)',
        querystring: IncidentListQuery,
        response: { 200: PageOf(IncidentSummary), ...errorResponses(403) }
      }
    },
    async request => svc.list(request.ctx(), request.query)
  )

  app.get(
    '/incidents/:id',
    {
      schema: {
        tags,
        summary: 'Get an incident',
        params: IdParams,
        response: { 200: Incident, ...errorResponses(404) }
      }
    },
    async (request, reply) => withEtag(reply, await svc.get(request.ctx(), request.params.id))
  )

  app.patch(
    '/incidents/:id',
    {
      schema: {
        tags,
        summary: 'Update fields (needs If-Match or version)',
        params: IdParams,
        headers: IfMatchHeaders,
        body: UpdateIncidentBody,
        response: { 200: Incident, ...errorResponses(403, 404, 409, 412, 422, 428) }
      }
    },
    async (request, reply) => {
      const { version, ...input } = request.body
      const expected = expectedVersion(request.headers['if-match'], version)
      return withEtag(reply, await svc.update(request.ctx(), request.params.id, input, expected))
    }
  )

  app.put(
    '/incidents/:id/assignment',
    {
      schema: {
        tags,
        summary: 'Assign to a team, an escalation layer and a person',
        params: IdParams,
        headers: IfMatchHeaders,
        body: AssignmentBody,
        response: { 200: Incident, ...errorResponses(403, 404, 409, 412, 422) }
      }
    },
    async (request, reply) => {
      const { version, ...input } = request.body
      const expected = expectedVersion(request.headers['if-match'], version)
      return withEtag(reply, await svc.assign(request.ctx(), request.params.id, input, expected))
    }
  )

  app.get(
    '/incidents/:id/transitions',
    {
      schema: {
        tags,
        summary: 'Statuses you may move this incident to',
        params: IdParams,
        response: { 200: Transitions, ...errorResponses(404) }
      }
    },
    async request => svc.transitions(request.ctx(), request.params.id)
  )

  app.post(
    '/incidents/:id/transitions',
    {
      schema: {
        tags,
        summary: 'Move the incident to another status (409 names the allowed ones)',
        params: IdParams,
        headers: IfMatchHeaders,
        body: TransitionBody,
        response: { 200: Incident, ...errorResponses(403, 404, 409, 412, 422) }
      }
    },
    async (request, reply) => {
      const { version, ...input } = request.body
      const expected = expectedVersion(request.headers['if-match'], version)
      return withEtag(reply, await svc.transition(request.ctx(), request.params.id, input, expected))
    }
  )

  app.get(
    '/incidents/:id/notes',
    {
      schema: {
        tags,
        summary: 'Public replies and (for staff) internal work notes, oldest first',
        params: IdParams,
        querystring: PageQuery,
        response: { 200: PageOf(Note), ...errorResponses(404) }
      }
    },
    async request => svc.notes(request.ctx(), request.params.id, request.query)
  )

  app.post(
    '/incidents/:id/notes',
    {
      schema: {
        tags,
        summary: 'Add a public reply or an internal work note',
        params: IdParams,
        body: NoteBody,
        response: { 201: Note, ...errorResponses(403, 404, 409, 422) }
      }
    },
    async (request, reply) => {
      reply.code(201)
      return svc.addNote(request.ctx(), request.params.id, request.body)
    }
  )

  app.get(
    '/incidents/:id/history',
    {
      schema: {
        tags,
        summary: 'Every change: who, when, field, old and new value',
        params: IdParams,
        querystring: PageQuery,
        response: { 200: PageOf(HistoryEntry), ...errorResponses(404) }
      }
    },
    async request => svc.history(request.ctx(), request.params.id, request.query)
  )

  app.get(
    '/tickets/:number',
    {
      schema: {
        tags: ['tickets'],
        summary: 'Get a ticket by its human number (INC-000123)',
        params: Type.Object(
          { number: Type.String({ pattern: '^[A-Za-z]{3}-[0-9]{1,10}$', description: 'e.g. INC-000123' }) },
          { additionalProperties: false }
        ),
        response: { 200: Incident, ...errorResponses(404) }
      }
    },
    async (request, reply) => withEtag(reply, await svc.getByNumber(request.ctx(), request.params.number))
  )
}
