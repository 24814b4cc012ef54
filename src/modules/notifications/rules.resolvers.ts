import type { Resolvers } from '../../graphql/types.js'
import { adminResolvers } from '../admin/admin-resolvers.js'
import { RuleBody, RuleListQuery, RulePatch } from './rules.schemas.js'
import { ruleKeyset } from './rules.service.js'

/** GraphQL door to notification rules: same schemas, same service as REST. */
export function ruleResolvers(): Resolvers {
  return adminResolvers({
    service: services => services.notificationRules,
    names: {
      get: 'notificationRule',
      list: 'notificationRules',
      create: 'createNotificationRule',
      update: 'updateNotificationRule',
      remove: 'deleteNotificationRule'
    },
    listQuery: RuleListQuery,
    create: RuleBody,
    patch: RulePatch,
    clearable: ['kinds', 'maxPriority'],
    cursorOf: ruleKeyset.cursorOf
  })
}
