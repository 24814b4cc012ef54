import { and, asc, eq, getTableColumns, gt, ilike, inArray, or, type SQL, sql } from 'drizzle-orm'
import { authorize, can } from '../../auth/policy.js'
import { auditLog, ciRelationships, ciRelationshipTypes, configurationItems } from '../../db/schema/index.js'
import { normaliseHost, normaliseMac, normaliseSerial, normaliseUuid } from '../../lib/ci-identity.js'
import { type Ctx, type Deps, type Queryable, withTx } from '../../lib/context.js'
import { decodeCursor, type Page, pageOf } from '../../lib/cursor.js'
import { conflict, fieldError, notFound } from '../../lib/errors.js'
import { isUuid, uuidv7 } from '../../lib/ids.js'
import { checkVersion } from '../../lib/version.js'
import { readAudit, recordAudit } from '../audit/audit.service.js'
import { pageFromRows, parseIdCursor } from '../identity/paging.js'
import { checkAttributes, loadCatalogue } from './attributes.js'
import { assertReferences, CI_FIELDS, ciChanges, columnsOf, fieldsOf } from './ci-fields.js'
import { ciFilter } from './ci-filter.js'
import {
  type CiRelationshipView,
  type CiView,
  firstRelationshipsOf,
  loadCi,
  relationshipsOf,
  relationshipView,
  toCiView
} from './cis.repository.js'
import type { CiListInput, CreateCiInput, RelateInput, RelationshipListInput, UpdateCiInput } from './cmdb.schemas.js'

const REL_SORT = 'ci-relationships'
const HISTORY_SORT = 'ci-history'
const ci = configurationItems

const escapeLike = (s: string) => s.replace(/[\\%_]/g, m => `\\${m}`)

/** Who made a history entry through a discovery source: imports act as `<actor> via discovery:<source>`. */
const SOURCE_MARK = / via discovery:(\S+)/

/** A context whose audit rows name the discovery source beside the actor. */
export function viaSource(ctx: Ctx, source: string): Ctx {
  return { ...ctx, actor: { ...ctx.actor, username: `${ctx.actor.username} via discovery:${source}` } }
}

/**
 * Configuration items: class attributes validated on every write, full history, the filter language of
 * tickets. Reads need ci.read (staff and finance), writes ci.manage (admin, or a cmdb:import token).
 */
