import { eq } from 'drizzle-orm'
import { authorize, can, isStaff } from '../../auth/policy.js'
import { ciCosts, configurationItems, exchangeRates, financeSettings } from '../../db/schema/index.js'
import type { Ctx, Deps, Queryable } from '../../lib/context.js'
import { encodeCursor } from '../../lib/cursor.js'
import { type FieldError, forbidden, notFound, validationFailed } from '../../lib/errors.js'
import { textKeyset } from '../../lib/keyset.js'
import { adminResource } from '../admin/admin-resource.js'
import { adminSettings } from '../admin/admin-settings.js'
import type {
  CiCostListInput,
  CreateCiCostInput,
  CreateExchangeRateInput,
  ExchangeRateListInput,
  FinanceSettingsInput,
  UpdateCiCostInput,
  UpdateExchangeRateInput
} from './costs.schemas.js'
import { money, moneyOrNull, scaled } from './money.js'

type StoredCost = typeof ciCosts.$inferSelect
type StoredRate = typeof exchangeRates.$inferSelect

export interface CiCostView {
  id: string
  ciId: string
  kind: string
  category: string
  description: string
  currency: string
  amount: string
  period: string | null
  purchaseDate: string | null
  startDate: string | null
  endDate: string | null
  depreciationMonths: number | null
  residualValue: string | null
  version: number
  createdAt: Date
  updatedAt: Date
}

/** The stored row in the API's shape: a capital cost's start_date is its purchase date. */
export function costView(row: StoredCost): CiCostView {
  const capital = row.kind === 'capital'
  return {
    id: row.id,
    ciId: row.ciId,
    kind: row.kind,
    category: row.category,
    description: row.description,
    currency: row.currency,
    amount: money(row.amount),
    period: row.period,
    purchaseDate: capital ? row.startDate : null,
    startDate: capital ? null : row.startDate,
    endDate: row.endDate,
    depreciationMonths: row.depreciationMonths,
    residualValue: moneyOrNull(row.residualValue),
    version: row.version,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt
  }
}

export interface FinanceSettingsValue {
  technicianCostAccess: boolean
  customerChargeback: boolean
}
const DEFAULT_SETTINGS: FinanceSettingsValue = { technicianCostAccess: false, customerChargeback: false }

type CostShape = Omit<CiCostView, 'id' | 'ciId' | 'version' | 'createdAt' | 'updatedAt'>

/** Every rule of a cost's shape at once (422 naming each field). */
function checkShape(c: CostShape): FieldError[] {
  const errors: FieldError[] = []
  const forbid = (field: keyof CostShape, why: string) => {
    if (c[field] !== null && c[field] !== undefined) errors.push({ field, message: why })
  }
  const need = (field: keyof CostShape, why: string) => {
    if (c[field] === null || c[field] === undefined) errors.push({ field, message: why })
  }
  if (c.kind === 'capital') {
    need('purchaseDate', 'a capital cost needs its purchase date')
    need('depreciationMonths', 'a capital cost needs the months it depreciates over')
    forbid('period', 'a capital cost has no period: it depreciates monthly')
    forbid('startDate', 'a capital cost has a purchaseDate, not a startDate')
    forbid('endDate', 'a capital cost ends when its depreciation does')
    if (c.residualValue !== null && scaled(c.residualValue) > scaled(c.amount)) {
      errors.push({ field: 'residualValue', message: 'the residual value cannot exceed the amount' })
    }
  } else {
    need('period', 'a recurring cost needs its period: month, quarter or year')
    need('startDate', 'a recurring cost needs its start date')
    forbid('purchaseDate', 'a recurring cost has a startDate, not a purchaseDate')
    forbid('depreciationMonths', 'only capital costs depreciate')
    forbid('residualValue', 'only capital costs have a residual value')
    if (c.startDate && c.endDate && c.endDate < c.startDate) {
      errors.push({ field: 'endDate', message: 'the end date is before the start date' })
    }
  }
  return errors
}

