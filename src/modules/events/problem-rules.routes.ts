import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { errorResponses, IdParams } from '../../lib/schemas.js'
import { adminRoutes } from '../admin/admin-routes.js'
import { ProblemRuleBody, ProblemRulePatch, ProblemRuleView, RuleListQuery } from './events.schemas.js'

const tags = ['events']

/** What one evaluation did. */
export const DetectionSummaryView = Type.Object({
  rules: Type.Integer({ description: 'rules evaluated' }),
  groups: Type.Integer({ description: 'groups at or over the threshold with an incident not linked to a problem' }),
  problemsOpened: Type.Integer(),
  problemsUpdated: Type.Integer({ description: 'open problems that took new incidents' }),
  incidentsLinked: Type.Integer(),
  groupsFailed: Type.Integer({ description: 'groups that failed (logged; tried again next run)' })
})

/** REST door to problem detection rules (staff read, admins write and run). */
export default async function problemRuleRoutes(base: FastifyInstance) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>()
  const svc = app.services.problemRules

  adminRoutes(base, {
    path: '/problem-rules',
    tags,
    view: ProblemRuleView,
    listQuery: RuleListQuery,
    create: ProblemRuleBody,
    patch: ProblemRulePatch,
    summary: {
      list: 'List problem detection rules, by name',
      create: 'Create a problem detection rule (admin)',
      get: 'Get a problem detection rule',
      update: 'Update a problem detection rule (admin)',
      remove: 'Delete a problem detection rule (admin; the problems it opened stay)'
    },
    description: {
      create:
        'threshold incidents sharing the groupBy key (ci, fingerprint, family or category) created within windowMinutes open a problem, or add to the one the rule opened while it is open. source limits it to incidents from that monitoring source.'
    },
    service: app => app.services.problemRules
  })

  app.post(
    '/problem-rules/:id/run',
    {
      schema: {
        tags,
        summary: 'Evaluate the rule now, enabled or not (admin); answers what it did',
        params: IdParams,
        response: { 200: DetectionSummaryView, ...errorResponses(403, 404) }
      }
    },
    async request => svc.detect(request.ctx(), request.params.id)
  )
}
