import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { withEtag } from '../../lib/http.js'
import { errorResponses, IdParams, PageOf } from '../../lib/schemas.js'
import { incidentSchemas } from '../incidents/incidents.schemas.js'
import { ticketRoutes } from '../tickets/tickets.routes.js'
import { PageQuery } from '../tickets/tickets.schemas.js'
import {
  AddTaskBody,
  ReclassifyIncidentBody,
  ReclassifyRequestBody,
  RequestTask,
  requestSchemas,
  TaskParams,
  UpdateTaskBody
} from './requests.schemas.js'

const shared = ticketRoutes('request', requestSchemas)

/** REST door to requests: the shared ticket routes, fulfilment tasks, and reclassification to and from incidents. */
export default async function requestRoutes(parent: FastifyInstance) {
  await shared(parent)
  const app = parent.withTypeProvider<TypeBoxTypeProvider>()
  const svc = app.services.requests
  const tags = ['requests']

  app.get(
    '/requests/:id/tasks',
    {
      schema: {
        tags,
        summary: 'Fulfilment tasks of a request, in order',
        params: IdParams,
        querystring: PageQuery,
        response: { 200: PageOf(RequestTask), ...errorResponses(404) }
      }
    },
    async request => svc.tasks(request.ctx(), request.params.id, request.query)
  )

  app.post(
    '/requests/:id/tasks',
    {
      schema: {
        tags,
        summary: 'Add a fulfilment task (staff)',
        params: IdParams,
        body: AddTaskBody,
        response: { 201: RequestTask, ...errorResponses(403, 404, 409, 422) }
      }
    },
    async (request, reply) => {
      reply.code(201)
      return svc.addTask(request.ctx(), request.params.id, request.body)
    }
  )

  app.patch(
    '/requests/:id/tasks/:taskId',
    {
      schema: {
        tags,
        summary: 'Work a task: status, title, team, assignee (staff; 409 once the request is closed)',
        params: TaskParams,
        body: UpdateTaskBody,
        response: { 200: RequestTask, ...errorResponses(403, 404, 409, 422) }
      }
    },
    async request => svc.updateTask(request.ctx(), request.params.id, request.params.taskId, request.body)
  )

  app.post(
    '/incidents/:id/reclassify',
    {
      schema: {
        tags: ['incidents'],
        summary: 'Make the incident a service request: same id and history, a REQ- number',
        params: IdParams,
        body: ReclassifyIncidentBody,
        response: { 200: requestSchemas.full, ...errorResponses(403, 404, 409, 422) }
      }
    },
    async (request, reply) =>
      withEtag(reply, await svc.reclassify(request.ctx(), 'incident', request.params.id, request.body))
  )

  app.post(
    '/requests/:id/reclassify',
    {
      schema: {
        tags,
        summary: 'Make the request an incident: same id and history, an INC- number; its tasks go',
        params: IdParams,
        body: ReclassifyRequestBody,
        response: { 200: incidentSchemas.full, ...errorResponses(403, 404, 409, 422) }
      }
    },
    async (request, reply) =>
      withEtag(reply, await svc.reclassify(request.ctx(), 'request', request.params.id, request.body))
  )
}
