import { type Static, Type } from 'typebox'
import { DateTime, DateTimeInput, Nullable, StringEnum, Uuid } from '../../lib/schemas.js'
import { kindSchemas } from '../tickets/tickets.routes.js'
import { createBody, createFields, Title, updateBody } from '../tickets/tickets.schemas.js'
import { CHANGE_TYPES } from './policies.schemas.js'

export { CHANGE_TYPES }
export const CHANGE_RISKS = ['low', 'medium', 'high'] as const
export type ChangeRisk = (typeof CHANGE_RISKS)[number]
export const PLAN_MAX = 20_000
const Plan = Type.String({ maxLength: PLAN_MAX })

/**
 * No schema defaults here on purpose: a default filled in by the validator would hide the template's
 * value (the template fills only what the body leaves out). The change hook applies them.
 */
const changeCreateFields = {
  type: Type.Optional(
    StringEnum(CHANGE_TYPES, {
      description:
        'standard (needs templateId of a standard change template), normal or emergency. Required unless the template gives it'
    })
  ),
  risk: Type.Optional(StringEnum(CHANGE_RISKS, { description: 'low, medium (default) or high' })),
  implementationPlan: Type.Optional(Plan),
  backoutPlan: Type.Optional(Plan),
  testPlan: Type.Optional(Plan),
  plannedStart: Type.Optional(DateTimeInput),
  plannedEnd: Type.Optional(DateTimeInput)
}

const changeUpdateFields = {
  type: Type.Optional(StringEnum(CHANGE_TYPES, { description: 'Fixed at create: only the same value is accepted' })),
  risk: Type.Optional(StringEnum(CHANGE_RISKS)),
  implementationPlan: Type.Optional(Plan),
  backoutPlan: Type.Optional(Plan),
  testPlan: Type.Optional(Plan),
  plannedStart: Type.Optional(Nullable(DateTimeInput)),
  plannedEnd: Type.Optional(Nullable(DateTimeInput))
}

const summaryExtras = {
  type: StringEnum(CHANGE_TYPES),
  risk: StringEnum(CHANGE_RISKS),
  plannedStart: Nullable(DateTime),
  plannedEnd: Nullable(DateTime)
}

const fullExtras = {
  ...summaryExtras,
  implementationPlan: Type.String(),
  backoutPlan: Type.String(),
  testPlan: Type.String(),
  templateId: Nullable(Uuid),
  releaseId: Nullable(Uuid)
}

export const CreateChangeBody = createBody(changeCreateFields)
export const UpdateChangeBody = updateBody(changeUpdateFields)
export type CreateChangeInput = Static<typeof CreateChangeBody>
export type UpdateChangeInput = Static<typeof UpdateChangeBody>

/** Change fields beyond the shared ticket fields. */
export const changeSchemas = kindSchemas(CreateChangeBody, UpdateChangeBody, fullExtras, summaryExtras)

/** A change raised from a problem: the create body, with title (and more) defaulting from the problem. */
export const ChangeFromProblemBody = Type.Object(
  { ...createFields, ...changeCreateFields, title: Type.Optional(Title) },
  { additionalProperties: false }
)
export type ChangeFromProblemInput = Static<typeof ChangeFromProblemBody>

export const MAX_CALENDAR_DAYS = 366

export const CalendarQuery = Type.Object(
  {
    from: DateTimeInput,
    to: DateTimeInput,
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
    cursor: Type.Optional(Type.String({ maxLength: 512 }))
  },
  { additionalProperties: false }
)
export type CalendarInput = Static<typeof CalendarQuery>

export const CONFLICT_REASONS = ['same_ci', 'related_ci', 'freeze'] as const

export const ChangeConflict = Type.Object({
  reason: StringEnum(CONFLICT_REASONS),
  changeId: Nullable(Type.String({ format: 'uuid', description: 'The other change (null for a freeze)' })),
  number: Nullable(Type.String()),
  ciIds: Type.Optional(
    Type.Array(Uuid, {
      description: 'same_ci: the shared CIs; related_ci: the other change’s CIs this one’s impact or are impacted by'
    })
  ),
  distance: Type.Optional(
    Type.Integer({ description: 'related_ci: hops through the CI graph to the nearest of those CIs' })
  ),
  direction: Type.Optional(
    StringEnum(['upstream', 'downstream'] as const, {
      description:
        'related_ci: downstream when this change’s CI stands on the other’s (runs on, depends on…), upstream when it is stood on'
    })
  ),
  path: Type.Optional(Type.Array(Uuid, { description: 'related_ci: that shortest path, this change’s CI first' })),
  freezeId: Type.Optional(Uuid),
  freezeName: Type.Optional(Type.String())
})

export const ConflictsQuery = Type.Object(
  {
    depth: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 5, default: 3, description: 'Hops through the CI graph (1–5)' })
    )
  },
  { additionalProperties: false }
)
export type ConflictsInput = Static<typeof ConflictsQuery>

export const ChangeConflicts = Type.Object({
  changeId: Uuid,
  plannedStart: Nullable(DateTime),
  plannedEnd: Nullable(DateTime),
  depth: Type.Integer(),
  items: Type.Array(ChangeConflict)
})

export const CalendarEntry = Type.Object({
  id: Uuid,
  number: Type.String(),
  title: Type.String(),
  status: Type.String(),
  type: StringEnum(CHANGE_TYPES),
  risk: StringEnum(CHANGE_RISKS),
  plannedStart: DateTime,
  plannedEnd: DateTime,
  ciIds: Type.Array(Uuid),
  conflicts: Type.Array(ChangeConflict)
})
