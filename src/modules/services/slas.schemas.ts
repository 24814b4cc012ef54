import { type Static, Type } from 'typebox'
import { CursorParam, DateTime, DateTimeInput, Limit, Nullable, StringEnum, Uuid } from '../../lib/schemas.js'
import { TICKET_KINDS } from '../kinds/kinds.js'

export const RESPONSE_MET_BY = ['first_public_reply', 'leaves_new'] as const
const Name = Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' })
const Priority = Type.Integer({ minimum: 1, maximum: 5 })
const Minutes = Type.Integer({ minimum: 1, maximum: 5_256_000, description: 'Business minutes' })

export const Target = Type.Object(
  { priority: Priority, responseMinutes: Minutes, resolutionMinutes: Minutes },
  { additionalProperties: false }
)
export type TargetInput = Static<typeof Target>
const Targets = Type.Array(Target, {
  minItems: 1,
  maxItems: 5,
  description: 'One per priority: response and resolution targets in business minutes'
})

export const ESCALATION_CLOCKS = ['response', 'resolution'] as const
export const ESCALATION_ACTIONS = ['notify', 'next_layer', 'reassign', 'raise_priority'] as const
export const NOTIFY_AUDIENCES = ['assignee', 'team_lead', 'next_layer', 'users'] as const

export const EscalationAction = Type.Object(
  {
    type: StringEnum(ESCALATION_ACTIONS, {
      description:
        "notify (an audience, through the outbox), next_layer (the team's next escalation layer), reassign (to teamId), raise_priority (by steps)"
    }),
    audience: Type.Optional(
      StringEnum(NOTIFY_AUDIENCES, {
        description: "notify only: the assignee, the team's lead (manager), the next layer's members, or userIds"
      })
    ),
    userIds: Type.Optional(Type.Array(Uuid, { minItems: 1, maxItems: 50, description: 'notify users only' })),
    teamId: Type.Optional(Type.String({ format: 'uuid', description: 'reassign only: the team it goes to' })),
    steps: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 4, description: 'raise_priority only: how many steps up (default 1)' })
    )
  },
  { additionalProperties: false }
)
export type EscalationActionInput = Static<typeof EscalationAction>

export const Escalation = Type.Object(
  {
    percent: Type.Integer({ minimum: 1, maximum: 1000, description: 'Of the target used: 50, 75, 100, 150, …' }),
    clock: StringEnum(ESCALATION_CLOCKS),
    actions: Type.Array(EscalationAction, { minItems: 1, maxItems: 10 })
  },
  { additionalProperties: false }
)
export type EscalationInput = Static<typeof Escalation>
const Escalations = Type.Array(Escalation, {
  maxItems: 20,
  description: 'Thresholds: each fires once per clock run when that share of its target is used'
})

export const Conditions = Type.Object(
  {
    serviceId: Type.Optional(Nullable(Uuid)),
    organisationId: Type.Optional(Nullable(Uuid)),
    kind: Type.Optional(Nullable(StringEnum(TICKET_KINDS))),
    priority: Type.Optional(Nullable(Priority))
  },
  { additionalProperties: false, description: 'What a ticket must have; absent or null matches any' }
)

export const Warning = Type.Object({
  slaId: Uuid,
  priority: Type.Integer(),
  target: StringEnum(['response', 'resolution'] as const),
  slaMinutes: Type.Integer(),
  olaMinutes: Type.Integer({ description: 'The OLAs underpinning the SLA, summed' }),
  olaIds: Type.Array(Uuid),
  message: Type.String()
})
export type SlaWarning = Static<typeof Warning>
const Warnings = Type.Optional(
  Type.Array(Warning, { description: 'OLA targets that do not fit inside the SLA targets (on writes and reads)' })
)

const StoredConditions = Type.Object({
  serviceId: Nullable(Uuid),
  organisationId: Nullable(Uuid),
  kind: Nullable(Type.String()),
  priority: Nullable(Type.Integer())
})

export const Sla = Type.Object({
  id: Uuid,
  name: Type.String(),
  calendarId: Uuid,
  order: Type.Integer(),
  conditions: StoredConditions,
  targets: Type.Array(Target),
  responseMetBy: StringEnum(RESPONSE_MET_BY),
  escalations: Type.Array(Escalation),
  active: Type.Boolean(),
  version: Type.Integer(),
  createdAt: DateTime,
  updatedAt: DateTime,
  warnings: Warnings
})

