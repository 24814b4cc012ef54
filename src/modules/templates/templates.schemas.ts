import { type Static, type TObject, type TProperties, Type } from 'typebox'
import { CursorParam, DateTime, Limit, StringEnum, Uuid } from '../../lib/schemas.js'
import { Kind } from '../categories/categories.schemas.js'
import type { TicketKind } from '../tickets/kinds.js'
import { CustomFieldValues, Description, Level, Title } from '../tickets/tickets.schemas.js'

export const CHANGE_TYPES = ['standard', 'normal', 'emergency'] as const
export const CHANGE_RISKS = ['low', 'medium', 'high'] as const

const Plan = Type.String({ maxLength: 100_000 })

/** Prefill values every kind's template may carry: the create fields they share. */
const commonValues = {
  title: Type.Optional(Title),
  description: Type.Optional(Description),
  impact: Type.Optional(Level),
  urgency: Type.Optional(Level),
  category: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  categoryId: Type.Optional(Uuid),
  teamId: Type.Optional(Uuid),
  layer: Type.Optional(Type.Integer({ minimum: 1, maximum: 10 })),
  customFields: Type.Optional(CustomFieldValues)
}

const values = (extra: TProperties = {}) => Type.Object({ ...commonValues, ...extra }, { additionalProperties: false })

/** What a template of each kind may prefill: exactly these keys, typed as the kind's create body. */
export const TEMPLATE_VALUES: Record<TicketKind, TObject> = {
  incident: values(),
  problem: values(),
  release: values(),
  request: values({ offeringId: Type.Optional(Uuid) }),
  change: values({
    type: Type.Optional(StringEnum(CHANGE_TYPES)),
    risk: Type.Optional(StringEnum(CHANGE_RISKS)),
    implementationPlan: Type.Optional(Plan),
    backoutPlan: Type.Optional(Plan),
    testPlan: Type.Optional(Plan)
  })
}

/** The union of every kind's keys, for typing what a template hands the ticket core (a type: JSON-assignable). */
export type TemplateValues = {
  title?: string
  description?: string
  impact?: number
  urgency?: number
  category?: string
  categoryId?: string
  teamId?: string
  layer?: number
  customFields?: Record<string, unknown>
  type?: (typeof CHANGE_TYPES)[number]
  risk?: (typeof CHANGE_RISKS)[number]
  implementationPlan?: string
  backoutPlan?: string
  testPlan?: string
  offeringId?: string
}

const ValuesObject = Type.Record(Type.String(), Type.Unknown(), {
  description:
    'Prefill for the kind’s create body. All kinds: title, description, impact, urgency (1-3), category, ' +
    'categoryId, teamId, layer, customFields; change also type, risk, implementationPlan, backoutPlan, ' +
    'testPlan; request also offeringId.'
})

const Name = Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' })
const TemplateDescription = Type.String({ maxLength: 10_000 })
const Standard = Type.Boolean({
  description: 'A pre-approved standard change: only for kind change with values.type "standard"'
})

export const Template = Type.Object({
  id: Uuid,
  kind: Type.String({ description: 'incident, request, problem, change or release' }),
  name: Type.String(),
  description: Type.String(),
  values: ValuesObject,
  standard: Type.Boolean(),
  active: Type.Boolean(),
  version: Type.Integer(),
  createdAt: DateTime,
  updatedAt: DateTime
})

export const CreateTemplateBody = Type.Object(
  {
    kind: Kind,
    name: Name,
    description: Type.Optional(TemplateDescription),
    values: Type.Optional(ValuesObject),
    standard: Type.Optional(Standard),
    active: Type.Optional(Type.Boolean())
  },
  { additionalProperties: false }
)
export type CreateTemplateInput = Static<typeof CreateTemplateBody>

export const UpdateTemplateBody = Type.Object(
  {
    name: Type.Optional(Name),
    description: Type.Optional(TemplateDescription),
    values: Type.Optional(ValuesObject),
    standard: Type.Optional(Standard),
    active: Type.Optional(Type.Boolean())
  },
  { additionalProperties: false, minProperties: 1, description: 'The kind is fixed; values replace the old ones whole' }
)
export type UpdateTemplateInput = Static<typeof UpdateTemplateBody>

export const TemplateListQuery = Type.Object(
  {
    kind: Type.Optional(Kind),
    active: Type.Optional(Type.Boolean()),
    q: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Part of the name' })),
    limit: Type.Optional(Limit),
    cursor: Type.Optional(CursorParam)
  },
  { additionalProperties: false }
)
export type TemplateListInput = Static<typeof TemplateListQuery>
