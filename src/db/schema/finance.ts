import { sql } from 'drizzle-orm'
import {
  check,
  date,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  smallint,
  text,
  uniqueIndex,
  uuid
} from 'drizzle-orm/pg-core'
import { configurationItems } from './cmdb.js'
import { ts } from './columns.js'
import { organisations } from './identity.js'
import { tickets } from './tickets.js'

/**
 * IT financial management. Money is `numeric` (exact) and travels as decimal strings; a cost's
 * currency is an ISO 4217 code, reports convert into the one reporting currency by the rate in force
 * on each day (exchange_rates).
 */

/**
 * Cost centres in a hierarchy (parent_id; the service keeps it acyclic). An organisation unit is a
 * cost centre when one names it (organisation_id, at most one per organisation).
 */
export const costCentres = pgTable(
  'cost_centres',
  {
    id: uuid('id').primaryKey(),
    code: text('code').notNull(),
    name: text('name').notNull(),
    parentId: uuid('parent_id'),
    organisationId: uuid('organisation_id').references(() => organisations.id),
    version: integer('version').notNull().default(1),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow()
  },
  t => [
    uniqueIndex('cost_centres_code_uq').on(sql`lower(${t.code})`),
    uniqueIndex('cost_centres_organisation_uq').on(t.organisationId),
    index('cost_centres_parent_idx').on(t.parentId)
  ]
)

/** A cost centre's budget for one period: a month, a quarter or a year starting on period_start. */
export const budgets = pgTable(
  'budgets',
  {
    id: uuid('id').primaryKey(),
    costCentreId: uuid('cost_centre_id')
      .notNull()
      .references(() => costCentres.id, { onDelete: 'cascade' }),
    /** month, quarter or year. */
    period: text('period').notNull(),
    /** The first day of the period (a month's first, a quarter's first, 1 January). */
    periodStart: date('period_start', { mode: 'string' }).notNull(),
    amount: numeric('amount', { precision: 20, scale: 4 }).notNull(),
    currency: text('currency').notNull(),
    version: integer('version').notNull().default(1),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow()
  },
  t => [uniqueIndex('budgets_period_uq').on(t.costCentreId, t.period, t.periodStart)]
)

/**
 * What a CI costs. capital: `amount` paid on start_date (the purchase date), depreciated straight-line
 * over depreciation_months down to residual_value. recurring: `amount` per `period` (month, quarter,
 * year) from start_date to end_date (inclusive; none: open-ended), spread evenly over its days.
 */
export const ciCosts = pgTable(
  'ci_costs',
  {
    id: uuid('id').primaryKey(),
    ciId: uuid('ci_id')
      .notNull()
      .references(() => configurationItems.id, { onDelete: 'cascade' }),
    kind: text('kind').notNull(),
    /** licence, support, hosting, power, labour, hardware, other. */
    category: text('category').notNull(),
    description: text('description').notNull().default(''),
    currency: text('currency').notNull(),
    amount: numeric('amount', { precision: 20, scale: 4 }).notNull(),
    period: text('period'),
    startDate: date('start_date', { mode: 'string' }).notNull(),
    endDate: date('end_date', { mode: 'string' }),
    depreciationMonths: smallint('depreciation_months'),
    residualValue: numeric('residual_value', { precision: 20, scale: 4 }),
    version: integer('version').notNull().default(1),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow()
  },
  t => [index('ci_costs_ci_idx').on(t.ciId), check('ci_costs_amount_ck', sql`${t.amount} >= 0`)]
)

/** Units of the reporting currency one unit of `currency` buys, from valid_from until the next rate. */
export const exchangeRates = pgTable(
  'exchange_rates',
  {
    id: uuid('id').primaryKey(),
    currency: text('currency').notNull(),
    validFrom: date('valid_from', { mode: 'string' }).notNull(),
    rate: numeric('rate', { precision: 24, scale: 10 }).notNull(),
    version: integer('version').notNull().default(1),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow()
  },
  t => [uniqueIndex('exchange_rates_currency_from_uq').on(t.currency, t.validFrom)]
)

/** Who else sees costs: technicians (CI cost fields), customers (their organisation's chargeback). */
export const financeSettings = pgTable('finance_settings', {
  id: smallint('id').primaryKey(),
  settings: jsonb('settings').notNull(),
  version: integer('version').notNull().default(1),
  updatedAt: ts('updated_at').notNull().defaultNow()
})

/**
 * An explicit weight a service CI bears of a CI beneath it (split=weights): a CI with weights splits
 * its cost over the services reaching it that have one, weight over their sum. Weights are > 0.
 */