export function createCiService(_deps: Deps) {
  async function mustLoad(q: Queryable, id: string) {
    const row = await loadCi(q, id)
    if (!row) throw notFound('configuration item')
    return row
  }

  async function conditions(input: CiListInput, q: Queryable): Promise<SQL[]> {
    const where: SQL[] = []
    if (input.q) {
      const like = `%${escapeLike(input.q)}%`
      where.push(or(ilike(ci.name, like), ilike(ci.hostname, like), ilike(ci.fqdn, like)) as SQL)
    }
    if (input.class) where.push(eq(ci.ciClass, input.class))
    if (input.status) where.push(eq(ci.status, input.status))
    if (input.hostname) where.push(eq(ci.hostname, normaliseHost(input.hostname) ?? ''))
    if (input.fqdn) where.push(eq(ci.fqdn, normaliseHost(input.fqdn) ?? ''))
    if (input.serial) where.push(eq(ci.serial, normaliseSerial(input.serial) ?? ''))
    if (input.macAddress) {
      const mac = normaliseMac(input.macAddress) ?? ''
      where.push(sql`${ci.macAddresses} @> array[${mac}]::text[]`)
    }
    if (input.systemUuid) where.push(eq(ci.systemUuid, normaliseUuid(input.systemUuid) ?? ''))
    if (input.assetTag) where.push(eq(ci.assetTag, input.assetTag))
    if (input.filter) where.push(await ciFilter(q, input.filter))
    return where
  }

  return {
    async get(ctx: Ctx, id: string): Promise<CiView> {
      authorize(ctx.actor, 'ci.read')
      return toCiView(await mustLoad(ctx.db, id))
    },

    async list(ctx: Ctx, input: CiListInput): Promise<Page<CiView> & { total?: number }> {
      authorize(ctx.actor, 'ci.read')
      const limit = input.limit ?? 50
      const where = await conditions(input, ctx.db)
      const after = input.cursor ? gt(ci.id, parseIdCursor(input.cursor)) : undefined
      const [rows, total] = await Promise.all([
        ctx.db
          .select()
          .from(ci)
          .where(and(after, ...where))
          .orderBy(asc(ci.id))
          .limit(limit + 1),
        input.includeTotal
          ? ctx.db
              .select({ n: sql<number>`count(*)::int` })
              .from(ci)
              .where(and(...where))
              .then(r => r[0]?.n ?? 0)
          : Promise.resolve(undefined)
      ])
      const page = pageFromRows(rows, limit)
      return { items: page.items.map(toCiView), nextCursor: page.nextCursor, ...(total !== undefined ? { total } : {}) }
    },

    async create(ctx: Ctx, input: CreateCiInput): Promise<CiView> {
      authorize(ctx.actor, 'ci.manage')
      const fields = { ...fieldsOf(input), name: input.name, class: input.class ?? 'generic' }
      return withTx(ctx, async (tx, tctx) => {
        const catalogue = await loadCatalogue(tx)
        if (!catalogue.byName.has(fields.class)) throw fieldError('class', `no such class: ${fields.class}`)
        await assertReferences(tx, fields)
        const attributes = await checkAttributes(tx, catalogue, fields.class, input.attributes ?? {}, { fill: true })
        const manual = Object.fromEntries(
          [...Object.keys(fields), ...Object.keys(attributes).map(a => `attributes.${a}`)].map(f => [f, 'manual'])
        )
        const [row] = await tx
          .insert(ci)
          .values({ id: uuidv7(), ...columnsOf(fields), name: input.name, attributes, fieldSources: manual })
          .returning()
        const view = toCiView(row!)
        const blank = Object.fromEntries(CI_FIELDS.map(f => [f, null]))
        await recordAudit(tx, tctx, {
          entityType: 'ci',
          entityId: view.id,
          action: 'created',
          changes: ciChanges({ ...blank, attributes: {} }, view)
        })
        return view
      })
    },

    async update(ctx: Ctx, id: string, input: UpdateCiInput, expectedVersion?: number): Promise<CiView> {
      authorize(ctx.actor, 'ci.manage')
      return withTx(ctx, async (tx, tctx) => {
        const [row] = await tx.select().from(ci).where(eq(ci.id, id)).for('update')
        if (!row) throw notFound('configuration item')
        // What the input says is checked first: a bad key is 422 whatever version was named
        const fields = fieldsOf(input, row)
        checkVersion('configuration item', row.version, expectedVersion)
        const before = toCiView(row)
        const className = fields.class ?? before.class
        const catalogue = await loadCatalogue(tx)
        if (!catalogue.byName.has(className)) throw fieldError('class', `no such class: ${className}`)
        await assertReferences(tx, fields)
        const merged = { ...before.attributes, ...(input.attributes ?? {}) }
        const classChanged = className !== before.class
        const attributes = await checkAttributes(tx, catalogue, className, merged, {
          fill: classChanged,
          selfId: id,
          ...(classChanged ? {} : { touched: Object.keys(input.attributes ?? {}) })
        })
        const changes = ciChanges(before, { ...fields, attributes })
        if (changes.length === 0) return before
        const sources = { ...row.fieldSources }
        for (const c of changes) sources[c.field] = 'manual'
        const [updated] = await tx
          .update(ci)
          .set({
            ...columnsOf(fields),
            attributes,
            fieldSources: sources,
            version: sql`${ci.version} + 1`,
            updatedAt: new Date()
          })
          .where(eq(ci.id, id))
          .returning()
        await recordAudit(tx, tctx, { entityType: 'ci', entityId: id, action: 'updated', changes })
        return toCiView(updated!)
      })
    },

    /** Every change of a CI, oldest first: who (or which discovery source), when, field, old, new. */
    async history(ctx: Ctx, id: string, page: { limit?: number; cursor?: string }) {
      authorize(ctx.actor, 'ci.read')
      await mustLoad(ctx.db, id)
      const limit = page.limit ?? 50
      const after = page.cursor ? Number(decodeCursor(page.cursor, HISTORY_SORT).value) : undefined
      const rows = await readAudit(ctx.db, {
        entityType: 'ci',
        entityId: id,
        includeInternal: false,
        limit,
        ...(after !== undefined && Number.isInteger(after) ? { afterId: after } : {})
      })
      return pageOf(rows, limit, last => ({ sort: HISTORY_SORT, value: last.id, id }), historyEntry)
    },

    /** The first history page of each of many CIs (a GraphQL list), in one query; in the order asked. */
    async firstHistory(ctx: Ctx, ids: readonly string[], limit: number) {
      authorize(ctx.actor, 'ci.read')
      const wanted = [...new Set(ids)].filter(isUuid)
      const rows = wanted.length ? await firstAuditRows(ctx.db, wanted, limit) : []
      const byCi = new Map<string, typeof rows>()
      for (const r of rows) byCi.set(r.entityId, [...(byCi.get(r.entityId) ?? []), r])
      return ids.map(id =>
        pageOf(byCi.get(id) ?? [], limit, last => ({ sort: HISTORY_SORT, value: last.id, id }), historyEntry)
      )
    },

    /** The first relationship page of each of many CIs (a GraphQL list): three queries; in the order asked. */
    async firstRelationships(ctx: Ctx, ids: readonly string[], limit: number): Promise<Page<CiRelationshipView>[]> {
      authorize(ctx.actor, 'ci.read')
      const found = await firstRelationshipsOf(ctx.db, ids, limit)
      return ids.map(id => pageOf(found.get(id) ?? [], limit, last => ({ sort: REL_SORT, value: null, id: last.id })))
    },

    async relationships(ctx: Ctx, id: string, input: RelationshipListInput): Promise<Page<CiRelationshipView>> {
      authorize(ctx.actor, 'ci.read')
      await mustLoad(ctx.db, id)
      const limit = input.limit ?? 50
      const after = input.cursor ? decodeCursor(input.cursor, REL_SORT).id : undefined
      const rows = await relationshipsOf(ctx.db, id, limit + 1, after)
      return pageOf(rows, limit, last => ({ sort: REL_SORT, value: null, id: last.id }))
    },

    /** Relates this CI (the source) to a target: "web-01 runs_on vm-17". */
    async relate(ctx: Ctx, id: string, input: RelateInput): Promise<CiRelationshipView> {
      authorize(ctx.actor, 'ci.manage')
      if (input.targetId === id) throw fieldError('targetId', 'a configuration item cannot be related to itself')
      return withTx(ctx, async (tx, tctx) => {
        await mustLoad(tx, id)
        const [type] = await tx.select().from(ciRelationshipTypes).where(eq(ciRelationshipTypes.name, input.type))
        if (!type) throw fieldError('type', `no such relationship type: ${input.type}`)
        const target = await loadCi(tx, input.targetId)
        if (!target) throw fieldError('targetId', 'no such configuration item')
        // The unique index decides duplicates, so two racing requests cannot both insert
        const [rel] = await tx
          .insert(ciRelationships)
          .values({ id: uuidv7(), sourceId: id, targetId: input.targetId, type: input.type })
          .onConflictDoNothing()
          .returning()
        if (!rel) {
          throw conflict(`this configuration item already ${input.type} the target`, undefined, [
            { field: 'targetId', message: `already related (${input.type})` }
          ])
        }
        const value = { id: rel.id, type: rel.type, sourceId: rel.sourceId, targetId: rel.targetId }
        await recordAudit(tx, tctx, [
          { entityType: 'ci', entityId: id, action: 'relationship.added', changes: [rel1('outgoing', value)] },
          { entityType: 'ci', entityId: rel.targetId, action: 'relationship.added', changes: [rel1('incoming', value)] }
        ])
        return relationshipView(rel, id, target, { label: type.label, reverse: type.reverseLabel })
      })
    },

    /** Removes a relationship of this CI, whichever end it is. */
    async unrelate(ctx: Ctx, id: string, relationshipId: string): Promise<void> {
      authorize(ctx.actor, 'ci.manage')
      await withTx(ctx, async (tx, tctx) => {
        const [rel] = await tx
          .delete(ciRelationships)
          .where(
            and(
              eq(ciRelationships.id, relationshipId),
              or(eq(ciRelationships.sourceId, id), eq(ciRelationships.targetId, id))
            )
          )
          .returning()
        if (!rel) throw notFound('relationship')
        const value = { id: rel.id, type: rel.type, sourceId: rel.sourceId, targetId: rel.targetId }
        await recordAudit(tx, tctx, [
          {
            entityType: 'ci',
            entityId: rel.sourceId,
            action: 'relationship.removed',
            changes: [rel0('outgoing', value)]
          },
          {
            entityType: 'ci',
            entityId: rel.targetId,
            action: 'relationship.removed',
            changes: [rel0('incoming', value)]
          }
        ])
      })
    },

    /** CIs by id for loaders, in the order asked; null where absent or not readable by the actor. */
    async byIds(ctx: Ctx, ids: readonly string[]): Promise<(CiView | null)[]> {
      if (!can(ctx.actor, 'ci.read') || ids.length === 0) return ids.map(() => null)
      const rows = await ctx.db
        .select()
        .from(ci)
        .where(inArray(ci.id, [...new Set(ids)]))
      const byId = new Map(rows.map(r => [r.id, toCiView(r)]))
      return ids.map(id => byId.get(id) ?? null)
    }
  }
}

