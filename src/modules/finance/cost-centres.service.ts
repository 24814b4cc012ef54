import { eq, isNull, type SQL, sql } from 'drizzle-orm'
import { authorize } from '../../auth/policy.js'
import { budgets, configurationItems, costCentres, organisations, services } from '../../db/schema/index.js'
import type { Ctx, Deps, Queryable, Tx } from '../../lib/context.js'
import { conflictField, fieldError } from '../../lib/errors.js'
import { textKeyset } from '../../lib/keyset.js'
import { adminResource } from '../admin/admin-resource.js'
import {
  type BudgetListInput,
  type CostCentreListInput,
  type CreateBudgetInput,
  type CreateCostCentreInput,
  MAX_DEPTH,
  type Period,
  type UpdateBudgetInput,
  type UpdateCostCentreInput
} from './cost-centres.schemas.js'
import { money } from './money.js'

export type CostCentreRow = typeof costCentres.$inferSelect
type StoredBudget = typeof budgets.$inferSelect
export type BudgetView = Omit<StoredBudget, 'amount'> & { amount: string }

const rowsOf = <T>(result: unknown) => (result as { rows: T[] }).rows
const lowered = (id: string | null | undefined) => (id ? id.toLowerCase() : id)

/** The cost centre and its ancestors, nearest first; bounded so a corrupt loop cannot run away. */
async function chainUp(q: Queryable, id: string): Promise<{ id: string; code: string }[]> {
  const result = await q.execute(sql`
    with recursive up as (
      select id, parent_id, code, 1 as n from cost_centres where id = ${id}
      union all
      select c.id, c.parent_id, c.code, up.n + 1 from cost_centres c join up on c.id = up.parent_id
      where up.n < ${MAX_DEPTH * 2}
    )
    select id, code from up order by n`)
  return rowsOf(result)
}

async function subtreeHeight(q: Queryable, id: string): Promise<number> {
  const result = await q.execute(sql`
    with recursive down as (
      select id, 1 as h from cost_centres where id = ${id}
      union all
      select c.id, down.h + 1 from cost_centres c join down on c.parent_id = down.id where down.h < ${MAX_DEPTH * 2}
    )
    select max(h)::int as h from down`)
  return Number(rowsOf<{ h: number }>(result)[0]?.h ?? 1)
}

/**
 * A cost centre a write names (a CI, a service, an organisation, a budget, a cost): it must exist,
 * else 422 naming `field`. The CMDB, the catalog and the directory check theirs the same way.
 */
export async function checkCostCentre(q: Queryable, id: string | null | undefined, field = 'costCentreId') {
  if (!id) return
  const [row] = await q.select({ id: costCentres.id }).from(costCentres).where(eq(costCentres.id, id.toLowerCase()))
  if (!row) throw fieldError(field, 'no such cost centre')
}

/** Whether `periodStart` opens a period of this kind (a month's 1st, a quarter's 1st, 1 January). */
export function periodStartError(period: Period, periodStart: string): string | null {
  const [, m, d] = periodStart.split('-').map(Number)
  if (d !== 1) return 'a period starts on the 1st of a month'
  if (period === 'quarter' && (m! - 1) % 3 !== 0) return 'a quarter starts on 1 January, April, July or October'
  if (period === 'year' && m !== 1) return 'a year starts on 1 January'
  return null
}

export const costCentreKeyset = textKeyset<CostCentreRow>('code', costCentres.code, costCentres.id, r => r.code)
export const budgetKeyset = textKeyset<StoredBudget>('periodStart', budgets.periodStart, budgets.id, r => r.periodStart)
const budgetView = (row: StoredBudget): BudgetView => ({ ...row, amount: money(row.amount) })

