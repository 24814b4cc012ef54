import { type Static, Type } from 'typebox'
import { FreshnessFields } from '../../lib/schemas.js'
import { MoneyOut } from './money.js'

const Month = Type.String({ pattern: '^[0-9]{4}-(0[1-9]|1[0-2])$', description: 'A month, YYYY-MM' })

export const ReportRangeQuery = Type.Object(
  {
    from: Month,
    to: Month,
    format: Type.Optional(Type.Literal('csv', { description: 'csv: the same as Accept: text/csv' }))
  },
  { additionalProperties: false }
)
export type ReportRangeInput = Static<typeof ReportRangeQuery>

export const ServiceCostQuery = Type.Object(
  {
    from: Month,
    to: Month,
    split: Type.Optional(
      Type.Union([Type.Literal('even'), Type.Literal('usage')], {
        description:
          'How a CI shared by several CIs standing on it splits: even (default) or by their numeric usage attribute'
      })
    ),
    usageAttribute: Type.Optional(
      Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]{0,62}$', description: 'With split=usage: the attribute' })
    ),
    depth: Type.Optional(Type.Integer({ minimum: 1, maximum: 20, default: 10 })),
    format: Type.Optional(Type.Literal('csv'))
  },
  { additionalProperties: false }
)
export type ServiceCostInput = Static<typeof ServiceCostQuery>

const Range = {
  from: Type.String({ description: 'First month, YYYY-MM' }),
  to: Type.String({ description: 'Last month, YYYY-MM' }),
  currency: Type.String({ description: 'The reporting currency every amount is in' }),
  ...FreshnessFields
}

export const ServiceCostRow = Type.Object({
  serviceId: Type.String({ format: 'uuid' }),
  name: Type.String(),
  ciClass: Type.String(),
  costCentreId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
  ownCost: MoneyOut,
  sharedCost: MoneyOut,
  cost: MoneyOut,
  ciCount: Type.Integer({ description: 'CIs beneath it that it bears a share of' })
})
export const ServiceCostReport = Type.Object({ ...Range, items: Type.Array(ServiceCostRow) })

export const ClassCostRow = Type.Object({ ciClass: Type.String(), cost: MoneyOut, ciCount: Type.Integer() })
export const ClassCostReport = Type.Object({ ...Range, items: Type.Array(ClassCostRow) })

export const CostCentreCostRow = Type.Object({
  costCentreId: Type.String({ format: 'uuid' }),
  code: Type.String(),
  name: Type.String(),
  parentId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
  ownCost: MoneyOut,
  cost: MoneyOut
})
export const CostCentreCostReport = Type.Object({ ...Range, items: Type.Array(CostCentreCostRow) })

export const BudgetActualRow = Type.Object({
  budgetId: Type.String({ format: 'uuid' }),
  costCentreId: Type.String({ format: 'uuid' }),
  code: Type.String(),
  period: Type.String(),
  periodStart: Type.String(),
  budget: MoneyOut,
  actual: MoneyOut,
  variance: Type.String({ description: 'budget - actual (negative: over budget)' })
})
export const BudgetActualReport = Type.Object({ ...Range, items: Type.Array(BudgetActualRow) })
