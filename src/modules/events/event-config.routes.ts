import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { expectedVersion, withEtag } from '../../lib/http.js'
import { errorResponses, IdParams, PageOf } from '../../lib/schemas.js'
import { IfMatchHeaders } from '../tickets/tickets.routes.js'
import {
  EventSettingsBody,
  EventSettingsView,
  RoutingRuleBody,
  RoutingRulePatch,
  RoutingRuleView,
  RuleListQuery
} from './events.schemas.js'

const tags = ['events']

/** REST door to how events become incidents: the event settings and the routing rules (admin). */
export default async function eventConfigRoutes(base: FastifyInstance) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>()
  const settings = app.services.eventSettings
  const rules = app.services.eventRoutingRules

  app.get(
    '/event-settings',
    {
      schema: {
        tags,
        summary: 'Event settings: priority per severity, recovery action, flapping, default team, retention',
        response: { 200: EventSettingsView, ...errorResponses(403) }
      }
    },
    async (request, reply) => withEtag(reply, await settings.get(request.ctx()))
  )

  app.put(
    '/event-settings',
    {
      schema: {
        tags,
        summary: 'Change event settings (admin); fields left out keep their value, null clears defaultTeamId',
        description: 'Send the version you read (body `version` or If-Match): a stale one answers 412.',
        headers: IfMatchHeaders,
        body: EventSettingsBody,
        response: { 200: EventSettingsView, ...errorResponses(403, 412, 422) }
      }
    },
    async (request, reply) => {
      const { version, ...input } = request.body
      const expected = expectedVersion(request.headers['if-match'], version)
      return withEtag(reply, await settings.set(request.ctx(), input, expected))
    }
  )

  app.get(
    '/event-routing-rules',
    {
      schema: {
        tags,
        summary: 'List event routing rules in the order they are tried (position)',
        querystring: RuleListQuery,
        response: { 200: PageOf(RoutingRuleView), ...errorResponses(403) }
      }
    },
    async request => rules.list(request.ctx(), request.query)
  )

  app.post(
    '/event-routing-rules',
    {
      schema: {
        tags,
        summary: 'Create an event routing rule (admin): the first enabled match names the team, impact, urgency',
        body: RoutingRuleBody,
        response: { 201: RoutingRuleView, ...errorResponses(403, 409, 422) }
      }
    },
    async (request, reply) => {
      const rule = await rules.create(request.ctx(), request.body)
      reply.code(201).header('location', `/api/v1/event-routing-rules/${rule.id}`)
      return rule
    }
  )

  app.get(
    '/event-routing-rules/:id',
    {
      schema: {
        tags,
        summary: 'Get an event routing rule',
        params: IdParams,
        response: { 200: RoutingRuleView, ...errorResponses(403, 404) }
      }
    },
    async request => rules.get(request.ctx(), request.params.id)
  )

  app.patch(
    '/event-routing-rules/:id',
    {
      schema: {
        tags,
        summary: 'Update an event routing rule (admin); match is replaced whole, null clears team, impact, urgency',
        params: IdParams,
        body: RoutingRulePatch,
        response: { 200: RoutingRuleView, ...errorResponses(403, 404, 409, 422) }
      }
    },
    async request => rules.update(request.ctx(), request.params.id, request.body)
  )

  app.delete(
    '/event-routing-rules/:id',
    {
      schema: {
        tags,
        summary: 'Delete an event routing rule (admin)',
        params: IdParams,
        response: { 204: Type.Null(), ...errorResponses(403, 404) }
      }
    },
    async (request, reply) => {
      await rules.remove(request.ctx(), request.params.id)
      return reply.code(204).send(null)
    }
  )
}
