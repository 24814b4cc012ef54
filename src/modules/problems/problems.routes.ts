import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { withEtag } from '../../lib/http.js'
import { errorResponses, IdParams, PageOf } from '../../lib/schemas.js'
import { incidentSchemas } from '../incidents/incidents.schemas.js'
import { ticketRoutes } from '../tickets/tickets.routes.js'
import { PageQuery } from '../tickets/tickets.schemas.js'
import {
  KnownErrorItem,
  KnownErrorQuery,
  LinkIncidentsBody,
  ProblemFromIncidentBody,
  ProblemIncidentParams,
  problemSchemas
} from './problems.schemas.js'

const sharedProblemRoutes = ticketRoutes('problem', problemSchemas)

/**
 * REST door to problems: the shared ticket routes under /problems, the incidents a problem causes,
 * a problem raised from an incident, and the known-error search.
 */
export default async function problemRoutes(parent: FastifyInstance) {
  await sharedProblemRoutes(parent)
  const app = parent.withTypeProvider<TypeBoxTypeProvider>()
  const svc = app.services.problems
  const tags = ['problems']

  app.post(
    '/problems/:id/incidents',
    {
      schema: {
        tags,
        summary: 'Link incidents caused by this problem (all or none; an incident has at most one problem)',
        params: IdParams,
        body: LinkIncidentsBody,
        response: { 200: problemSchemas.full, ...errorResponses(403, 404, 409, 422) }
      }
    },
    async (request, reply) => withEtag(reply, await svc.linkIncidents(request.ctx(), request.params.id, request.body))
  )

  app.get(
    '/problems/:id/incidents',
    {
      schema: {
        tags,
        summary: 'Incidents caused by this problem, newest first',
        params: IdParams,
        querystring: PageQuery,
        response: { 200: PageOf(incidentSchemas.summary), ...errorResponses(404) }
      }
    },
    async request => svc.incidents(request.ctx(), request.params.id, request.query)
  )

  app.delete(
    '/problems/:id/incidents/:incidentId',
    {
      schema: {
        tags,
        summary: 'Unlink an incident from this problem',
        params: ProblemIncidentParams,
        response: { 204: Type.Null(), ...errorResponses(403, 404) }
      }
    },
    async (request, reply) => {
      await svc.unlinkIncident(request.ctx(), request.params.id, request.params.incidentId)
      reply.code(204)
      return null
    }
  )

  app.post(
    '/incidents/:id/problem',
    {
      schema: {
        tags: ['incidents', 'problems'],
        summary: 'Raise a problem from this incident and link them (title, text, impact, category, team copied)',
        params: IdParams,
        body: ProblemFromIncidentBody,
        response: { 201: problemSchemas.full, ...errorResponses(403, 404, 409, 422) }
      },
      // The body is optional: none means copy everything from the incident
      preValidation: async request => {
        request.body ??= {}
      }
    },
    async (request, reply) => {
      const problem = await svc.createFromIncident(request.ctx(), request.params.id, request.body)
      reply.code(201).header('location', `/api/v1/problems/${problem.id}`)
      return withEtag(reply, problem)
    }
  )

  app.get(
    '/known-errors',
    {
      schema: {
        tags,
        summary: 'Known errors (staff): full text over title, description, root cause and workaround',
        querystring: KnownErrorQuery,
        response: { 200: PageOf(KnownErrorItem), ...errorResponses(403) }
      }
    },
    async request => svc.knownErrors(request.ctx(), request.query)
  )
}
