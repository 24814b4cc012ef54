import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { errorResponses, IdParams, PageOf } from '../../lib/schemas.js'
import { KIND_INFO, type TicketKind } from '../tickets/kinds.js'
import { ApprovalRound, DecisionBody, MyApproval, MyApprovalsQuery, RoundList } from './approvals.schemas.js'

/** Kinds whose workflows ask for approval by default: changes (by type) and requests (by offering). */
const APPROVING: TicketKind[] = ['change', 'request']

/** REST door to approvals: decide in a ticket's open round, read its rounds, read your own queue. */
export default async function approvalRoutes(parent: FastifyInstance) {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>()
  const svc = app.services.approvals

  for (const kind of APPROVING) {
    const { collection, noun } = KIND_INFO[kind]
    app.post(
      `/${collection}/:id/approvals`,
      {
        schema: {
          tags: ['approvals'],
          summary: `Approve or reject the ${noun} in its open approval round (as yourself)`,
          params: IdParams,
          body: DecisionBody,
          response: { 200: ApprovalRound, ...errorResponses(403, 404, 409, 422) }
        }
      },
      async request => svc.decide(request.ctx(), kind, request.params.id, request.body)
    )

    app.get(
      `/${collection}/:id/approvals`,
      {
        schema: {
          tags: ['approvals'],
          summary: `Approval rounds of the ${noun}, oldest first, with every decision`,
          params: IdParams,
          response: { 200: RoundList, ...errorResponses(404) }
        }
      },
      async request => svc.rounds(request.ctx(), kind, request.params.id)
    )
  }

  app.get(
    '/approvals',
    {
      schema: {
        tags: ['approvals'],
        summary: 'Your own approvals (state=pending: your queue), oldest first',
        querystring: MyApprovalsQuery,
        response: { 200: PageOf(MyApproval), ...errorResponses(403) }
      }
    },
    async request => svc.mine(request.ctx(), request.query)
  )
}
