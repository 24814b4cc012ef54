import { and, asc, eq, gt, ilike, inArray, or, type SQL, sql } from 'drizzle-orm'
import { authorize, can } from '../../auth/policy.js'
import { ciRelationships, configurationItems, teams } from '../../db/schema/index.js'
import { normaliseHost, normaliseMac, normaliseSerial, normaliseUuid } from '../../lib/ci-identity.js'
import type { Ctx, Deps, Queryable } from '../../lib/context.js'
import { decodeCursor, type Page, pageOf } from '../../lib/cursor.js'
import { conflict, fieldError, notFound } from '../../lib/errors.js'
import { uuidv7 } from '../../lib/ids.js'
import { checkVersion } from '../../lib/version.js'
import { diff, recordAudit } from '../audit/audit.service.js'
import { pageFromRows, parseIdCursor } from '../identity/paging.js'
import {
  type CiRelationshipView,
  type CiView,
  loadCi,
  relationshipsOf,
  relationshipView,
  toCiView
} from './cis.repository.js'
import type { CiListInput, CreateCiInput, RelateInput, RelationshipListInput, UpdateCiInput } from './cmdb.schemas.js'

const CI_FIELDS: (keyof CiView)[] = [
  'name',
  'class',
  'hostname',
  'fqdn',
  'serial',
  'macAddress',
  'systemUuid',
  'status',
  'supportTeamId'
]
const REL_SORT = 'ci-relationships'

const escapeLike = (s: string) => s.replace(/[\\%_]/g, m => `\\${m}`)

async function assertTeam(q: Queryable, id: string | null | undefined) {
  if (!id) return
  const [row] = await q.select({ id: teams.id }).from(teams).where(eq(teams.id, id))
  if (!row) throw fieldError('supportTeamId', 'no such team')
}

/**
 * A MAC or system UUID the schema let through but that names no machine (mixed separators, all zeros,
 * all F) is refused rather than stored, naming the field.
 */
function keyOf(field: string, raw: string | null | undefined, normalise: (v: string) => string | null) {
  if (raw === undefined) return undefined
  if (raw === null) return null
  const v = normalise(raw)
  if (v === null) throw fieldError(field, 'does not identify a machine')
  return v
}

/**
 * Columns to write from a create or update body: `class` is the column ciClass; identification keys in
 * their one spelling (lib/ci-identity.ts), so events and ticket references find what the CMDB stores.
 */
function columnsOf(input: UpdateCiInput) {
  const { class: ciClass, hostname, fqdn, serial, macAddress, systemUuid, ...rest } = input
  const set: Record<string, unknown> = { ...rest }
  if (ciClass !== undefined) set.ciClass = ciClass
  if (hostname !== undefined) set.hostname = normaliseHost(hostname)
  if (fqdn !== undefined) set.fqdn = normaliseHost(fqdn)
  if (serial !== undefined) set.serial = normaliseSerial(serial)
  if (macAddress !== undefined) set.macAddress = keyOf('macAddress', macAddress, normaliseMac)
  if (systemUuid !== undefined) set.systemUuid = keyOf('systemUuid', systemUuid, normaliseUuid)
  return set as Partial<typeof configurationItems.$inferInsert>
}

/**
 * Minimal configuration items and their typed relationships: enough for changes, incidents and events
 * to name what they concern. Reads need ci.read (staff and finance), writes ci.manage (admin).
 */
