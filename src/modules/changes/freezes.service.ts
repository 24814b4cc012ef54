import { and, asc, eq, gt, lt, or, type SQL } from 'drizzle-orm'
import type { Actor } from '../../auth/actor.js'
import { authorize, isStaff } from '../../auth/policy.js'
import { changeFreezes } from '../../db/schema/index.js'
import type { Ctx, Deps, Queryable } from '../../lib/context.js'
import { decodeCursor, type Page, pageOf } from '../../lib/cursor.js'
import { badRequest, fieldError, forbidden, notFound } from '../../lib/errors.js'
import { uuidv7 } from '../../lib/ids.js'
import { diff, recordAudit } from '../audit/audit.service.js'
import {
  type CreateFreezeInput,
  type FreezeListInput,
  MAX_FREEZE_DAYS,
  type UpdateFreezeInput
} from './freezes.schemas.js'

type FreezeRow = typeof changeFreezes.$inferSelect
export interface FreezeView extends Omit<FreezeRow, 'createdBy'> {
  createdById: string | null
}

const SORT = 'change-freezes'
const DAY_MS = 86_400_000
const FIELDS: (keyof FreezeView)[] = ['name', 'reason', 'startsAt', 'endsAt']

const toView = ({ createdBy, ...rest }: FreezeRow): FreezeView => ({ ...rest, createdById: createdBy })
const NONE = { name: null, reason: null, startsAt: null, endsAt: null }

/**
 * Freezes overlapping [from, to): those that start before `to` and end after `from`, by start time.
 * Half-open on both sides, so a change ending exactly when a freeze starts does not touch it.
 */
export async function freezesOverlapping(q: Queryable, from: Date, to: Date): Promise<FreezeView[]> {
  const rows = await q
    .select()
    .from(changeFreezes)
    .where(and(lt(changeFreezes.startsAt, to), gt(changeFreezes.endsAt, from)))
    .orderBy(asc(changeFreezes.startsAt), asc(changeFreezes.id))
  return rows.map(toView)
}

/**
 * config.read alone lets customers read catalog-like settings; freezes are internal planning, so
 * reading them also takes a staff role (technician, supervisor, manager, admin).
 */
function authorizeRead(actor: Actor) {
  authorize(actor, 'config.read')
  if (actor.kind !== 'system' && !isStaff(actor)) throw forbidden('change freezes are visible to staff only')
}

/** The window a freeze covers must be forward and bounded; `field` names what the caller changed. */
function checkWindow(startsAt: Date, endsAt: Date, field: 'startsAt' | 'endsAt') {
  if (endsAt.getTime() <= startsAt.getTime()) {
    throw fieldError(field, field === 'endsAt' ? 'must be after startsAt' : 'must be before endsAt')
  }
  if (endsAt.getTime() - startsAt.getTime() > MAX_FREEZE_DAYS * DAY_MS) {
    throw fieldError(field, `a freeze lasts at most ${MAX_FREEZE_DAYS} days`)
  }
}

/** Change freeze periods: changes planned inside one are flagged on the change calendar. */
export function createFreezeService({ db }: Deps) {
  async function mustLoad(q: Queryable, id: string, lock = false) {
    const base = q.select().from(changeFreezes).where(eq(changeFreezes.id, id))
    const [row] = lock ? await base.for('update') : await base
    if (!row) throw notFound('change freeze')
    return row
  }

  return {
    async get(ctx: Ctx, id: string): Promise<FreezeView> {
      authorizeRead(ctx.actor)
      return toView(await mustLoad(db, id))
    },

    async list(ctx: Ctx, input: FreezeListInput): Promise<Page<FreezeView>> {
      authorizeRead(ctx.actor)
      const limit = input.limit ?? 50
      const from = input.from ? new Date(input.from) : undefined
      const to = input.to ? new Date(input.to) : undefined
      if (from && to && to.getTime() <= from.getTime()) throw fieldError('to', 'must be after from')
      const where: SQL[] = []
      if (to) where.push(lt(changeFreezes.startsAt, to))
      if (from) where.push(gt(changeFreezes.endsAt, from))
      if (input.cursor) {
        const c = decodeCursor(input.cursor, SORT)
        const at = new Date(String(c.value))
        if (Number.isNaN(at.getTime())) {
          throw badRequest('invalid cursor', [{ field: 'cursor', message: 'not a cursor from this API' }])
        }
        where.push(
          or(gt(changeFreezes.startsAt, at), and(eq(changeFreezes.startsAt, at), gt(changeFreezes.id, c.id))) as SQL
        )
      }
      const rows = await db
        .select()
        .from(changeFreezes)
        .where(and(...where))
        .orderBy(asc(changeFreezes.startsAt), asc(changeFreezes.id))
        .limit(limit + 1)
      return pageOf(rows, limit, cursorAfter, toView)
    },

    async create(ctx: Ctx, input: CreateFreezeInput): Promise<FreezeView> {
      authorize(ctx.actor, 'config.manage')
      const startsAt = new Date(input.startsAt)
      const endsAt = new Date(input.endsAt)
      checkWindow(startsAt, endsAt, 'endsAt')
      return db.transaction(async tx => {
        const [row] = await tx
          .insert(changeFreezes)
          .values({
            id: uuidv7(),
            name: input.name,
            reason: input.reason ?? '',
            startsAt,
            endsAt,
            createdBy: ctx.actor.id
          })
          .returning()
        const view = toView(row!)
        await recordAudit(tx, ctx, {
          entityType: 'change_freeze',
          entityId: view.id,
          action: 'created',
          changes: diff<Record<string, unknown>>(NONE, { ...view }, FIELDS)
        })
        return view
      })
    },

    async update(ctx: Ctx, id: string, input: UpdateFreezeInput): Promise<FreezeView> {
      authorize(ctx.actor, 'config.manage')
      return db.transaction(async tx => {
        const before = toView(await mustLoad(tx, id, true))
        const startsAt = input.startsAt ? new Date(input.startsAt) : before.startsAt
        const endsAt = input.endsAt ? new Date(input.endsAt) : before.endsAt
        checkWindow(startsAt, endsAt, input.endsAt ? 'endsAt' : 'startsAt')
        const [row] = await tx
          .update(changeFreezes)
          .set({
            ...(input.name !== undefined ? { name: input.name } : {}),
            ...(input.reason !== undefined ? { reason: input.reason } : {}),
            startsAt,
            endsAt
          })
          .where(eq(changeFreezes.id, id))
          .returning()
        const after = toView(row!)
        const changes = diff<Record<string, unknown>>({ ...before }, { ...after }, FIELDS)
        if (changes.length > 0) {
          await recordAudit(tx, ctx, { entityType: 'change_freeze', entityId: id, action: 'updated', changes })
        }
        return after
      })
    },

    async remove(ctx: Ctx, id: string): Promise<void> {
      authorize(ctx.actor, 'config.manage')
      await db.transaction(async tx => {
        const [row] = await tx.delete(changeFreezes).where(eq(changeFreezes.id, id)).returning()
        if (!row) throw notFound('change freeze')
        const view = toView(row)
        await recordAudit(tx, ctx, {
          entityType: 'change_freeze',
          entityId: id,
          action: 'deleted',
          changes: diff<Record<string, unknown>>({ ...view }, NONE, FIELDS)
        })
      })
    }
  }
}

const cursorAfter = (last: FreezeRow) => ({ sort: SORT, value: last.startsAt.toISOString(), id: last.id })

export type FreezeService = ReturnType<typeof createFreezeService>
