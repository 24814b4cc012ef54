import { and, asc, gt, lt } from 'drizzle-orm'
import type { Actor } from '../../auth/actor.js'
import { authorize, isStaff } from '../../auth/policy.js'
import { changeFreezes } from '../../db/schema/index.js'
import type { Ctx, Deps, Queryable } from '../../lib/context.js'
import type { Page } from '../../lib/cursor.js'
import { fieldError, forbidden } from '../../lib/errors.js'
import { columnKeyset, timeValue } from '../../lib/keyset.js'
import { adminResource } from '../admin/admin-resource.js'
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
const FIELDS = ['name', 'reason', 'startsAt', 'endsAt'] as const

const toView = ({ createdBy, ...rest }: FreezeRow): FreezeView => ({ ...rest, createdById: createdBy })

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

export const freezeKeyset = columnKeyset<FreezeRow, string>(
  SORT,
  changeFreezes.startsAt,
  changeFreezes.id,
  r => new Date(r.startsAt).toISOString(),
  timeValue
)

/** Change freeze periods: changes planned inside one are flagged on the change calendar. */
export function createFreezeService({ db }: Deps) {
  const freezes = adminResource<FreezeRow, FreezeView>(db, {
    table: changeFreezes,
    id: changeFreezes.id,
    version: changeFreezes.version,
    entityType: 'change_freeze',
    noun: 'change freeze',
    fields: FIELDS,
    view: toView,
    authorizeRead: ctx => authorizeRead(ctx.actor),
    authorizeWrite: ctx => authorize(ctx.actor, 'config.manage')
  })

  return {
    get: freezes.get,
    cursorOf: (f: FreezeView) => freezeKeyset.cursorOf({ ...f, createdBy: f.createdById }),

    async list(ctx: Ctx, input: FreezeListInput): Promise<Page<FreezeView>> {
      authorizeRead(ctx.actor)
      const from = input.from ? new Date(input.from) : undefined
      const to = input.to ? new Date(input.to) : undefined
      if (from && to && to.getTime() <= from.getTime()) throw fieldError('to', 'must be after from')
      return freezes.list(ctx, input, freezeKeyset, [
        to ? lt(changeFreezes.startsAt, to) : undefined,
        from ? gt(changeFreezes.endsAt, from) : undefined
      ])
    },

    async create(ctx: Ctx, input: CreateFreezeInput): Promise<FreezeView> {
      authorize(ctx.actor, 'config.manage')
      const startsAt = new Date(input.startsAt)
      const endsAt = new Date(input.endsAt)
      checkWindow(startsAt, endsAt, 'endsAt')
      return freezes.create(ctx, async () => ({
        name: input.name,
        reason: input.reason ?? '',
        startsAt,
        endsAt,
        createdBy: ctx.actor.id
      }))
    },

    update: (ctx: Ctx, id: string, input: UpdateFreezeInput, expectedVersion?: number) =>
      freezes.update(ctx, id, expectedVersion, async (_tx, before) => {
        const startsAt = input.startsAt ? new Date(input.startsAt) : before.startsAt
        const endsAt = input.endsAt ? new Date(input.endsAt) : before.endsAt
        checkWindow(startsAt, endsAt, input.endsAt ? 'endsAt' : 'startsAt')
        return {
          ...(input.name !== undefined ? { name: input.name } : {}),
          ...(input.reason !== undefined ? { reason: input.reason } : {}),
          startsAt,
          endsAt
        }
      }),

    remove: (ctx: Ctx, id: string, expectedVersion?: number) => freezes.remove(ctx, id, expectedVersion)
  }
}

export type FreezeService = ReturnType<typeof createFreezeService>
