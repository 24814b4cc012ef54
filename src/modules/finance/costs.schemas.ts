import { type Static, Type } from 'typebox'
import { CursorParam, DateTime, Limit, Nullable, StringEnum, Uuid } from '../../lib/schemas.js'
import { PeriodEnum } from './cost-centres.schemas.js'
import { Currency, MoneyOut, NonNegativeMoney } from './money.js'

export const COST_KINDS = ['capital', 'recurring'] as const
export type CostKind = (typeof COST_KINDS)[number]
export const COST_CATEGORIES = ['hardware', 'licence', 'support', 'hosting', 'power', 'labour', 'other'] as const

const Day = (description: string) => Type.String({ format: 'date', description })

export const CiCost = Type.Object({
  id: Uuid,
  ciId: Uuid,
  kind: Type.String({ description: 'capital or recurring' }),
  category: Type.String({ description: COST_CATEGORIES.join(', ') }),
  description: Type.String(),
  currency: Type.String(),
  amount: {
    ...MoneyOut,
    description: 'capital: the price paid; recurring: the amount per period (exact decimal string)'
  },
  period: Nullable(Type.String({ description: 'recurring: month, quarter or year' })),
  purchaseDate: Nullable(Type.String({ format: 'date', description: 'capital: when it was bought' })),
  startDate: Nullable(Type.String({ format: 'date', description: 'recurring: the first day it is due' })),
  endDate: Nullable(
    Type.String({ format: 'date', description: 'recurring: the last day it is due (null: open-ended)' })
  ),
  depreciationMonths: Nullable(Type.Integer({ description: 'capital: straight-line over this many months' })),
  residualValue: Nullable({ ...MoneyOut, description: 'capital: what is left after depreciation' }),
  version: Type.Integer(),
  createdAt: DateTime,
  updatedAt: DateTime
})

const costFields = {
  category: StringEnum(COST_CATEGORIES),
  description: Type.String({ maxLength: 2000 }),
  currency: { ...Currency, description: 'ISO 4217; the reporting currency when left out' },
  amount: NonNegativeMoney,
  period: PeriodEnum,
  purchaseDate: Day('capital: the purchase date; depreciation starts in its month'),
  startDate: Day('recurring: the first day it is due'),
  endDate: Nullable(Day('recurring: the last day it is due; null or left out: open-ended')),
  depreciationMonths: Type.Integer({
    minimum: 1,
    maximum: 600,
    description: 'capital: months of straight-line depreciation'
  }),
  residualValue: { ...NonNegativeMoney, description: 'capital: value left at the end (default 0; at most amount)' }
}

export const CreateCiCostBody = Type.Object(
  {
    kind: StringEnum(COST_KINDS, {
      description:
        'capital (amount, purchaseDate, depreciationMonths, residualValue) or recurring (amount per period, startDate, endDate)'
    }),
    category: costFields.category,
    description: Type.Optional(costFields.description),
    currency: Type.Optional(costFields.currency),
    amount: costFields.amount,
    period: Type.Optional(costFields.period),
    purchaseDate: Type.Optional(costFields.purchaseDate),
    startDate: Type.Optional(costFields.startDate),
    endDate: Type.Optional(costFields.endDate),
    depreciationMonths: Type.Optional(costFields.depreciationMonths),
    residualValue: Type.Optional(costFields.residualValue)
  },
  { additionalProperties: false }
)
export type CreateCiCostInput = Static<typeof CreateCiCostBody>

export const UpdateCiCostBody = Type.Object(
  {
    category: Type.Optional(costFields.category),
    description: Type.Optional(costFields.description),
    currency: Type.Optional(costFields.currency),
    amount: Type.Optional(costFields.amount),
    period: Type.Optional(costFields.period),
    purchaseDate: Type.Optional(costFields.purchaseDate),
    startDate: Type.Optional(costFields.startDate),
    endDate: Type.Optional(costFields.endDate),
    depreciationMonths: Type.Optional(costFields.depreciationMonths),
    residualValue: Type.Optional(costFields.residualValue)
  },
  { additionalProperties: false, minProperties: 1, description: 'The kind stays; endDate: null makes it open-ended' }
)
export type UpdateCiCostInput = Static<typeof UpdateCiCostBody>

export const CiCostListQuery = Type.Object(
  { limit: Type.Optional(Limit), cursor: Type.Optional(CursorParam) },
  { additionalProperties: false }
)
export type CiCostListInput = Static<typeof CiCostListQuery>

export const CiCostParams = Type.Object({ id: Uuid }, { additionalProperties: false })

export const ExchangeRate = Type.Object({
  id: Uuid,
  currency: Type.String(),
  validFrom: Type.String({ format: 'date' }),
  rate: Type.String({
    description: 'Units of the reporting currency one unit of `currency` buys (exact decimal string)'
  }),
  version: Type.Integer(),
  createdAt: DateTime,
  updatedAt: DateTime
})

const Rate = Type.String({
  pattern: '^(0|[1-9][0-9]{0,13})(\\.[0-9]{1,10})?$',
  description: 'Units of the reporting currency one unit of `currency` buys: an exact decimal string, up to 10 decimals'
})

export const CreateExchangeRateBody = Type.Object(
  {
    currency: Currency,
    validFrom: Day('In force from this day until the next rate of the currency'),
    rate: Rate
  },
  { additionalProperties: false }
)
export type CreateExchangeRateInput = Static<typeof CreateExchangeRateBody>

export const UpdateExchangeRateBody = Type.Object({ rate: Rate }, { additionalProperties: false })
export type UpdateExchangeRateInput = Static<typeof UpdateExchangeRateBody>

export const ExchangeRateListQuery = Type.Object(
  { currency: Type.Optional(Currency), limit: Type.Optional(Limit), cursor: Type.Optional(CursorParam) },
  { additionalProperties: false }
)
export type ExchangeRateListInput = Static<typeof ExchangeRateListQuery>

export const FinanceSettings = Type.Object({
  reportingCurrency: Type.String({ description: 'REPORTING_CURRENCY (process setting; read-only here)' }),
  technicianCostAccess: Type.Boolean({ description: 'Technicians (and other staff) read CI costs' }),
  customerChargeback: Type.Boolean({ description: "Customers read their organisation's chargeback" }),
  version: Type.Integer()
})

export const FinanceSettingsBody = Type.Object(
  { technicianCostAccess: Type.Boolean(), customerChargeback: Type.Boolean() },
  { additionalProperties: false }
)
export type FinanceSettingsInput = Static<typeof FinanceSettingsBody>
