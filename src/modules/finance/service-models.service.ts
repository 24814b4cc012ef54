import { eq, sql } from 'drizzle-orm'
import { authorize } from '../../auth/policy.js'
import { organisations, serviceConsumers, serviceCostWeights, servicePrices } from '../../db/schema/index.js'
import type { Ctx, Deps, Queryable } from '../../lib/context.js'
import { conflictField, type FieldError, fieldError, validationFailed } from '../../lib/errors.js'
import { textKeyset } from '../../lib/keyset.js'
import { adminResource } from '../admin/admin-resource.js'
import { money } from './money.js'
import type {
  CreateServiceConsumerInput,
  CreateServiceCostWeightInput,
  CreateServicePriceInput,
  ServiceConsumerListInput,
  ServiceCostWeightListInput,
  ServicePriceListInput,
  UpdateServiceConsumerInput,
  UpdateServiceCostWeightInput,
  UpdateServicePriceInput
} from './service-models.schemas.js'

type StoredWeight = typeof serviceCostWeights.$inferSelect
type StoredPrice = typeof servicePrices.$inferSelect
type StoredConsumer = typeof serviceConsumers.$inferSelect

const rowsOf = <T>(result: unknown) => (result as { rows: T[] }).rows
const isZero = (value: string) => /^0(\.0*)?$/.test(value)

/** The CI must exist and be of class service or a subclass (422 naming `field`). */
async function checkServiceCi(q: Queryable, id: string, field = 'serviceId') {
  const found = rowsOf<{ service: boolean }>(
    await q.execute(sql`
      with recursive up(name, parent_id, n) as (
        select c.name, c.parent_id, 0 from ci_classes c join configuration_items ci on ci.class = c.name where ci.id = ${id}
        union all
        select p.name, p.parent_id, up.n + 1 from ci_classes p join up on p.id = up.parent_id where up.n < 20
      )
      select exists (select 1 from up where name = 'service') as service,
        exists (select 1 from configuration_items where id = ${id}) as found`)
  ) as { service: boolean; found: boolean }[]
  if (!found[0]?.found) throw fieldError(field, 'no such configuration item')
  if (!found[0].service) throw fieldError(field, 'not a service CI (class service or a subclass)')
}

async function checkCi(q: Queryable, id: string, field: string) {
  const found = rowsOf(await q.execute(sql`select 1 from configuration_items where id = ${id}`))
  if (!found.length) throw fieldError(field, 'no such configuration item')
}

async function checkOrganisation(q: Queryable, id: string) {
  const [row] = await q.select({ id: organisations.id }).from(organisations).where(eq(organisations.id, id))
  if (!row) throw fieldError('organisationId', 'no such organisation')
}

function positive(errors: FieldError[], field: string, value: string | undefined) {
  if (value !== undefined && isZero(value)) errors.push({ field, message: `${field} is above 0` })
}

export const weightKeyset = textKeyset<StoredWeight>(
  'service-cost-weights',
  serviceCostWeights.id,
  serviceCostWeights.id,
  r => r.id
)
export const priceKeyset = textKeyset<StoredPrice>('service-prices', servicePrices.id, servicePrices.id, r => r.id)
export const consumerKeyset = textKeyset<StoredConsumer>(
  'service-consumers',
  serviceConsumers.id,
  serviceConsumers.id,
  r => r.id
)

const weightView = (row: StoredWeight) => ({ ...row, weight: money(row.weight) })
const priceView = (row: StoredPrice) => ({ ...row, amount: money(row.amount) })
const consumerView = (row: StoredConsumer) => ({ ...row, units: money(row.units) })

/**
 * The service cost model: explicit weights a service CI bears of the CIs beneath it (split=weights),
 * what each service CI is sold at (prices, for the margin report) and which organisations consume it
 * (chargeback). Finance and admins read and write; every write audited.
 */
