import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { type TObject, Type } from 'typebox'
import { expectedVersion, IfMatchHeaders, withEtag } from '../../lib/http.js'
import { errorResponses, IdParams, PageOf, StringEnum } from '../../lib/schemas.js'
import { KIND_INFO, TICKET_KINDS, type TicketKind } from './kinds.js'
import type { TicketView } from './tickets.repository.js'
import {
  AssignmentBody,
  type CreateTicketInput,
  fullFields,
  HistoryEntry,
  ListOf,
  listFields,
  Note,
  NoteBody,
  PageQuery,
  summaryFields,
  TicketListQuery,
  TransitionBody,
  Transitions,
  type UpdateTicketInput
} from './tickets.schemas.js'

export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({ description: 'Retry-safe create: the same key and body answer the first result' })
  )
})

export interface KindSchemas {
  create: TObject
  update: TObject
  /** The kind's full shape and list-row shape. */
  full: TObject
  summary: TObject
}

/** A kind's schemas: the shared fields plus its own. */
export function kindSchemas(
  create: TObject,
  update: TObject,
  extraFull: Record<string, never> | TObject['properties'] = {},
  extraSummary: TObject['properties'] = {}
): KindSchemas {
  return {
    create,
    update,
    full: Type.Object({ ...fullFields, ...extraFull }),
    summary: Type.Object({ ...summaryFields, ...extraSummary })
  }
}

/**
 * The REST door every kind shares: create, list, read, update, assign, transitions, notes, history.
 * Routes parse, call one service function and shape the answer.
 */
export function ticketRoutes(kind: TicketKind, schemas: KindSchemas) {
  const { collection, noun } = KIND_INFO[kind]
  const tags = [collection]
  const base = `/${collection}`
  return async function routes(parent: FastifyInstance) {
    const app = parent.withTypeProvider<TypeBoxTypeProvider>()
    const svc = app.services.tickets

    app.post(
      base,
      {
        schema: {
          tags,
          summary: `Create ${article(noun)}`,
          headers: IdempotencyHeaders,
          body: schemas.create,
          response: { 201: schemas.full, ...errorResponses(403, 409, 422) }
        }
      },
      async (request, reply) => {
        const body = request.body as CreateTicketInput
        const result = await svc.create(request.ctx(), kind, body, request.headers['idempotency-key'])
        if (result.replayed) reply.header('idempotent-replayed', 'true')
        reply.code(result.status as 201).header('location', `/api/v1${base}/${result.body.id}`)
        return withEtag(reply, result.body)
      }
    )

    app.get(
      base,
      {
        schema: {
          tags,
          summary: `List ${collection} (keyset pagination, filters, RSQL filter)`,
          querystring: TicketListQuery,
          response: { 200: ListOf(schemas.summary), ...errorResponses(403) }
        }
      },
      async request => svc.list(request.ctx(), kind, request.query)
    )

    app.get(
      `${base}/:id`,
      {
        schema: {
          tags,
          summary: `Get ${article(noun)}`,
          params: IdParams,
          response: { 200: schemas.full, ...errorResponses(404) }
        }
      },
      async (request, reply) => withEtag(reply, await svc.get(request.ctx(), kind, request.params.id))
    )

    app.patch(
      `${base}/:id`,
      {
        schema: {
          tags,
          summary: 'Update fields (needs If-Match or version)',
          params: IdParams,
          headers: IfMatchHeaders,
          body: schemas.update,
          response: { 200: schemas.full, ...errorResponses(403, 404, 409, 412, 422, 428) }
        }
      },
      async (request, reply) => {
        const { version, ...input } = request.body as UpdateTicketInput & { version?: number }
        const expected = expectedVersion(request.headers['if-match'], version)
        return withEtag(reply, await svc.update(request.ctx(), kind, request.params.id, input, expected))
      }
    )

    app.put(
      `${base}/:id/assignment`,
      {
        schema: {
          tags,
          summary: 'Assign to a team, an escalation layer and a person',
          params: IdParams,
          headers: IfMatchHeaders,
          body: AssignmentBody,
          response: { 200: schemas.full, ...errorResponses(403, 404, 409, 412, 422) }
        }
      },
      async (request, reply) => {
        const { version, ...input } = request.body
        const expected = expectedVersion(request.headers['if-match'], version)
        return withEtag(reply, await svc.assign(request.ctx(), kind, request.params.id, input, expected))
      }
    )

    app.get(
      `${base}/:id/transitions`,
      {
        schema: {
          tags,
          summary: `Statuses you may move this ${noun} to`,
          params: IdParams,
          response: { 200: Transitions, ...errorResponses(404) }
        }
      },
      async request => svc.transitions(request.ctx(), kind, request.params.id)
    )

    app.post(
      `${base}/:id/transitions`,
      {
        schema: {
          tags,
          summary: `Move the ${noun} to another status (409 names the allowed ones)`,
          params: IdParams,
          headers: IfMatchHeaders,
          body: TransitionBody,
          response: { 200: schemas.full, ...errorResponses(403, 404, 409, 412, 422) }
        }
      },
      async (request, reply) => {
        const { version, ...input } = request.body
        const expected = expectedVersion(request.headers['if-match'], version)
        return withEtag(reply, await svc.transition(request.ctx(), kind, request.params.id, input, expected))
      }
    )

    app.get(
      `${base}/:id/notes`,
      {
        schema: {
          tags,
          summary: 'Public replies and (for staff) internal work notes, oldest first',
          params: IdParams,
          querystring: PageQuery,
          response: { 200: PageOf(Note), ...errorResponses(404) }
        }
      },
      async request => svc.notes(request.ctx(), kind, request.params.id, request.query)
    )

    app.post(
      `${base}/:id/notes`,
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
        return svc.addNote(request.ctx(), kind, request.params.id, request.body)
      }
    )

    app.get(
      `${base}/:id/history`,
      {
        schema: {
          tags,
          summary: 'Every change: who, when, field, old and new value',
          params: IdParams,
          querystring: PageQuery,
          response: { 200: PageOf(HistoryEntry), ...errorResponses(404) }
        }
      },
      async request => svc.history(request.ctx(), kind, request.params.id, request.query)
    )
  }
}

