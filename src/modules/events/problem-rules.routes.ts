import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { errorResponses, IdParams, PageOf } from '../../lib/schemas.js'
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

  app.get(
    '/problem-rules',
    {
      schema: {
        tags,
        summary: 'List problem detection rules, by name',
        querystring: RuleListQuery,
        response: { 200: PageOf(ProblemRuleView), ...errorResponses(403) }
      }
    },
    async request => svc.list(request.ctx(), request.query)
  )

  app.post(
    '/problem-rules',
    {
      schema: {
        tags,
        summary: 'Create a problem detection rule (admin)',
        description:
          'threshold incidents sharing the groupBy key (ci, fingerprint, family or category) created within windowMinutes open a problem, or add to the one the rule opened while it is open. source limits it to incidents from that monitoring source.',
        body: ProblemRuleBody,
        response: { 201: ProblemRuleView, ...errorResponses(403, 409, 422) }
      }
    },
    async (request, reply) => {
      const rule = await svc.create(request.ctx(), request.body)
      reply.code(201).header('location', `/api/v1/problem-rules/${rule.id}`)
      return rule
    }
  )

  app.get(
    '/problem-rules/:id',
    {
      schema: {
        tags,
        summary: 'Get a problem detection rule',
        params: IdParams,
        response: { 200: ProblemRuleView, ...errorResponses(403, 404) }
      }
    },
    async request => svc.get(request.ctx(), request.params.id)
  )

  app.patch(
    '/problem-rules/:id',
    {
      schema: {
        tags,
        summary: 'Update a problem detection rule (admin)',
        params: IdParams,
        body: ProblemRulePatch,
        response: { 200: ProblemRuleView, ...errorResponses(403, 404, 409, 422) }
      }
    },
    async request => svc.update(request.ctx(), request.params.id, request.body)
  )

  app.delete(
    '/problem-rules/:id',
    {
      schema: {
        tags,
        summary: 'Delete a problem detection rule (admin; the problems it opened stay)',
        params: IdParams,
        response: { 204: Type.Null(), ...errorResponses(403, 404) }
      }
    },
    async (request, reply) => {
      await svc.remove(request.ctx(), request.params.id)
      return reply.code(204).send(null)
    }
  )

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
