import { type Static, Type } from 'typebox'
import { CursorParam, DateTime, Limit, Nullable, StringEnum, Uuid } from '../../lib/schemas.js'
import { Currency, Money, MoneyOut } from './money.js'

export const DELTA_ACTIONS = ['add', 'retire'] as const
export const DELTA_RECURRENCES = ['monthly', 'one_off'] as const

const Month = Type.String({ pattern: '^[0-9]{4}-(0[1-9]|1[0-2])$', description: 'A month, YYYY-MM' })

export const ChangeCostDelta = Type.Object({
  id: Uuid,
  changeId: Uuid,
  action: Type.String({ description: "add (an amount from effectiveMonth) or retire (ciId's costs stop)" }),
  ciId: Nullable(Uuid),
  recurrence: Nullable(Type.String({ description: 'add: monthly (every month from effectiveMonth) or one_off' })),
  currency: Nullable(Type.String()),
  amount: Nullable({ ...MoneyOut, description: 'add: the amount per month (monthly) or once (one_off)' }),
  effectiveMonth: Type.String({ description: 'YYYY-MM: the first month it counts in' }),
  costCentreId: Nullable(Uuid),
  serviceId: Nullable(Uuid),
  description: Type.String(),
  version: Type.Integer(),
  createdAt: DateTime,
  updatedAt: DateTime
})

const fields = {
  ciId: Nullable(Type.String({ format: 'uuid', description: "One of the change's CIs (retire: required)" })),
  recurrence: StringEnum(DELTA_RECURRENCES, { description: 'add: monthly or one_off' }),
  currency: { ...Currency, description: 'add: ISO 4217; the reporting currency when left out' },
  amount: { ...Money, description: 'add: an exact decimal string; negative for a saving' },
  effectiveMonth: { ...Month, description: 'YYYY-MM: the first month it counts in' },
  costCentreId: Nullable(Type.String({ format: 'uuid', description: 'The cost centre it lands on' })),
  serviceId: Nullable(Type.String({ format: 'uuid', description: 'The service CI it lands on' })),
  description: Type.String({ maxLength: 2000 })
}

export const CreateChangeCostDeltaBody = Type.Object(
  {
    action: StringEnum(DELTA_ACTIONS, {
      description: 'add (amount, recurrence, currency) or retire (ciId: its costs stop from effectiveMonth)'
    }),
    ciId: Type.Optional(fields.ciId),
    recurrence: Type.Optional(fields.recurrence),
    currency: Type.Optional(fields.currency),
    amount: Type.Optional(fields.amount),
    effectiveMonth: fields.effectiveMonth,
    costCentreId: Type.Optional(fields.costCentreId),
    serviceId: Type.Optional(fields.serviceId),
    description: Type.Optional(fields.description)
  },
  { additionalProperties: false }
)
export type CreateChangeCostDeltaInput = Static<typeof CreateChangeCostDeltaBody>

export const UpdateChangeCostDeltaBody = Type.Object(
  {
    ciId: Type.Optional(fields.ciId),
    recurrence: Type.Optional(fields.recurrence),
    currency: Type.Optional(fields.currency),
    amount: Type.Optional(fields.amount),
    effectiveMonth: Type.Optional(fields.effectiveMonth),
    costCentreId: Type.Optional(fields.costCentreId),
    serviceId: Type.Optional(fields.serviceId),
    description: Type.Optional(fields.description)
  },
  {
    additionalProperties: false,
    minProperties: 1,
    description: 'The action stays; null clears ciId, costCentreId, serviceId'
  }
)
export type UpdateChangeCostDeltaInput = Static<typeof UpdateChangeCostDeltaBody>

export const ChangeCostDeltaListQuery = Type.Object(
  { limit: Type.Optional(Limit), cursor: Type.Optional(CursorParam) },
  { additionalProperties: false }
)
export type ChangeCostDeltaListInput = Static<typeof ChangeCostDeltaListQuery>
