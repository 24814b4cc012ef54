import type { FastifyInstance } from 'fastify'
import { adminRoutes } from '../admin/admin-routes.js'
import { RuleBody, RuleListQuery, RulePatch, RuleView } from './rules.schemas.js'

/** REST door to the notification rules (admins). */
export default async function ruleRoutes(base: FastifyInstance) {
  adminRoutes(base, {
    path: '/notification-rules',
    tags: ['notifications'],
    view: RuleView,
    listQuery: RuleListQuery,
    create: RuleBody,
    patch: RulePatch,
    summary: {
      list: 'List notification rules, by event (admin)',
      create: 'Add a notification rule: who hears an event on which channel (admin)',
      get: 'Get a notification rule (admin)',
      update: 'Update a notification rule (admin)',
      remove: 'Delete a notification rule (admin)'
    },
    description: {
      create:
        'Nobody is told of their own change unless their preferences ask for it (a requester opening a ticket still gets the receipt); internal notes reach staff only whatever a rule says.'
    },
    service: app => app.services.notificationRules
  })
}