const article = (noun: string) => (/^[aeiou]/.test(noun) ? `an ${noun}` : `a ${noun}`)

/** Any kind's full shape: the shared fields, and the kind's own passed through. */
const AnyTicket = Type.Object(fullFields, { additionalProperties: true })
const AnySummary = Type.Object(summaryFields, { additionalProperties: true })

/** Routes across kinds: a ticket by its human number, and one list over every kind. */
export async function crossKindRoutes(parent: FastifyInstance) {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>()
  const svc = app.services.tickets

  app.get(
    '/tickets',
    {
      schema: {
        tags: ['tickets'],
        summary: 'Tickets of every kind (search, filters, RSQL `filter` with `kind`)',
        querystring: Type.Object(
          {
            ...listFields,
            kind: Type.Optional(StringEnum(TICKET_KINDS))
          },
          { additionalProperties: false }
        ),
        response: { 200: ListOf(AnySummary), ...errorResponses(403) }
      }
    },
    async request => {
      const { kind, ...query } = request.query
      return svc.list(request.ctx(), kind ?? null, query)
    }
  )

  app.get(
    '/tickets/:number',
    {
      schema: {
        tags: ['tickets'],
        summary: 'Get a ticket by its human number (INC-000123, REQ-…, PRB-…, CHG-…, REL-…)',
        params: Type.Object(
          { number: Type.String({ pattern: '^[A-Za-z]{3}-[0-9]{1,10}$', description: 'e.g. INC-000123' }) },
          { additionalProperties: false }
        ),
        response: { 200: AnyTicket, ...errorResponses(404) }
      }
    },
    async (request, reply) =>
      withEtag(reply, (await svc.getByNumber(request.ctx(), request.params.number)) as TicketView & { ciIds: string[] })
  )
}