export function createCiService({ db }: Deps) {
  async function mustLoad(q: Queryable, id: string) {
    const row = await loadCi(q, id)
    if (!row) throw notFound('configuration item')
    return row
  }

  return {
    async get(ctx: Ctx, id: string): Promise<CiView> {
      authorize(ctx.actor, 'ci.read')
      return toCiView(await mustLoad(db, id))
    },

    async list(ctx: Ctx, input: CiListInput): Promise<Page<CiView>> {
      authorize(ctx.actor, 'ci.read')
      const limit = input.limit ?? 50
      const where: SQL[] = []
      if (input.q) {
        const like = `%${escapeLike(input.q)}%`
        where.push(
          or(
            ilike(configurationItems.name, like),
            ilike(configurationItems.hostname, like),
            ilike(configurationItems.fqdn, like)
          ) as SQL
        )
      }
      if (input.class) where.push(eq(configurationItems.ciClass, input.class))
      if (input.status) where.push(eq(configurationItems.status, input.status))
      if (input.hostname) where.push(eq(configurationItems.hostname, normaliseHost(input.hostname) ?? ''))
      if (input.fqdn) where.push(eq(configurationItems.fqdn, normaliseHost(input.fqdn) ?? ''))
      if (input.serial) where.push(eq(configurationItems.serial, normaliseSerial(input.serial) ?? ''))
      if (input.macAddress) where.push(eq(configurationItems.macAddress, normaliseMac(input.macAddress) ?? ''))
      if (input.systemUuid) where.push(eq(configurationItems.systemUuid, normaliseUuid(input.systemUuid) ?? ''))
      if (input.cursor) where.push(gt(configurationItems.id, parseIdCursor(input.cursor)))
      const rows = await db
        .select()
        .from(configurationItems)
        .where(and(...where))
        .orderBy(asc(configurationItems.id))
        .limit(limit + 1)
      const page = pageFromRows(rows, limit)
      return { items: page.items.map(toCiView), nextCursor: page.nextCursor }
    },

    async create(ctx: Ctx, input: CreateCiInput): Promise<CiView> {
      authorize(ctx.actor, 'ci.manage')
      return db.transaction(async tx => {
        await assertTeam(tx, input.supportTeamId)
        const [row] = await tx
          .insert(configurationItems)
          .values({ id: uuidv7(), ...columnsOf(input), name: input.name })
          .returning()
        const view = toCiView(row!)
        await recordAudit(tx, ctx, {
          entityType: 'ci',
          entityId: view.id,
          action: 'created',
          changes: CI_FIELDS.map(f => ({ field: f, old: null, new: view[f] ?? null }))
        })
        return view
      })
    },

    async update(ctx: Ctx, id: string, input: UpdateCiInput, expectedVersion?: number): Promise<CiView> {
      authorize(ctx.actor, 'ci.manage')
      // What the input says is checked first: a bad key is 422 whatever version was named
      const columns = columnsOf(input)
      return db.transaction(async tx => {
        const [row] = await tx.select().from(configurationItems).where(eq(configurationItems.id, id)).for('update')
        if (!row) throw notFound('configuration item')
        checkVersion('configuration item', row.version, expectedVersion)
        if (input.supportTeamId !== undefined) await assertTeam(tx, input.supportTeamId)
        const before = toCiView(row)
        const [updated] = await tx
          .update(configurationItems)
          .set({ ...columns, version: sql`${configurationItems.version} + 1`, updatedAt: new Date() })
          .where(eq(configurationItems.id, id))
          .returning()
        const after = toCiView(updated!)
        const changes = diff<Record<string, unknown>>({ ...before }, { ...after }, CI_FIELDS)
        if (changes.length > 0)
          await recordAudit(tx, ctx, { entityType: 'ci', entityId: id, action: 'updated', changes })
        return after
      })
    },

    async relationships(ctx: Ctx, id: string, input: RelationshipListInput): Promise<Page<CiRelationshipView>> {
      authorize(ctx.actor, 'ci.read')
      await mustLoad(db, id)
      const limit = input.limit ?? 50
      const after = input.cursor ? decodeCursor(input.cursor, REL_SORT).id : undefined
      const rows = await relationshipsOf(db, id, limit + 1, after)
      return pageOf(rows, limit, last => ({ sort: REL_SORT, value: null, id: last.id }))
    },

    /** Relates this CI (the source) to a target: "web-01 runs_on vm-17". */
    async relate(ctx: Ctx, id: string, input: RelateInput): Promise<CiRelationshipView> {
      authorize(ctx.actor, 'ci.manage')
      if (input.targetId === id) throw fieldError('targetId', 'a configuration item cannot be related to itself')
      return db.transaction(async tx => {
        await mustLoad(tx, id)
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
        await recordAudit(tx, ctx, [
          { entityType: 'ci', entityId: id, action: 'relationship.added', changes: [rel1('outgoing', value)] },
          { entityType: 'ci', entityId: rel.targetId, action: 'relationship.added', changes: [rel1('incoming', value)] }
        ])
        return relationshipView(rel, id, target)
      })
    },

    /** Removes a relationship of this CI, whichever end it is. */
    async unrelate(ctx: Ctx, id: string, relationshipId: string): Promise<void> {
      authorize(ctx.actor, 'ci.manage')
      await db.transaction(async tx => {
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
        await recordAudit(tx, ctx, [
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
      const rows = await db
        .select()
        .from(configurationItems)
        .where(inArray(configurationItems.id, [...new Set(ids)]))
      const byId = new Map(rows.map(r => [r.id, toCiView(r)]))
      return ids.map(id => byId.get(id) ?? null)
    }
  }
}

const rel1 = (direction: string, value: unknown) => ({ field: `relationships.${direction}`, old: null, new: value })
const rel0 = (direction: string, value: unknown) => ({ field: `relationships.${direction}`, old: value, new: null })

export type CiService = ReturnType<typeof createCiService>