export function createServiceModelService({ db, config }: Deps) {
  const read = (ctx: Ctx) => authorize(ctx.actor, 'finance.read')
  const write = (ctx: Ctx) => authorize(ctx.actor, 'finance.manage')

  const weights = adminResource<StoredWeight, ReturnType<typeof weightView>>(db, {
    table: serviceCostWeights,
    id: serviceCostWeights.id,
    version: serviceCostWeights.version,
    entityType: 'service_cost_weight',
    noun: 'service cost weight',
    fields: ['serviceId', 'ciId', 'weight'],
    unique: { service_cost_weights_uq: { field: 'ciId', message: 'this service has a weight for this CI' } },
    view: weightView,
    authorizeRead: read,
    authorizeWrite: write
  })
  const prices = adminResource<StoredPrice, ReturnType<typeof priceView>>(db, {
    table: servicePrices,
    id: servicePrices.id,
    version: servicePrices.version,
    entityType: 'service_price',
    noun: 'service price',
    fields: ['serviceId', 'basis', 'amount', 'currency', 'quantityAttribute', 'validFrom', 'validTo'],
    view: priceView,
    authorizeRead: read,
    authorizeWrite: write
  })
  const consumers = adminResource<StoredConsumer, ReturnType<typeof consumerView>>(db, {
    table: serviceConsumers,
    id: serviceConsumers.id,
    version: serviceConsumers.version,
    entityType: 'service_consumer',
    noun: 'service consumer',
    fields: ['serviceId', 'organisationId', 'units'],
    unique: { service_consumers_uq: { field: 'organisationId', message: 'this organisation consumes this service' } },
    view: consumerView,
    authorizeRead: read,
    authorizeWrite: write
  })

  /** per_user and per_unit need the attribute holding the quantity; flat has none. */
  function priceShape(basis: string, quantityAttribute: string | null): FieldError[] {
    if (basis === 'flat' && quantityAttribute) {
      return [{ field: 'quantityAttribute', message: 'a flat price has no quantity' }]
    }
    if (basis !== 'flat' && !quantityAttribute) {
      return [{ field: 'quantityAttribute', message: `a ${basis} price names the attribute holding the quantity` }]
    }
    return []
  }

  /**
   * At most one price of a service is in force on any day: 409 naming validFrom when [from, to]
   * (null: unbounded) meets another of its prices. The service CI's row is locked first, so two
   * writers pricing one service take turns and the second sees the first's row.
   */
  async function checkValidity(
    tx: Queryable,
    serviceId: string,
    from: string | null,
    to: string | null,
    self?: string
  ) {
    if (from && to && to < from)
      throw validationFailed([{ field: 'validTo', message: 'the price ends before it starts' }])
    await tx.execute(sql`select 1 from configuration_items where id = ${serviceId} for update`)
    const clash = rowsOf<{ id: string; valid_from: string | null; valid_to: string | null }>(
      await tx.execute(sql`
        select id, valid_from::text, valid_to::text from service_prices
        where service_id = ${serviceId} and id is distinct from ${self ?? null}::uuid
          and coalesce(valid_from, '-infinity'::date) <= coalesce(${to}::date, 'infinity'::date)
          and coalesce(valid_to, 'infinity'::date) >= coalesce(${from}::date, '-infinity'::date)
        order by valid_from nulls first limit 1`)
    )[0]
    if (clash) {
      throw conflictField(
        'validFrom',
        `overlaps the price ${clash.id} in force from ${clash.valid_from ?? 'always'} to ${clash.valid_to ?? 'open end'}`
      )
    }
  }

  return {
    weights: {
      get: weights.get,
      cursorOf: weightKeyset.cursorOf,
      list: (ctx: Ctx, input: ServiceCostWeightListInput) =>
        weights.list(ctx, input, weightKeyset, [
          input.serviceId ? eq(serviceCostWeights.serviceId, input.serviceId.toLowerCase()) : undefined,
          input.ciId ? eq(serviceCostWeights.ciId, input.ciId.toLowerCase()) : undefined
        ]),
      create: (ctx: Ctx, input: CreateServiceCostWeightInput) =>
        weights.create(ctx, async tx => {
          const errors: FieldError[] = []
          positive(errors, 'weight', input.weight)
          const serviceId = input.serviceId.toLowerCase()
          const ciId = input.ciId.toLowerCase()
          if (serviceId === ciId) errors.push({ field: 'ciId', message: 'a service bears its own costs whole' })
          if (errors.length) throw validationFailed(errors)
          await checkServiceCi(tx, serviceId)
          await checkCi(tx, ciId, 'ciId')
          return { serviceId, ciId, weight: input.weight }
        }),
      update: (ctx: Ctx, id: string, input: UpdateServiceCostWeightInput, expectedVersion?: number) =>
        weights.update(ctx, id, expectedVersion, async (_tx, before) => {
          const errors: FieldError[] = []
          positive(errors, 'weight', input.weight)
          if (errors.length) throw validationFailed(errors)
          return money(input.weight) === money(before.weight) ? {} : { weight: input.weight }
        }),
      remove: weights.remove
    },

    prices: {
      get: prices.get,
      cursorOf: priceKeyset.cursorOf,
      list: (ctx: Ctx, input: ServicePriceListInput) =>
        prices.list(ctx, input, priceKeyset, [
          input.serviceId ? eq(servicePrices.serviceId, input.serviceId.toLowerCase()) : undefined
        ]),
      create: (ctx: Ctx, input: CreateServicePriceInput) =>
        prices.create(ctx, async tx => {
          const quantityAttribute = input.quantityAttribute ?? null
          const errors = priceShape(input.basis, quantityAttribute)
          if (errors.length) throw validationFailed(errors)
          const serviceId = input.serviceId.toLowerCase()
          await checkServiceCi(tx, serviceId)
          const validFrom = input.validFrom ?? null
          const validTo = input.validTo ?? null
          await checkValidity(tx, serviceId, validFrom, validTo)
          return {
            serviceId,
            basis: input.basis,
            amount: input.amount,
            currency: input.currency ?? config.REPORTING_CURRENCY,
            quantityAttribute,
            validFrom,
            validTo
          }
        }),
      update: (ctx: Ctx, id: string, input: UpdateServicePriceInput, expectedVersion?: number) =>
        prices.update(ctx, id, expectedVersion, async (tx, before) => {
          const basis = input.basis ?? before.basis
          const quantityAttribute =
            input.quantityAttribute !== undefined
              ? input.quantityAttribute
              : basis === 'flat'
                ? null
                : before.quantityAttribute
          const errors = priceShape(basis, quantityAttribute)
          if (errors.length) throw validationFailed(errors)
          const set: Record<string, unknown> = { basis, quantityAttribute }
          if (input.amount !== undefined && money(input.amount) !== money(before.amount)) set.amount = input.amount
          if (input.currency !== undefined) set.currency = input.currency
          if (input.validFrom !== undefined || input.validTo !== undefined) {
            const validFrom = input.validFrom !== undefined ? input.validFrom : before.validFrom
            const validTo = input.validTo !== undefined ? input.validTo : before.validTo
            await checkValidity(tx, before.serviceId, validFrom, validTo, before.id)
            Object.assign(set, { validFrom, validTo })
          }
          return set
        }),
      remove: prices.remove
    },

    consumers: {
      get: consumers.get,
      cursorOf: consumerKeyset.cursorOf,
      list: (ctx: Ctx, input: ServiceConsumerListInput) =>
        consumers.list(ctx, input, consumerKeyset, [
          input.serviceId ? eq(serviceConsumers.serviceId, input.serviceId.toLowerCase()) : undefined,
          input.organisationId ? eq(serviceConsumers.organisationId, input.organisationId.toLowerCase()) : undefined
        ]),
      create: (ctx: Ctx, input: CreateServiceConsumerInput) =>
        consumers.create(ctx, async tx => {
          const errors: FieldError[] = []
          positive(errors, 'units', input.units)
          if (errors.length) throw validationFailed(errors)
          const serviceId = input.serviceId.toLowerCase()
          const organisationId = input.organisationId.toLowerCase()
          await checkServiceCi(tx, serviceId)
          await checkOrganisation(tx, organisationId)
          return { serviceId, organisationId, units: input.units ?? '1' }
        }),
      update: (ctx: Ctx, id: string, input: UpdateServiceConsumerInput, expectedVersion?: number) =>
        consumers.update(ctx, id, expectedVersion, async (_tx, before) => {
          const errors: FieldError[] = []
          positive(errors, 'units', input.units)
          if (errors.length) throw validationFailed(errors)
          return money(input.units) === money(before.units) ? {} : { units: input.units }
        }),
      remove: consumers.remove
    }
  }
}

export type ServiceModelService = ReturnType<typeof createServiceModelService>
