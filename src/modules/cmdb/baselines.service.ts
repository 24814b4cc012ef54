import { asc, eq, gt, sql } from 'drizzle-orm'
import { authorize } from '../../auth/policy.js'
import { ciBaselines, ciRelationships, configurationItems } from '../../db/schema/index.js'
import type { Ctx, Deps, Queryable } from '../../lib/context.js'
import { withTx } from '../../lib/context.js'
import { decodeCursor, pageOf } from '../../lib/cursor.js'
import { fieldError, notFound, validationFailed } from '../../lib/errors.js'
import { isUuid, uuidv7 } from '../../lib/ids.js'
import { recordAudit } from '../audit/audit.service.js'
import { type BaselineListInput, type CreateBaselineInput, MAX_BASELINE_CIS } from './baselines.schemas.js'
import { ciChanges } from './ci-fields.js'
import { ciFilter } from './ci-filter.js'
import { toCiView } from './cis.repository.js'
import { impactOf } from './impact.repository.js'

type Row = typeof ciBaselines.$inferSelect
type Scope = { filter?: string; serviceId?: string; depth?: number }
/** A CI as a baseline freezes it: what history records, attributes included. */
type FrozenCi = ReturnType<typeof toCiView>
type FrozenRel = { sourceId: string; targetId: string; type: string }
type Snapshot = { cis: FrozenCi[]; relationships: FrozenRel[] }

const SORT = 'ci-baselines'
const ci = configurationItems

const view = (r: Row) => ({
  id: r.id,
  name: r.name,
  scope: r.scope as Scope,
  ciCount: r.snapshot.cis.length,
  relationshipCount: r.snapshot.relationships.length,
  createdById: r.createdBy,
  createdAt: r.createdAt
})

/** The CIs of a scope now, with the relationships among them. */
async function snapshotOf(q: Queryable, scope: Scope): Promise<Snapshot> {
  let ids: string[]
  if (scope.serviceId) {
    const nodes = await impactOf(q, scope.serviceId, { direction: 'downstream', depth: scope.depth ?? 5 })
    ids = [scope.serviceId, ...nodes.map(n => n.id)]
  } else {
    const rows = await q
      .select({ id: ci.id })
      .from(ci)
      .where(await ciFilter(q, scope.filter!))
      .orderBy(asc(ci.id))
      .limit(MAX_BASELINE_CIS + 1)
    ids = rows.map(r => r.id)
  }
  if (ids.length > MAX_BASELINE_CIS)
    throw fieldError(scope.serviceId ? 'serviceId' : 'filter', `more than ${MAX_BASELINE_CIS} CIs`)
  if (ids.length === 0) return { cis: [], relationships: [] }
  const idList = sql`(select (jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb))::uuid)`
  const cis = (await q.select().from(ci).where(sql`${ci.id} in ${idList}`).orderBy(asc(ci.id))).map(toCiView)
  const rels = await q
    .select({ sourceId: ciRelationships.sourceId, targetId: ciRelationships.targetId, type: ciRelationships.type })
    .from(ciRelationships)
    .where(sql`${ciRelationships.sourceId} in ${idList} and ${ciRelationships.targetId} in ${idList}`)
  rels.sort((a, b) => key(a).localeCompare(key(b)))
  return { cis: cis.map(frozen), relationships: rels }
}

/** Only what a diff compares (no version or timestamps, which every edit moves). */
function frozen(v: FrozenCi): FrozenCi {
  return JSON.parse(JSON.stringify({ ...v, version: undefined, updatedAt: undefined, createdAt: undefined }))
}
const key = (r: FrozenRel) => `${r.sourceId}|${r.targetId}|${r.type}`
const summary = (c: FrozenCi) => ({ id: c.id, name: c.name, class: c.class, status: c.status })

