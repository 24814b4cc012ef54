import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { etag, expectedVersion } from '../../lib/http.js'
import { errorResponses, PageOf, StringEnum } from '../../lib/schemas.js'
import { TICKET_KINDS } from '../kinds/kinds.js'
import { WorkflowDefinition } from './workflow.types.js'

export const WorkflowView = Type.Object({
  kind: StringEnum(TICKET_KINDS),
  version: Type.Integer({ description: '0 while the shipped default is in force' }),
  custom: Type.Boolean({ description: 'false: the shipped ITIL default' }),
  ...WorkflowDefinition.properties
})
const WorkflowListQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
    cursor: Type.Optional(Type.String({ maxLength: 512 }))
  },
  { additionalProperties: false }
)
const KindParams = Type.Object({ kind: StringEnum(TICKET_KINDS) }, { additionalProperties: false })
const tags = ['workflows']

/** Workflows as data: every kind's statuses and transitions, read by all, edited by admins. */
export default async function workflowRoutes(parent: FastifyInstance) {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>()
  const svc = app.services.workflows

  app.get(
    '/workflows',
    {
      schema: {
        tags,
        summary: 'The workflow of every ticket kind, in kind order (one per kind: one page by default)',
        querystring: WorkflowListQuery,
        response: { 200: PageOf(WorkflowView), ...errorResponses(400, 403) }
      }
    },
    async request => svc.list(request.ctx(), request.query)
  )

  app.get(
    '/workflows/:kind',
    {
      schema: {
        tags,
        summary: 'One kind’s workflow: statuses (phase, SLA pause, approval) and transitions (who, requirements)',
        params: KindParams,
        response: { 200: WorkflowView, ...errorResponses(403) }
      }
    },
    async (request, reply) => {
      const wf = await svc.read(request.ctx(), request.params.kind)
      reply.header('etag', etag(wf.version))
      return wf
    }
  )

  app.put(
    '/workflows/:kind',
    {
      schema: {
        tags,
        summary: 'Replace a kind’s workflow (admin; statuses tickets are in must stay)',
        params: KindParams,
        headers: Type.Object({ 'if-match': Type.Optional(Type.String()) }),
        body: WorkflowDefinition,
        response: { 200: WorkflowView, ...errorResponses(403, 409, 412, 422) }
      }
    },
    async (request, reply) => {
      const expected = expectedVersion(request.headers['if-match'], undefined)
      const wf = await svc.put(request.ctx(), request.params.kind, request.body, expected)
      reply.header('etag', etag(wf.version))
      return wf
    }
  )

  app.delete(
    '/workflows/:kind',
    {
      schema: {
        tags,
        summary: 'Back to the shipped ITIL default (admin)',
        params: KindParams,
        response: { 200: WorkflowView, ...errorResponses(403, 409) }
      }
    },
    async request => svc.reset(request.ctx(), request.params.kind)
  )
}
