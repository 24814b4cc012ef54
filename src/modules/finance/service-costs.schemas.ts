import { type Static, Type } from 'typebox'
import { Currency, MoneyOut } from './money.js'

export const PERIOD_PATTERN = '^[0-9]{4}-(0[1-9]|1[0-2])$'

export const ServiceCostQuery = Type.Object(
  {
    period: Type.String({ pattern: PERIOD_PATTERN, description: 'The month reported, YYYY-MM (e.g. 2026-03)' }),
    format: Type.Optional(
      Type.Literal('csv', { description: 'csv: the same rows as text/csv (or send Accept: text/csv)' })
    )
  },
  { additionalProperties: false }
)
export type ServiceCostInput = Static<typeof ServiceCostQuery>

export const ServiceCostRow = Type.Object({
  serviceId: Type.String({ format: 'uuid', description: 'The service CI (class service or below it)' }),
  name: Type.String(),
  class: Type.String(),
  costCentreId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
  ownCost: Type.Unsafe<string>({
    ...MoneyOut,
    description: "The service CI's own costs (its share, when other services stand on it)"
  }),
  sharedCost: Type.Unsafe<string>({
    ...MoneyOut,
    description: 'Its share of every CI beneath it, split evenly between the services reaching each'
  }),
  totalCost: MoneyOut,
  ciCount: Type.Integer({ description: 'CIs beneath it (itself excluded)' })
})

export const ServiceCostReport = Type.Object({
  period: Type.String(),
  currency: Currency,
  items: Type.Array(ServiceCostRow),
  missingRates: Type.Array(Currency, {
    description: 'Currencies with a cost in the period but no exchange rate in force: those costs are left out'
  })
})
