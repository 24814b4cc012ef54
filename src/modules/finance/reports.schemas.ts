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
      Type.Union([Type.Literal('even'), Type.Literal('usage'), Type.Literal('weights')], {
        description:
          "How a CI reached by several services splits over them: even (default), by each service CI's numeric usage attribute (usage), or by the explicit service cost weights (weights)"
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

export const ChargebackQuery = Type.Object(
  {
    ...ServiceCostQuery.properties,
    by: Type.Optional(
      Type.Union([Type.Literal('subscription'), Type.Literal('usage')], {
        description: "How a service's cost splits over its consumers: evenly (subscription, default) or by their units"
      })
    ),
    basis: Type.Optional(
      Type.Union([Type.Literal('cost'), Type.Literal('price')], {
        description:
          "What a consumer is charged: its share of the service's cost (cost, default) or the service's price (price: flat per consumer, per user / per unit times its units, each month at the prices in force), with cost and difference beside it"
      })
    )
  },
  { additionalProperties: false }
)
export type ChargebackInput = Static<typeof ChargebackQuery>

export const ForecastQuery = Type.Object(
  {
    months: Type.Optional(Type.Integer({ minimum: 1, maximum: 60, default: 12, description: 'Months ahead' })),
    from: Type.Optional({ ...Month, description: 'First month (default: the month after this one)' }),
    format: Type.Optional(Type.Literal('csv'))
  },
  { additionalProperties: false }
)
export type ForecastInput = Static<typeof ForecastQuery>

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

export const ServiceMarginRow = Type.Object({
  serviceId: Type.String({ format: 'uuid' }),
  name: Type.String(),
  basis: Type.Union([Type.String({ description: 'flat, per_user, per_unit' }), Type.Null()]),
  quantity: Type.Union([Type.String({ description: 'Users or units priced (1: flat)' }), Type.Null()]),
  cost: MoneyOut,
  revenue: MoneyOut,
  margin: Type.String({ description: 'revenue - cost (negative: a loss)' }),
  marginPercent: Type.Union([Type.String({ description: 'margin / revenue * 100, 2 decimals' }), Type.Null()])
})
export const ServiceMarginReport = Type.Object({ ...Range, items: Type.Array(ServiceMarginRow) })

export const ChargebackLine = Type.Object({
  organisationId: Type.String({ format: 'uuid' }),
  organisation: Type.String(),
  costCentreId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
  serviceId: Type.String({ format: 'uuid' }),
  service: Type.String(),
  share: Type.String({ description: "The organisation's share of the service, 6 decimals" }),
  charge: MoneyOut,
  cost: Type.Optional({ ...MoneyOut, description: 'basis=price: its share of the cost (by the by rule)' }),
  difference: Type.Optional(Type.String({ description: 'basis=price: charge - cost (negative: charged below cost)' }))
})
export const ChargebackTotal = Type.Object({
  organisationId: Type.String({ format: 'uuid' }),
  organisation: Type.String(),
  costCentreId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
  services: Type.Integer(),
  charge: MoneyOut,
  cost: Type.Optional({ ...MoneyOut, description: "basis=price: the sum of its lines' cost" }),
  difference: Type.Optional(Type.String({ description: 'basis=price: charge - cost' }))
})
export const ChargebackReport = Type.Object({
  ...Range,
  by: Type.String({ description: 'subscription or usage' }),
  basis: Type.String({ description: 'cost or price' }),
  items: Type.Array(ChargebackLine, { description: 'One line per organisation and service it consumes' }),
  organisations: Type.Array(ChargebackTotal, { description: 'Per organisation: the sum of its lines' }),
  unallocated: MoneyOut
})

export const ForecastChange = Type.Object({
  changeId: Type.String({ format: 'uuid' }),
  number: Type.String({ description: 'The change number, e.g. CHG-000042' }),
  amount: { ...MoneyOut, description: "The change's part of the month (negative: a retire or a saving)" }
})

export const ForecastRow = Type.Object({
  month: Type.String({ description: 'YYYY-MM' }),
  depreciation: MoneyOut,
  recurring: MoneyOut,
  fromChanges: {
    ...MoneyOut,
    description:
      'The cost deltas of approved changes (scheduled, implement): adds from their effective month, minus the costs of CIs they retire'
  },
  cost: { ...MoneyOut, description: 'depreciation + recurring + fromChanges' },
  changes: Type.Array(ForecastChange, { description: 'The approved changes contributing to the month, by number' })
})
export const ForecastReport = Type.Object({ ...Range, items: Type.Array(ForecastRow), total: MoneyOut })