type AuditRow = Awaited<ReturnType<typeof readAudit>>[number]

/** A history entry as both doors answer it: the discovery source split out of the actor's label. */
function historyEntry(r: AuditRow) {
  return {
    id: r.id,
    at: r.at,
    actorId: r.actorId,
    actor: r.actorLabel.replace(SOURCE_MARK, ''),
    source: SOURCE_MARK.exec(r.actorLabel)?.[1] ?? null,
    action: r.action,
    changes: r.changes as { field: string; old: unknown; new: unknown }[]
  }
}

/** The first `limit + 1` visible audit rows of each CI, oldest first, in one query (a window function). */
async function firstAuditRows(q: Queryable, ids: string[], limit: number): Promise<AuditRow[]> {
  const ranked = q
    .select({
      ...getTableColumns(auditLog),
      rn: sql<number>`row_number() over (partition by ${auditLog.entityId} order by ${auditLog.id})`.as('rn')
    })
    .from(auditLog)
    .where(and(eq(auditLog.entityType, 'ci'), eq(auditLog.internal, false), inArray(auditLog.entityId, ids)))
    .as('ranked')
  const rows = await q
    .select()
    .from(ranked)
    .where(sql`rn <= ${limit + 1}`)
    .orderBy(sql`rn`)
  return rows.map(({ rn: _rn, ...row }) => row as AuditRow)
}

const rel1 = (direction: string, value: unknown) => ({ field: `relationships.${direction}`, old: null, new: value })
const rel0 = (direction: string, value: unknown) => ({ field: `relationships.${direction}`, old: value, new: null })

export type CiService = ReturnType<typeof createCiService>
