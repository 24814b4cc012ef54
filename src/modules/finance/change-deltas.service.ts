import { and, eq } from 'drizzle-orm'
import { authorize } from '../../auth/policy.js'
import { changeCostDeltas, configurationItems, costCentres, ticketCis, tickets } from '../../db/schema/index.js'
import type { Ctx, Deps, Queryable } from '../../lib/context.js'
import { encodeCursor } from '../../lib/cursor.js'
import { type FieldError, notFound, validationFailed } from '../../lib/errors.js'
import { textKeyset } from '../../lib/keyset.js'
import { adminResource } from '../admin/admin-resource.js'
import type {
  ChangeCostDeltaListInput,
  CreateChangeCostDeltaInput,
  UpdateChangeCostDeltaInput
} from './change-deltas.schemas.js'
import type { CostService } from './costs.service.js'
import { moneyOrNull, scaled } from './money.js'

type StoredDelta = typeof changeCostDeltas.$inferSelect

export interface ChangeCostDeltaView {
  id: string
  changeId: string
  action: string
  ciId: string | null
  recurrence: string | null
  currency: string | null
  amount: string | null
  effectiveMonth: string
  costCentreId: string | null
  serviceId: string | null
  description: string
  version: number
  createdAt: Date
  updatedAt: Date
}

export function deltaView(row: StoredDelta): ChangeCostDeltaView {
  return {
    id: row.id,
    changeId: row.changeId,
    action: row.action,
    ciId: row.ciId,
    recurrence: row.recurrence,
    currency: row.currency,
    amount: moneyOrNull(row.amount),
    effectiveMonth: row.effectiveMonth.slice(0, 7),
    costCentreId: row.costCentreId,
    serviceId: row.serviceId,
    description: row.description,
    version: row.version,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt
  }
}

type DeltaShape = Omit<ChangeCostDeltaView, 'id' | 'changeId' | 'version' | 'createdAt' | 'updatedAt'>

/** The rules of a delta's shape at once (422 naming each field). */
function checkShape(d: DeltaShape): FieldError[] {
  const errors: FieldError[] = []
  if (d.action === 'retire') {
    if (!d.ciId) errors.push({ field: 'ciId', message: "a retire names the CI (one of the change's CIs) it retires" })
    for (const field of ['amount', 'recurrence', 'currency'] as const) {
      if (d[field] !== null) errors.push({ field, message: "a retire has no amount: the CI's own costs stop" })
    }
  } else {
    if (d.amount === null) errors.push({ field: 'amount', message: 'an add needs its amount' })
    if (d.recurrence === null) errors.push({ field: 'recurrence', message: 'an add is monthly or one_off' })
  }
  return errors
}

/** The deltas of a change page in id order (uuidv7: the order they were added). */
const deltaKeyset = textKeyset<StoredDelta>('change-cost-deltas', changeCostDeltas.id, changeCostDeltas.id, r => r.id)

/**
 * Cost deltas of changes (what an approved change adds to or retires from the costs ahead; the
 * forecast counts them). Finance and admins write; reads follow the CI costs' rule (finance, admins,
 * other staff while an admin grants it).
 */
