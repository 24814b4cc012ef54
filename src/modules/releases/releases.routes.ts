import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { withEtag } from '../../lib/http.js'
import { errorResponses, IdParams, PageOf } from '../../lib/schemas.js'
import { changeSchemas } from '../changes/changes.schemas.js'
import { ticketRoutes } from '../tickets/tickets.routes.js'
import { PageQuery } from '../tickets/tickets.schemas.js'
import {
  AddDeploymentBody,
  Deployment,
  DeploymentParams,
  releaseSchemas,
  SetChangesBody,
  UpdateDeploymentBody
} from './releases.schemas.js'

const shared = ticketRoutes('release', releaseSchemas)

/** REST door to releases: the shared ticket routes, the changes a release bundles, its deployments. */
export default async function releaseRoutes(parent: FastifyInstance) {
  await shared(parent)
  const app = parent.withTypeProvider<TypeBoxTypeProvider>()
  const { releases, deployments } = app.services
  const tags = ['releases']

  app.get(
    '/releases/:id/changes',
    {
      schema: {
        tags,
        summary: 'Changes the release bundles (change list rows)',
        params: IdParams,
        querystring: PageQuery,
        response: { 200: PageOf(changeSchemas.summary), ...errorResponses(404) }
      }
    },
    async request => releases.changes(request.ctx(), request.params.id, request.query)
  )

  app.put(
    '/releases/:id/changes',
    {
      schema: {
        tags,
        summary: 'Set the changes the release bundles (422 not a change; 409 bundled in another open release)',
        params: IdParams,
        body: SetChangesBody,
        response: { 200: releaseSchemas.full, ...errorResponses(403, 404, 409, 422) }
      }
    },
    async (request, reply) => withEtag(reply, await releases.setChanges(request.ctx(), request.params.id, request.body))
  )

  app.get(
    '/releases/:id/deployments',
    {
      schema: {
        tags,
        summary: 'Deployments of the release, oldest first',
        params: IdParams,
        querystring: PageQuery,
        response: { 200: PageOf(Deployment), ...errorResponses(404) }
      }
    },
    async request => deployments.list(request.ctx(), request.params.id, request.query)
  )

  app.post(
    '/releases/:id/deployments',
    {
      schema: {
        tags,
        summary: 'Record a deployment of the release to a target',
        params: IdParams,
        body: AddDeploymentBody,
        response: { 201: Deployment, ...errorResponses(403, 404, 409, 422) }
      }
    },
    async (request, reply) => {
      reply.code(201)
      return deployments.add(request.ctx(), request.params.id, request.body)
    }
  )

  app.patch(
    '/releases/:id/deployments/:deploymentId',
    {
      schema: {
        tags,
        summary: 'Move a deployment on (409 names the allowed statuses) or edit its notes',
        params: DeploymentParams,
        body: UpdateDeploymentBody,
        response: { 200: Deployment, ...errorResponses(403, 404, 409, 422) }
      }
    },
    async request => deployments.update(request.ctx(), request.params.id, request.params.deploymentId, request.body)
  )
}
