import type { FastifyInstance } from 'fastify'
import { adminRoutes, adminSettingsRoutes } from '../admin/admin-routes.js'
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
  adminSettingsRoutes(base, {
    path: '/event-settings',
    tags,
    view: EventSettingsView,
    body: EventSettingsBody,
    summary: {
      get: 'Event settings: priority per severity, recovery action, flapping, default team, retention',
      set: 'Change event settings (admin); fields left out keep their value, null clears defaultTeamId'
    },
    service: app => ({
      get: ctx => app.services.eventSettings.get(ctx),
      set: (ctx, _key: undefined, input, version) => app.services.eventSettings.set(ctx, input, version)
    })
  })

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