export function createChangeDeltaService({ db, config, finance }: Deps & { finance: CostService }) {
  const deltas = adminResource<StoredDelta, ChangeCostDeltaView>(db, {
    table: changeCostDeltas,
    id: changeCostDeltas.id,
    version: changeCostDeltas.version,
    entityType: 'change_cost_delta',
    noun: 'change cost delta',
    fields: [
      'changeId',
      'action',
      'ciId',
      'recurrence',
      'currency',
      'amount',
      'effectiveMonth',
      'costCentreId',
      'serviceId',
      'description'
    ],
    view: deltaView,
    // Reads are checked before (authorizeCostRead is async)
    authorizeRead: () => {},
    authorizeWrite: ctx => authorize(ctx.actor, 'finance.manage')
  })

  async function loadChange(q: Queryable, id: string) {
    const [change] = await q
      .select({ id: tickets.id })
      .from(tickets)
      .where(and(eq(tickets.id, id.toLowerCase()), eq(tickets.kind, 'change')))
    if (!change) throw notFound('change')
  }

  /** What the delta names must exist, and its CI be one of the change's (422 naming the field). */
  async function checkRefs(q: Queryable, changeId: string, d: DeltaShape): Promise<FieldError[]> {
    const errors: FieldError[] = []
    if (d.ciId) {
      const [linked] = await q
        .select({ ciId: ticketCis.ciId })
        .from(ticketCis)
        .where(and(eq(ticketCis.ticketId, changeId), eq(ticketCis.ciId, d.ciId)))
      if (!linked) errors.push({ field: 'ciId', message: "the CI is not one of the change's CIs" })
    }
    if (d.costCentreId) {
      const [cc] = await q.select({ id: costCentres.id }).from(costCentres).where(eq(costCentres.id, d.costCentreId))
      if (!cc) errors.push({ field: 'costCentreId', message: 'no such cost centre' })
    }
    if (d.serviceId) {
      const [ci] = await q
        .select({ id: configurationItems.id })
        .from(configurationItems)
        .where(eq(configurationItems.id, d.serviceId))
      if (!ci) errors.push({ field: 'serviceId', message: 'no such service CI' })
    }
    return errors
  }

  async function checked(q: Queryable, changeId: string, d: DeltaShape) {
    const errors = [...checkShape(d), ...(await checkRefs(q, changeId, d))]
    if (errors.length) throw validationFailed(errors)
    return {
      action: d.action,
      ciId: d.ciId,
      recurrence: d.recurrence,
      currency: d.currency,
      amount: d.amount,
      effectiveMonth: `${d.effectiveMonth}-01`,
      costCentreId: d.costCentreId,
      serviceId: d.serviceId,
      description: d.description
    }
  }

  const lower = (id: string | null | undefined) => (id ? id.toLowerCase() : (id ?? null))

  return {
    cursorOf: (delta: { id: string }) => encodeCursor({ sort: 'change-cost-deltas', value: delta.id, id: delta.id }),
    async listOfChange(ctx: Ctx, changeId: string, input: ChangeCostDeltaListInput) {
      await finance.authorizeCostRead(ctx)
      await loadChange(db, changeId)
      return deltas.list(ctx, input, deltaKeyset, [eq(changeCostDeltas.changeId, changeId.toLowerCase())])
    },
    async get(ctx: Ctx, id: string) {
      await finance.authorizeCostRead(ctx)
      return deltas.get(ctx, id)
    },
    add: (ctx: Ctx, changeId: string, input: CreateChangeCostDeltaInput) =>
      deltas.create(ctx, async tx => {
        await loadChange(tx, changeId)
        const retire = input.action === 'retire'
        const shape: DeltaShape = {
          action: input.action,
          ciId: lower(input.ciId),
          recurrence: input.recurrence ?? null,
          currency: input.currency ?? (retire ? null : config.REPORTING_CURRENCY),
          amount: input.amount ?? null,
          effectiveMonth: input.effectiveMonth,
          costCentreId: lower(input.costCentreId),
          serviceId: lower(input.serviceId),
          description: input.description ?? ''
        }
        return { changeId: changeId.toLowerCase(), ...(await checked(tx, changeId.toLowerCase(), shape)) }
      }),
    update: (ctx: Ctx, id: string, input: UpdateChangeCostDeltaInput, expectedVersion?: number) =>
      deltas.update(ctx, id, expectedVersion, async (tx, before) => {
        const was = deltaView(before)
        const shape: DeltaShape = {
          ...was,
          ...input,
          ciId: input.ciId === undefined ? was.ciId : lower(input.ciId),
          costCentreId: input.costCentreId === undefined ? was.costCentreId : lower(input.costCentreId),
          serviceId: input.serviceId === undefined ? was.serviceId : lower(input.serviceId)
        }
        const set: Record<string, unknown> = await checked(tx, before.changeId, shape)
        // Exact decimals compare by value: "100" and "100.0000" are the same amount
        if (before.amount !== null && shape.amount !== null && scaled(shape.amount) === scaled(before.amount)) {
          set.amount = before.amount
        }
        return set
      }),
    remove: (ctx: Ctx, id: string, expectedVersion?: number) => deltas.remove(ctx, id, expectedVersion)
  }
}

export type ChangeDeltaService = ReturnType<typeof createChangeDeltaService>
