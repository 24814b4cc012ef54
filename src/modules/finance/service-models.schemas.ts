import { type Static, Type } from 'typebox'
import { CursorParam, DateTime, Limit, Nullable, StringEnum, Uuid } from '../../lib/schemas.js'
import { Currency, MoneyOut, NonNegativeMoney } from './money.js'

/** An exact decimal; above 0 is the service's rule (422 naming the field), not the pattern's. */
const Positive = { ...NonNegativeMoney, description: 'An exact decimal string above 0, e.g. "70" or "0.5"' }
const Attribute = Type.String({
  pattern: '^[A-Za-z_][A-Za-z0-9_]{0,62}$',
  description: "The service CI's numeric attribute holding the quantity (users, units)"
})

export const ServiceCostWeight = Type.Object({
  id: Uuid,
  serviceId: Uuid,
  ciId: Uuid,
  weight: MoneyOut,
  version: Type.Integer(),
  createdAt: DateTime,
  updatedAt: DateTime
})

export const CreateServiceCostWeightBody = Type.Object(
  {
    serviceId: { ...Uuid, description: 'A service CI (class service or a subclass)' },
    ciId: { ...Uuid, description: 'A CI beneath it whose cost it bears this weight of' },
    weight: Positive
  },
  { additionalProperties: false }
)
export type CreateServiceCostWeightInput = Static<typeof CreateServiceCostWeightBody>

export const UpdateServiceCostWeightBody = Type.Object({ weight: Positive }, { additionalProperties: false })
export type UpdateServiceCostWeightInput = Static<typeof UpdateServiceCostWeightBody>

export const ServiceCostWeightListQuery = Type.Object(
  {
    serviceId: Type.Optional(Uuid),
    ciId: Type.Optional(Uuid),
    limit: Type.Optional(Limit),
    cursor: Type.Optional(CursorParam)
  },
  { additionalProperties: false }
)
export type ServiceCostWeightListInput = Static<typeof ServiceCostWeightListQuery>

export const PRICE_BASES = ['flat', 'per_user', 'per_unit'] as const
const Basis = StringEnum(PRICE_BASES, {
  description: 'flat: the amount per month; per_user, per_unit: the amount per month times the quantity attribute'
})

export const ServicePrice = Type.Object({
  id: Uuid,
  serviceId: Uuid,
  basis: Type.String({ description: 'flat, per_user or per_unit' }),
  amount: MoneyOut,
  currency: Type.String(),
  quantityAttribute: Nullable(Type.String()),
  validFrom: Nullable(Type.String({ format: 'date', description: 'The first day it is in force; null: since always' })),
  validTo: Nullable(Type.String({ format: 'date', description: 'The last day it is in force; null: open-ended' })),
  version: Type.Integer(),
  createdAt: DateTime,
  updatedAt: DateTime
})

const ValidFrom = Nullable(
  Type.String({ format: 'date', description: 'The first day the price is in force; null or left out: since always' })
)
const ValidTo = Nullable(
  Type.String({ format: 'date', description: 'The last day the price is in force; null or left out: open-ended' })
)

export const CreateServicePriceBody = Type.Object(
  {
    serviceId: { ...Uuid, description: 'A service CI; one price in force on any day' },
    basis: Basis,
    amount: { ...NonNegativeMoney, description: 'Per month (per user or unit with those bases)' },
    currency: Type.Optional({ ...Currency, description: 'ISO 4217; the reporting currency when left out' }),
    quantityAttribute: Type.Optional(Nullable(Attribute)),
    validFrom: Type.Optional(ValidFrom),
    validTo: Type.Optional(ValidTo)
  },
  { additionalProperties: false }
)
export type CreateServicePriceInput = Static<typeof CreateServicePriceBody>

export const UpdateServicePriceBody = Type.Object(
  {
    basis: Type.Optional(Basis),
    amount: Type.Optional(NonNegativeMoney),
    currency: Type.Optional(Currency),
    quantityAttribute: Type.Optional(Nullable(Attribute)),
    validFrom: Type.Optional(ValidFrom),
    validTo: Type.Optional(ValidTo)
  },
  { additionalProperties: false, minProperties: 1 }
)
export type UpdateServicePriceInput = Static<typeof UpdateServicePriceBody>

export const ServicePriceListQuery = Type.Object(
  { serviceId: Type.Optional(Uuid), limit: Type.Optional(Limit), cursor: Type.Optional(CursorParam) },
  { additionalProperties: false }
)
export type ServicePriceListInput = Static<typeof ServicePriceListQuery>

export const ServiceConsumer = Type.Object({
  id: Uuid,
  serviceId: Uuid,
  organisationId: Uuid,
  units: MoneyOut,
  version: Type.Integer(),
  createdAt: DateTime,
  updatedAt: DateTime
})

export const CreateServiceConsumerBody = Type.Object(
  {
    serviceId: { ...Uuid, description: 'A service CI' },
    organisationId: { ...Uuid, description: 'The consuming organisation' },
    units: Type.Optional({ ...Positive, description: 'Its usage (chargeback by=usage); 1 when left out' })
  },
  { additionalProperties: false }
)
export type CreateServiceConsumerInput = Static<typeof CreateServiceConsumerBody>

export const UpdateServiceConsumerBody = Type.Object({ units: Positive }, { additionalProperties: false })
export type UpdateServiceConsumerInput = Static<typeof UpdateServiceConsumerBody>

export const ServiceConsumerListQuery = Type.Object(
  {
    serviceId: Type.Optional(Uuid),
    organisationId: Type.Optional(Uuid),
    limit: Type.Optional(Limit),
    cursor: Type.Optional(CursorParam)
  },
  { additionalProperties: false }
)
export type ServiceConsumerListInput = Static<typeof ServiceConsumerListQuery>
