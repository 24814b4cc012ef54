import { authorize } from '../../auth/policy.js'
import { notificationRules } from '../../db/schema/index.js'
import type { Ctx, Deps } from '../../lib/context.js'
import { textKeyset } from '../../lib/keyset.js'
import { adminResource } from '../admin/admin-resource.js'
import type { RuleInput, RuleListInput, RulePatchInput } from './rules.schemas.js'

type Row = typeof notificationRules.$inferSelect
const FIELDS = ['event', 'audience', 'channel', 'kinds', 'maxPriority', 'enabled'] as const

export const ruleKeyset = textKeyset<Row>(
  'notification-rules',
  notificationRules.event,
  notificationRules.id,
  r => r.event
)

/**
 * Who hears what, as data admins edit: an event, an audience and a channel, optionally only for some
 * kinds or priorities. The defaults ship in the migration; the dispatcher reads the enabled ones.
 */
export function createRuleService(deps: Deps) {
  const rules = adminResource<Row, Row>(deps.db, {
    table: notificationRules,
    id: notificationRules.id,
    version: notificationRules.version,
    entityType: 'notification_rule',
    noun: 'notification rule',
    fields: FIELDS,
    unique: {
      notification_rules_uq: { field: 'audience', message: 'a rule for this event, audience and channel exists' }
    },
    view: r => r,
    authorizeRead: ctx => authorize(ctx.actor, 'config.manage'),
    authorizeWrite: ctx => authorize(ctx.actor, 'config.manage')
  })
  const kindsOf = (k: readonly string[] | null | undefined) => (k && k.length > 0 ? [...new Set(k)] : null)
  return {
    list: (ctx: Ctx, input: RuleListInput) => rules.list(ctx, input, ruleKeyset),
    cursorOf: ruleKeyset.cursorOf,
    get: rules.get,
    create: (ctx: Ctx, input: RuleInput) =>
      rules.create(ctx, async () => ({
        event: input.event,
        audience: input.audience,
        channel: input.channel,
        kinds: kindsOf(input.kinds),
        maxPriority: input.maxPriority ?? null,
        enabled: input.enabled ?? true
      })),
    update: (ctx: Ctx, id: string, input: RulePatchInput, expectedVersion?: number) =>
      rules.update(ctx, id, expectedVersion, async () => ({
        ...input,
        ...(input.kinds !== undefined ? { kinds: kindsOf(input.kinds) } : {})
      })),
    remove: rules.remove
  }
}

export type RuleService = ReturnType<typeof createRuleService>
