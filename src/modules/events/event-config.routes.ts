import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { expectedVersion, IfMatchHeaders, withEtag } from '../../lib/http.js'
import { errorResponses } from '../../lib/schemas.js'
import { adminRoutes } from '../admin/admin-routes.js'
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

  adminRoutes(base, {
    path: '/event-routing-rules',
    tags,
    view: RoutingRuleView,
    listQuery: RuleListQuery,
    create: RoutingRuleBody,
    patch: RoutingRulePatch,
    summary: {
      list: 'List event routing rules in the order they are tried (position)',
      create: 'Create an event routing rule (admin): the first enabled match names the team, impact, urgency',
      get: 'Get an event routing rule',
      update: 'Update an event routing rule (admin); match is replaced whole, null clears team, impact, urgency',
      remove: 'Delete an event routing rule (admin)'
    },
    service: app => app.services.eventRoutingRules
  })
}
