import type { FastifyInstance } from 'fastify'
import { adminSettingsRoutes } from '../admin/admin-routes.js'
import { ChangeApprovalPolicy, type ChangeType, ChangeTypeParams, SetPolicyBody } from './policies.schemas.js'

/** REST door to the change approval policies, one per change type (the keyed-settings door). */
export default async function policyRoutes(app: FastifyInstance) {
  adminSettingsRoutes(app, {
    path: '/change-approval-policies',
    key: { name: 'type', params: ChangeTypeParams },
    tags: ['changes'],
    view: ChangeApprovalPolicy,
    body: SetPolicyBody,
    summary: {
      list: 'The approval policy of every change type (the built-in default where none was set)',
      get: 'The approval policy of one change type',
      set: 'Set the approval policy of a change type (admin)'
    },
    service: app => ({
      list: ctx => app.services.changePolicies.list(ctx),
      get: (ctx, type: ChangeType) => app.services.changePolicies.get(ctx, type),
      set: (ctx, type: ChangeType, input, version) => app.services.changePolicies.set(ctx, type, input, version)
    })
  })
}