export const CreateSlaBody = Type.Object(
  {
    name: Name,
    calendarId: Type.String({ format: 'uuid', description: 'The business calendar targets count in' }),
    order: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000, description: 'Tie-break: lower wins' })),
    conditions: Type.Optional(Conditions),
    targets: Targets,
    responseMetBy: Type.Optional(
      StringEnum(RESPONSE_MET_BY, {
        description: 'first_public_reply (default) from staff, or the first move out of new'
      })
    ),
    escalations: Type.Optional(Escalations),
    active: Type.Optional(Type.Boolean())
  },
  { additionalProperties: false }
)
export type CreateSlaInput = Static<typeof CreateSlaBody>

export const UpdateSlaBody = Type.Object(
  {
    name: Type.Optional(Name),
    calendarId: Type.Optional(Uuid),
    order: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
    conditions: Type.Optional(Conditions),
    targets: Type.Optional(Targets),
    responseMetBy: Type.Optional(StringEnum(RESPONSE_MET_BY)),
    escalations: Type.Optional(Escalations),
    active: Type.Optional(Type.Boolean())
  },
  {
    additionalProperties: false,
    minProperties: 1,
    description: 'conditions, targets and escalations, when given, replace them whole'
  }
)
export type UpdateSlaInput = Static<typeof UpdateSlaBody>

export const Ola = Type.Object({
  id: Uuid,
  name: Type.String(),
  teamId: Uuid,
  calendarId: Uuid,
  targets: Type.Array(Target),
  slaIds: Type.Array(Uuid),
  active: Type.Boolean(),
  version: Type.Integer(),
  createdAt: DateTime,
  updatedAt: DateTime,
  warnings: Warnings
})

const SlaIds = Type.Array(Uuid, { maxItems: 200, description: 'The SLAs it underpins' })
export const CreateOlaBody = Type.Object(
  {
    name: Name,
    teamId: Uuid,
    calendarId: Uuid,
    targets: Targets,
    slaIds: Type.Optional(SlaIds),
    active: Type.Optional(Type.Boolean())
  },
  { additionalProperties: false }
)
export type CreateOlaInput = Static<typeof CreateOlaBody>

export const UpdateOlaBody = Type.Object(
  {
    name: Type.Optional(Name),
    teamId: Type.Optional(Uuid),
    calendarId: Type.Optional(Uuid),
    targets: Type.Optional(Targets),
    slaIds: Type.Optional(SlaIds),
    active: Type.Optional(Type.Boolean())
  },
  { additionalProperties: false, minProperties: 1 }
)
export type UpdateOlaInput = Static<typeof UpdateOlaBody>

export const SlaListQuery = Type.Object(
  {
    active: Type.Optional(Type.Boolean()),
    serviceId: Type.Optional(Uuid),
    limit: Type.Optional(Limit),
    cursor: Type.Optional(CursorParam)
  },
  { additionalProperties: false }
)
export type SlaListInput = Static<typeof SlaListQuery>

export const OlaListQuery = Type.Object(
  {
    active: Type.Optional(Type.Boolean()),
    teamId: Type.Optional(Uuid),
    slaId: Type.Optional(Uuid),
    limit: Type.Optional(Limit),
    cursor: Type.Optional(CursorParam)
  },
  { additionalProperties: false }
)
export type OlaListInput = Static<typeof OlaListQuery>

export const SimulateBody = Type.Object(
  {
    kind: StringEnum(TICKET_KINDS),
    priority: Priority,
    serviceId: Type.Optional(Uuid),
    organisationId: Type.Optional(Uuid),
    teamId: Type.Optional(Type.String({ format: 'uuid', description: 'The team holding it: picks the OLA' })),
    createdAt: Type.Optional(DateTimeInput)
  },
  { additionalProperties: false }
)
export type SimulateInput = Static<typeof SimulateBody>

const Due = Type.Object({
  id: Uuid,
  name: Type.String(),
  calendarId: Uuid,
  responseMinutes: Type.Integer(),
  resolutionMinutes: Type.Integer(),
  responseDueAt: Nullable(DateTime),
  resolutionDueAt: Nullable(DateTime)
})
export const Simulation = Type.Object({
  startsAt: DateTime,
  sla: Nullable(Type.Object({ ...Due.properties, responseMetBy: StringEnum(RESPONSE_MET_BY) })),
  ola: Nullable(Due)
})