function columnsOf(c: CostShape) {
  return {
    kind: c.kind,
    category: c.category,
    description: c.description,
    currency: c.currency,
    amount: c.amount,
    period: c.period,
    startDate: (c.kind === 'capital' ? c.purchaseDate : c.startDate)!,
    endDate: c.endDate,
    depreciationMonths: c.depreciationMonths,
    residualValue: c.kind === 'capital' ? (c.residualValue ?? '0') : null
  }
}

/** CI costs page in id order (uuidv7: the order they were added). */
const costKeyset = textKeyset<StoredCost>('ci-costs', ciCosts.id, ciCosts.id, r => r.id)
export const rateKeyset = textKeyset<StoredRate>(
  'validFrom',
  exchangeRates.validFrom,
  exchangeRates.id,
  r => r.validFrom
)

/**
 * CI costs, exchange rates and who else may read costs. Finance and admins read and write all of it;
 * other staff read CI costs only while an admin grants it (technicianCostAccess); customers never.
 */
export function createCostService({ db, config }: Deps) {
  const settings = adminSettings<number, FinanceSettingsValue>({
    table: financeSettings,
    key: financeSettings.id,
    version: financeSettings.version,
    entityType: 'finance_settings',
    noun: 'finance settings',
    auditId: () => '00000000-0000-0000-0000-00000000f1ce',
    read: row => ({ ...DEFAULT_SETTINGS, ...((row?.settings as Partial<FinanceSettingsValue>) ?? {}) }),
    columns: (id, value) => ({ id, settings: value }),
    fields: value => Object.keys(value),
    authorizeRead: ctx => authorize(ctx.actor, 'finance.read'),
    authorizeWrite: ctx => authorize(ctx.actor, 'config.manage')
  })

  const current = async (q: Queryable = db) => (await settings.load(q, 1)).value

  /** Finance and admins; other staff only while granted. */
  async function authorizeCostRead(ctx: Ctx) {
    if (can(ctx.actor, 'finance.read')) return
    if (isStaff(ctx.actor) && can(ctx.actor, 'ci.read') && (await current()).technicianCostAccess) return
    throw forbidden('your roles do not allow reading CI costs (an admin may grant it to staff)', {
      action: 'finance.read'
    })
  }

  const costs = adminResource<StoredCost, CiCostView>(db, {
    table: ciCosts,
    id: ciCosts.id,
    version: ciCosts.version,
    entityType: 'ci_cost',
    noun: 'CI cost',
    fields: [
      'ciId',
      'kind',
      'category',
      'description',
      'currency',
      'amount',
      'period',
      'startDate',
      'endDate',
      'depreciationMonths',
      'residualValue'
    ],
    view: costView,
    // Reads are checked before (authorizeCostRead is async); the helper's own check passes them through
    authorizeRead: () => {},
    authorizeWrite: ctx => authorize(ctx.actor, 'finance.manage')
  })

  async function loadCi(q: Queryable, id: string) {
    const [ci] = await q
      .select({ id: configurationItems.id })
      .from(configurationItems)
      .where(eq(configurationItems.id, id.toLowerCase()))
    if (!ci) throw notFound('configuration item')
  }

  const rates = adminResource<StoredRate, StoredRate>(db, {
    table: exchangeRates,
    id: exchangeRates.id,
    version: exchangeRates.version,
    entityType: 'exchange_rate',
    noun: 'exchange rate',
    fields: ['currency', 'validFrom', 'rate'],
    unique: {
      exchange_rates_currency_from_uq: { field: 'validFrom', message: 'this currency has a rate from this day' }
    },
    view: row => ({ ...row, rate: trimRate(row.rate) }),
    authorizeRead: ctx => authorize(ctx.actor, 'finance.read'),
    authorizeWrite: ctx => authorize(ctx.actor, 'finance.manage')
  })

  return {
    authorizeCostRead,
    currentSettings: current,

    settings: {
      async get(ctx: Ctx) {
        const { value, version } = await settings.get(ctx, 1)
        return { reportingCurrency: config.REPORTING_CURRENCY, ...value, version }
      },
      async set(ctx: Ctx, input: FinanceSettingsInput, expectedVersion?: number) {
        const { value, version } = await settings.set(ctx, 1, expectedVersion, async () => ({
          technicianCostAccess: input.technicianCostAccess,
          customerChargeback: input.customerChargeback
        }))
        return { reportingCurrency: config.REPORTING_CURRENCY, ...value, version }
      }
    },

    costs: {
      /** The cursor after a cost (ids are the sort key). */
      cursorOf: (cost: { id: string }) => encodeCursor({ sort: 'ci-costs', value: cost.id, id: cost.id }),
      async listOfCi(ctx: Ctx, ciId: string, input: CiCostListInput) {
        await authorizeCostRead(ctx)
        await loadCi(db, ciId)
        return costs.list(ctx, input, costKeyset, [eq(ciCosts.ciId, ciId.toLowerCase())])
      },
      async get(ctx: Ctx, id: string) {
        await authorizeCostRead(ctx)
        return costs.get(ctx, id)
      },
      add: (ctx: Ctx, ciId: string, input: CreateCiCostInput) =>
        costs.create(ctx, async tx => {
          await loadCi(tx, ciId)
          const shape: CostShape = {
            kind: input.kind,
            category: input.category,
            description: input.description ?? '',
            currency: input.currency ?? config.REPORTING_CURRENCY,
            amount: input.amount,
            period: input.period ?? null,
            purchaseDate: input.purchaseDate ?? null,
            startDate: input.startDate ?? null,
            endDate: input.endDate ?? null,
            depreciationMonths: input.depreciationMonths ?? null,
            residualValue: input.residualValue ?? (input.kind === 'capital' ? '0' : null)
          }
          const errors = checkShape(shape)
          if (errors.length) throw validationFailed(errors)
          return { ciId: ciId.toLowerCase(), ...columnsOf(shape) }
        }),
      update: (ctx: Ctx, id: string, input: UpdateCiCostInput, expectedVersion?: number) =>
        costs.update(ctx, id, expectedVersion, async (_tx, before) => {
          const was = costView(before)
          const shape: CostShape = { ...was, ...input }
          const errors = checkShape(shape)
          if (errors.length) throw validationFailed(errors)
          const next = columnsOf(shape)
          // Exact decimals compare by value: "100" and "100.0000" are the same amount
          const set: Record<string, unknown> = { ...next }
          if (scaled(next.amount) === scaled(before.amount)) set.amount = before.amount
          if (next.residualValue !== null && before.residualValue !== null) {
            if (scaled(next.residualValue) === scaled(before.residualValue)) set.residualValue = before.residualValue
          }
          return set
        }),
      remove: (ctx: Ctx, id: string, expectedVersion?: number) => costs.remove(ctx, id, expectedVersion)
    },

    rates: {
      get: rates.get,
      cursorOf: rateKeyset.cursorOf,
      list: (ctx: Ctx, input: ExchangeRateListInput) =>
        rates.list(ctx, input, rateKeyset, [input.currency ? eq(exchangeRates.currency, input.currency) : undefined]),
      create: (ctx: Ctx, input: CreateExchangeRateInput) =>
        rates.create(ctx, async () => {
          if (input.currency === config.REPORTING_CURRENCY) {
            throw validationFailed([
              { field: 'currency', message: `${input.currency} is the reporting currency: its rate is always 1` }
            ])
          }
          if (/^0(\.0*)?$/.test(input.rate)) {
            throw validationFailed([{ field: 'rate', message: 'a rate is above zero' }])
          }
          return { currency: input.currency, validFrom: input.validFrom, rate: input.rate }
        }),
      update: (ctx: Ctx, id: string, input: UpdateExchangeRateInput, expectedVersion?: number) =>
        rates.update(ctx, id, expectedVersion, async (_tx, before) => {
          if (/^0(\.0*)?$/.test(input.rate))
            throw validationFailed([{ field: 'rate', message: 'a rate is above zero' }])
          return trimRate(input.rate) === trimRate(before.rate) ? {} : { rate: input.rate }
        }),
      remove: rates.remove
    }
  }
}

/** A numeric rate without trailing zeros ("1.1000000000" → "1.1"). */
function trimRate(value: string): string {
  if (!value.includes('.')) return value
  return value.replace(/0+$/, '').replace(/\.$/, '')
}

export type CostService = ReturnType<typeof createCostService>
