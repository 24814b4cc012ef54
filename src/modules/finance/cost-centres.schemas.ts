import { type Static, Type } from 'typebox'
import { CursorParam, DateTime, Limit, Nullable, StringEnum, Uuid } from '../../lib/schemas.js'
import { Currency, MoneyOut, NonNegativeMoney } from './money.js'

/** Deepest a cost-centre tree goes: a root is level 1. */
export const MAX_DEPTH = 10

const Code = Type.String({
  minLength: 1,
  maxLength: 40,
  pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$',
  description: 'Unique regardless of case: letters, digits, ".", "_", "-"'
})
const Name = Type.String({ minLength: 1, maxLength: 200 })

export const CostCentre = Type.Object({
  id: Uuid,
  code: Type.String(),
  name: Type.String(),
  parentId: Nullable(Uuid),
  organisationId: Nullable(Uuid),
  version: Type.Integer(),
  createdAt: DateTime,
  updatedAt: DateTime
})

export const CreateCostCentreBody = Type.Object(
  {
    code: Code,
    name: Name,
    parentId: Type.Optional(Nullable(Uuid)),
    organisationId: Type.Optional(
      Nullable(Type.String({ format: 'uuid', description: 'The organisation unit this cost centre is (one at most)' }))
    )
  },
  { additionalProperties: false }
)
export type CreateCostCentreInput = Static<typeof CreateCostCentreBody>

export const UpdateCostCentreBody = Type.Object(
  {
    code: Type.Optional(Code),
    name: Type.Optional(Name),
    parentId: Type.Optional(
      Nullable(Type.String({ format: 'uuid', description: 'Move under this cost centre; null makes it a root' }))
    ),
    organisationId: Type.Optional(Nullable(Type.String({ format: 'uuid' })))
  },
  { additionalProperties: false, minProperties: 1 }
)
export type UpdateCostCentreInput = Static<typeof UpdateCostCentreBody>

export const CostCentreListQuery = Type.Object(
  {
    parentId: Type.Optional(
      Type.Union([Uuid, Type.Literal('root')], { description: 'Children of this cost centre; "root" for the roots' })
    ),
    organisationId: Type.Optional(Uuid),
    limit: Type.Optional(Limit),
    cursor: Type.Optional(CursorParam)
  },
  { additionalProperties: false }
)
export type CostCentreListInput = Static<typeof CostCentreListQuery>

export const PERIODS = ['month', 'quarter', 'year'] as const
export type Period = (typeof PERIODS)[number]
export const PeriodEnum = StringEnum(PERIODS, { description: 'month, quarter or year' })

const Day = Type.String({ format: 'date', description: 'A calendar day, YYYY-MM-DD' })

export const Budget = Type.Object({
  id: Uuid,
  costCentreId: Uuid,
  period: Type.String({ description: 'month, quarter or year' }),
  periodStart: Type.String({ format: 'date' }),
  amount: MoneyOut,
  currency: Type.String(),
  version: Type.Integer(),
  createdAt: DateTime,
  updatedAt: DateTime
})

export const CreateBudgetBody = Type.Object(
  {
    costCentreId: Uuid,
    period: PeriodEnum,
    periodStart: {
      ...Day,
      description: "The first day of the period: a month's 1st, a quarter's (Jan, Apr, Jul, Oct) 1st, or 1 January"
    },
    amount: NonNegativeMoney,
    currency: Type.Optional({ ...Currency, description: 'ISO 4217; the reporting currency when left out' })
  },
  { additionalProperties: false }
)
export type CreateBudgetInput = Static<typeof CreateBudgetBody>

export const UpdateBudgetBody = Type.Object(
  { amount: Type.Optional(NonNegativeMoney), currency: Type.Optional(Currency) },
  { additionalProperties: false, minProperties: 1 }
)
export type UpdateBudgetInput = Static<typeof UpdateBudgetBody>

export const BudgetListQuery = Type.Object(
  {
    costCentreId: Type.Optional(Uuid),
    period: Type.Optional(PeriodEnum),
    limit: Type.Optional(Limit),
    cursor: Type.Optional(CursorParam)
  },
  { additionalProperties: false }
)
export type BudgetListInput = Static<typeof BudgetListQuery>
