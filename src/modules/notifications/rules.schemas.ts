import { type Static, Type } from 'typebox'
import { CursorParam, DateTime, Limit, Nullable, StringEnum, Uuid } from '../../lib/schemas.js'
import { TICKET_KINDS } from '../kinds/kinds.js'
import { NOTIFICATION_EVENTS } from './outbox.js'
import { AUDIENCES } from './recipients.js'

export const CHANNELS = ['mail', 'sms'] as const

export const RuleBody = Type.Object(
  {
    event: StringEnum(NOTIFICATION_EVENTS),
    audience: StringEnum(AUDIENCES, {
      description:
        'requester, assignee, assignee_or_layer (the layer when nobody is assigned), layer, team_manager, watchers, approvers, organisation_contacts (of the ticket’s organisation), ci_owner_team (members of the owner teams of the CIs a change names), users (named by the event)'
    }),
    channel: StringEnum(CHANNELS),
    kinds: Type.Optional(
      Nullable(Type.Array(StringEnum(TICKET_KINDS), { maxItems: 10, description: 'only these kinds; null: any' }))
    ),
    maxPriority: Type.Optional(
      Nullable(Type.Integer({ minimum: 1, maximum: 5, description: 'only at or above this priority (1 highest)' }))
    ),
    enabled: Type.Optional(Type.Boolean())
  },
  { additionalProperties: false }
)
export type RuleInput = Static<typeof RuleBody>
export const RulePatch = Type.Partial(RuleBody, { additionalProperties: false })
export type RulePatchInput = Static<typeof RulePatch>
export const RuleListQuery = Type.Object(
  { limit: Type.Optional(Limit), cursor: Type.Optional(CursorParam) },
  { additionalProperties: false }
)
export type RuleListInput = Static<typeof RuleListQuery>

export const RuleView = Type.Object({
  id: Uuid,
  event: Type.String(),
  audience: Type.String(),
  channel: Type.String(),
  kinds: Nullable(Type.Array(Type.String())),
  maxPriority: Nullable(Type.Integer()),
  enabled: Type.Boolean(),
  version: Type.Integer(),
  createdAt: DateTime,
  updatedAt: DateTime
})
