import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { errorResponses, PageOf } from '../../lib/schemas.js'
import { ChangeApprovalPolicy, ChangeTypeParams, SetPolicyBody } from './policies.schemas.js'

const tags = ['changes']

/** REST door to the change approval policies, one per change type. */
export default async function policyRoutes(base: FastifyInstance) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>()
  const svc = app.services.changePolicies

  app.get(
    '/change-approval-policies',
    {
      schema: {
        tags,
        summary: 'The approval policy of every change type (the built-in default where none was set)',
        response: { 200: PageOf(ChangeApprovalPolicy), ...errorResponses(403) }
      }
    },
    async request => svc.list(request.ctx())
  )

  app.get(
    '/change-approval-policies/:type',
    {
      schema: {
        tags,
        summary: 'The approval policy of one change type',
        params: ChangeTypeParams,
        response: { 200: ChangeApprovalPolicy, ...errorResponses(403) }
      }
    },
    async request => svc.get(request.ctx(), request.params.type)
  )

  app.put(
    '/change-approval-policies/:type',
    {
      schema: {
        tags,
        summary: 'Set the approval policy of a change type (admin)',
        params: ChangeTypeParams,
        body: SetPolicyBody,
        response: { 200: ChangeApprovalPolicy, ...errorResponses(403, 422) }
      }
    },
    async request => svc.set(request.ctx(), request.params.type, request.body)
  )
}