export const serviceCostWeights = pgTable(
  'service_cost_weights',
  {
    id: uuid('id').primaryKey(),
    serviceId: uuid('service_id')
      .notNull()
      .references(() => configurationItems.id, { onDelete: 'cascade' }),
    ciId: uuid('ci_id')
      .notNull()
      .references(() => configurationItems.id, { onDelete: 'cascade' }),
    weight: numeric('weight', { precision: 20, scale: 4 }).notNull(),
    version: integer('version').notNull().default(1),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow()
  },
  t => [
    uniqueIndex('service_cost_weights_uq').on(t.serviceId, t.ciId),
    index('service_cost_weights_ci_idx').on(t.ciId),
    check('service_cost_weights_weight_ck', sql`${t.weight} > 0`)
  ]
)

/**
 * What a service CI is sold at per month: flat (amount), per_user or per_unit (amount times the
 * service CI's numeric attribute quantity_attribute), in force from valid_from to valid_to (both
 * inclusive days; null: since always, open-ended). At most one price of a service is in force on any
 * day: the service refuses overlaps (409), serialised on the service CI's row.
 */
export const servicePrices = pgTable(
  'service_prices',
  {
    id: uuid('id').primaryKey(),
    serviceId: uuid('service_id')
      .notNull()
      .references(() => configurationItems.id, { onDelete: 'cascade' }),
    /** flat, per_user, per_unit. */
    basis: text('basis').notNull(),
    amount: numeric('amount', { precision: 20, scale: 4 }).notNull(),
    currency: text('currency').notNull(),
    quantityAttribute: text('quantity_attribute'),
    validFrom: date('valid_from', { mode: 'string' }),
    validTo: date('valid_to', { mode: 'string' }),
    version: integer('version').notNull().default(1),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow()
  },
  t => [
    index('service_prices_service_idx').on(t.serviceId, t.validFrom),
    check('service_prices_amount_ck', sql`${t.amount} >= 0`),
    check('service_prices_validity_ck', sql`${t.validTo} >= ${t.validFrom}`)
  ]
)

/** An organisation consuming a service CI (chargeback): subscribed, with its usage in units (> 0). */
export const serviceConsumers = pgTable(
  'service_consumers',
  {
    id: uuid('id').primaryKey(),
    serviceId: uuid('service_id')
      .notNull()
      .references(() => configurationItems.id, { onDelete: 'cascade' }),
    organisationId: uuid('organisation_id')
      .notNull()
      .references(() => organisations.id, { onDelete: 'cascade' }),
    units: numeric('units', { precision: 20, scale: 4 }).notNull().default('1'),
    version: integer('version').notNull().default(1),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow()
  },
  t => [
    uniqueIndex('service_consumers_uq').on(t.serviceId, t.organisationId),
    index('service_consumers_organisation_idx').on(t.organisationId),
    check('service_consumers_units_ck', sql`${t.units} > 0`)
  ]
)

/**
 * What an approved change does to the costs ahead (the forecast): `add` a monthly or one-off amount
 * from its effective month (optionally on one of the change's CIs, a cost centre or a service), or
 * `retire` one of the change's CIs, which stops that CI's costs from its effective month.
 */
export const changeCostDeltas = pgTable(
  'change_cost_deltas',
  {
    id: uuid('id').primaryKey(),
    changeId: uuid('change_id')
      .notNull()
      .references(() => tickets.id, { onDelete: 'cascade' }),
    /** add | retire */
    action: text('action').notNull(),
    ciId: uuid('ci_id').references(() => configurationItems.id, { onDelete: 'cascade' }),
    /** monthly | one_off (add only) */
    recurrence: text('recurrence'),
    currency: text('currency'),
    amount: numeric('amount', { precision: 20, scale: 4 }),
    /** The first day of the month it takes effect in. */
    effectiveMonth: date('effective_month', { mode: 'string' }).notNull(),
    costCentreId: uuid('cost_centre_id').references(() => costCentres.id, { onDelete: 'set null' }),
    serviceId: uuid('service_id').references(() => configurationItems.id, { onDelete: 'set null' }),
    description: text('description').notNull().default(''),
    version: integer('version').notNull().default(1),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow()
  },
  t => [
    index('change_cost_deltas_change_idx').on(t.changeId),
    index('change_cost_deltas_ci_idx').on(t.ciId),
    check(
      'change_cost_deltas_shape_ck',
      sql`(${t.action} = 'add' and ${t.amount} is not null and ${t.currency} is not null and ${t.recurrence} is not null)
        or (${t.action} = 'retire' and ${t.ciId} is not null and ${t.amount} is null)`
    ),
    check('change_cost_deltas_month_ck', sql`extract(day from ${t.effectiveMonth}) = 1`)
  ]
)