function diff(base: Snapshot, other: Snapshot) {
  const before = new Map(base.cis.map(c => [c.id, c]))
  const after = new Map(other.cis.map(c => [c.id, c]))
  const changed = []
  for (const [id, b] of before) {
    const a = after.get(id)
    if (!a) continue
    const changes = ciChanges(b, a)
    if (changes.length) changed.push({ ci: summary(a), changes })
  }
  const relBefore = new Set(base.relationships.map(key))
  const relAfter = new Set(other.relationships.map(key))
  return {
    added: other.cis.filter(c => !before.has(c.id)).map(summary),
    removed: base.cis.filter(c => !after.has(c.id)).map(summary),
    changed,
    relationships: {
      added: other.relationships.filter(r => !relBefore.has(key(r))),
      removed: base.relationships.filter(r => !relAfter.has(key(r)))
    }
  }
}

/** Baselines: a named, frozen snapshot of a set of CIs and their relationships, diffable against now. */
export function createBaselineService(_deps: Deps) {
  async function load(q: Queryable, id: string) {
    const [row] = await q.select().from(ciBaselines).where(eq(ciBaselines.id, id))
    if (!row) throw notFound('baseline')
    return row
  }
  return {
    async create(ctx: Ctx, input: CreateBaselineInput) {
      authorize(ctx.actor, 'ci.manage')
      if (!!input.filter === !!input.serviceId)
        throw validationFailed([{ field: 'filter', message: 'give exactly one of filter and serviceId' }])
      const scope: Scope = input.filter
        ? { filter: input.filter }
        : { serviceId: input.serviceId!, depth: input.depth ?? 5 }
      return withTx(ctx, async (tx, tctx) => {
        if (scope.serviceId) {
          const [svc] = await tx.select({ id: ci.id }).from(ci).where(eq(ci.id, scope.serviceId))
          if (!svc) throw fieldError('serviceId', 'no such configuration item')
        }
        const snapshot = await snapshotOf(tx, scope)
        const [row] = await tx
          .insert(ciBaselines)
          .values({ id: uuidv7(), name: input.name, scope, snapshot, createdBy: tctx.actor.id })
          .returning()
        await recordAudit(tx, tctx, {
          entityType: 'ci_baseline',
          entityId: row!.id,
          action: 'created',
          changes: [
            { field: 'name', old: null, new: input.name },
            { field: 'scope', old: null, new: scope }
          ]
        })
        return view(row!)
      })
    },

    async get(ctx: Ctx, id: string) {
      authorize(ctx.actor, 'ci.read')
      return view(await load(ctx.db, id))
    },

    async list(ctx: Ctx, input: BaselineListInput) {
      authorize(ctx.actor, 'ci.read')
      const limit = input.limit ?? 50
      const after = input.cursor ? decodeCursor(input.cursor, SORT).id : undefined
      const rows = await ctx.db
        .select()
        .from(ciBaselines)
        .where(after && isUuid(after) ? gt(ciBaselines.id, after) : undefined)
        .orderBy(asc(ciBaselines.id))
        .limit(limit + 1)
      return pageOf(rows, limit, last => ({ sort: SORT, value: null, id: last.id }), view)
    },

    /** Added, removed and changed CIs (field by field, attributes.<name>) and relationships. */
    async diff(ctx: Ctx, id: string, against = 'now') {
      authorize(ctx.actor, 'ci.read')
      const base = await load(ctx.db, id)
      let other: Snapshot
      if (against === 'now') other = await snapshotOf(ctx.db, base.scope as Scope)
      else {
        if (!isUuid(against)) throw fieldError('against', 'now or a baseline id')
        const [row] = await ctx.db.select().from(ciBaselines).where(eq(ciBaselines.id, against))
        if (!row) throw fieldError('against', 'no such baseline')
        other = row.snapshot as Snapshot
      }
      return { baselineId: id, against, ...diff(base.snapshot as Snapshot, other) }
    }
  }
}

export type BaselineService = ReturnType<typeof createBaselineService>