/** Cost centres in one tree (writes serialised by one lock) and their budgets per period. */
export function createCostCentreService({ db, config }: Deps) {
  const lockTree = (tx: Tx) => tx.execute(sql`select pg_advisory_xact_lock(hashtext('cost_centres'))`)

  const centres = adminResource<CostCentreRow, CostCentreRow>(db, {
    table: costCentres,
    id: costCentres.id,
    version: costCentres.version,
    entityType: 'cost_centre',
    noun: 'cost centre',
    fields: ['code', 'name', 'parentId', 'organisationId'],
    unique: {
      cost_centres_code_uq: { field: 'code', message: 'a cost centre with this code exists' },
      cost_centres_organisation_uq: {
        field: 'organisationId',
        message: 'this organisation is already a cost centre'
      }
    },
    view: row => row,
    authorizeRead: ctx => authorize(ctx.actor, 'finance.read'),
    authorizeWrite: ctx => authorize(ctx.actor, 'finance.manage'),
    serialise: async tx => {
      await lockTree(tx)
    }
  })

  async function checkOrganisation(q: Queryable, id: string | null | undefined) {
    if (!id) return
    const [row] = await q.select({ id: organisations.id }).from(organisations).where(eq(organisations.id, id))
    if (!row) throw fieldError('organisationId', 'no such organisation')
  }

  const budgetResource = adminResource<StoredBudget, BudgetView>(db, {
    table: budgets,
    id: budgets.id,
    version: budgets.version,
    entityType: 'budget',
    noun: 'budget',
    fields: ['costCentreId', 'period', 'periodStart', 'amount', 'currency'],
    unique: {
      budgets_period_uq: { field: 'periodStart', message: 'this cost centre has a budget for this period' }
    },
    view: budgetView,
    authorizeRead: ctx => authorize(ctx.actor, 'finance.read'),
    authorizeWrite: ctx => authorize(ctx.actor, 'finance.manage')
  })

  return {
    get: centres.get,
    byIds: centres.byIds,
    cursorOf: costCentreKeyset.cursorOf,

    list: (ctx: Ctx, input: CostCentreListInput) =>
      centres.list(ctx, input, costCentreKeyset, [
        input.parentId === 'root'
          ? isNull(costCentres.parentId)
          : input.parentId
            ? eq(costCentres.parentId, input.parentId.toLowerCase())
            : undefined,
        input.organisationId ? eq(costCentres.organisationId, input.organisationId.toLowerCase()) : undefined
      ]),

    create: (ctx: Ctx, input: CreateCostCentreInput) =>
      centres.create(ctx, async tx => {
        await lockTree(tx)
        const parentId = lowered(input.parentId) ?? null
        if (parentId) {
          const chain = await chainUp(tx, parentId)
          if (!chain.length) throw fieldError('parentId', 'no such cost centre')
          if (chain.length >= MAX_DEPTH)
            throw fieldError('parentId', `cost centres nest at most ${MAX_DEPTH} levels deep`)
        }
        await checkOrganisation(tx, lowered(input.organisationId))
        return {
          code: input.code,
          name: input.name.trim(),
          parentId,
          organisationId: lowered(input.organisationId) ?? null
        }
      }),

    /** A move is refused (409 naming parentId) when the new parent is the cost centre or beneath it. */
    update: (ctx: Ctx, id: string, input: UpdateCostCentreInput, expectedVersion?: number) =>
      centres.update(ctx, id, expectedVersion, async (tx, before) => {
        const set: Record<string, unknown> = {}
        if (input.code !== undefined) set.code = input.code
        if (input.name !== undefined) set.name = input.name.trim()
        if (input.organisationId !== undefined) {
          await checkOrganisation(tx, lowered(input.organisationId))
          set.organisationId = lowered(input.organisationId) ?? null
        }
        if (input.parentId !== undefined) {
          const parentId = lowered(input.parentId) ?? null
          if (parentId && parentId !== before.parentId) {
            if (parentId === id) throw conflictField('parentId', 'a cost centre cannot be its own parent')
            const chain = await chainUp(tx, parentId)
            if (!chain.length) throw fieldError('parentId', 'no such cost centre')
            if (chain.some(c => c.id === id)) {
              throw conflictField(
                'parentId',
                `"${chain[0]!.code}" is beneath this cost centre: the move would make a cycle`
              )
            }
            const deepest = chain.length + (await subtreeHeight(tx, id))
            if (deepest > MAX_DEPTH) {
              throw fieldError(
                'parentId',
                `the move would nest cost centres ${deepest} levels deep; at most ${MAX_DEPTH}`
              )
            }
          }
          set.parentId = parentId
        }
        return set
      }),

    /** Refused (409) while anything names it: a child, a CI, a service or an organisation. */
    remove: (ctx: Ctx, id: string, expectedVersion?: number) =>
      centres.remove(ctx, id, expectedVersion, async tx => {
        await lockTree(tx)
        const users: [string, SQL][] = [
          ['cost centre', sql`select 1 from ${costCentres} where ${costCentres.parentId} = ${id}`],
          ['CI', sql`select 1 from ${configurationItems} where ${configurationItems.costCentreId} = ${id}`],
          ['service', sql`select 1 from ${services} where ${services.costCentreId} = ${id}`],
          ['organisation', sql`select 1 from ${organisations} where ${organisations.costCentreId} = ${id}`]
        ]
        for (const [noun, query] of users) {
          const found = rowsOf(await tx.execute(sql`${query} limit 1`))
          if (found.length) throw conflictField('id', `a ${noun} names this cost centre: move it first`)
        }
      }),

    budgets: {
      get: budgetResource.get,
      cursorOf: budgetKeyset.cursorOf,
      list: (ctx: Ctx, input: BudgetListInput) =>
        budgetResource.list(ctx, input, budgetKeyset, [
          input.costCentreId ? eq(budgets.costCentreId, input.costCentreId.toLowerCase()) : undefined,
          input.period ? eq(budgets.period, input.period) : undefined
        ]),
      create: (ctx: Ctx, input: CreateBudgetInput) =>
        budgetResource.create(ctx, async tx => {
          await checkCostCentre(tx, input.costCentreId)
          const wrong = periodStartError(input.period, input.periodStart)
          if (wrong) throw fieldError('periodStart', wrong)
          return {
            costCentreId: input.costCentreId.toLowerCase(),
            period: input.period,
            periodStart: input.periodStart,
            amount: input.amount,
            currency: input.currency ?? config.REPORTING_CURRENCY
          }
        }),
      update: (ctx: Ctx, id: string, input: UpdateBudgetInput, expectedVersion?: number) =>
        budgetResource.update(ctx, id, expectedVersion, async (_tx, before) => {
          const set: Record<string, unknown> = {}
          // Compare as numbers of the same scale: "100" and "100.0000" are the same budget
          if (input.amount !== undefined && money(input.amount) !== money(before.amount)) set.amount = input.amount
          if (input.currency !== undefined) set.currency = input.currency
          return set
        }),
      remove: budgetResource.remove
    }
  }
}

export type CostCentreService = ReturnType<typeof createCostCentreService>
