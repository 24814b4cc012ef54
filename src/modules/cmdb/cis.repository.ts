import { and, asc, eq, gt, inArray, or, type SQL, sql } from 'drizzle-orm'
import { alias } from 'drizzle-orm/pg-core'
import { ciRelationships, ciRelationshipTypes, configurationItems } from '../../db/schema/index.js'
import { type CiKeys, identify } from '../../lib/ci-identity.js'
import type { Queryable } from '../../lib/context.js'
import { fieldError } from '../../lib/errors.js'
import { isUuid } from '../../lib/ids.js'
import { sqlArray } from '../../lib/sql-array.js'

export type CiRow = typeof configurationItems.$inferSelect

/** A CI as both doors answer it: the column `class` is `ciClass` in drizzle (class is a reserved word in TS). */
export interface CiView {
  id: string
  name: string
  class: string
  hostname: string | null
  fqdn: string | null
  serial: string | null
  macAddress: string | null
  macAddresses: string[]
  systemUuid: string | null
  assetTag: string | null
  status: string
  supportTeamId: string | null
  ownerTeamId: string | null
  organisationId: string | null
  location: string | null
  costCentreId: string | null
  attributes: Record<string, unknown>
  missingSince: Date | null
  createdAt: Date
  updatedAt: Date
  version: number
}

export interface CiRelationshipView {
  id: string
  type: string
  /** The type as read from the CI asked about ("runs on" outgoing, "hosts" incoming). */
  label: string
  sourceId: string
  targetId: string
  direction: 'outgoing' | 'incoming'
  relatedCiId: string
  relatedCi: CiView
  createdAt: Date
}

export function toCiView(row: CiRow): CiView {
  const { ciClass, fieldSources: _sources, ...rest } = row
  return { ...rest, class: ciClass }
}

/**
 * The CIs any of these references identify (by id, serial, system UUID, MAC, FQDN or host name, in the
 * spellings of lib/ci-identity.ts), one query for the lot: each reference's CI, or null. The events
 * engine and anything else naming a CI by its keys use this, so they agree with the CMDB's filters.
 */
export async function identifyCis(q: Queryable, refs: readonly (CiKeys | null)[]) {
  const ids = new Set<string>()
  const serials = new Set<string>()
  const uuids = new Set<string>()
  const macs = new Set<string>()
  const hosts = new Set<string>()
  for (const k of refs) {
    if (!k) continue
    if (k.id) ids.add(k.id)
    if (k.serial) serials.add(k.serial)
    if (k.systemUuid) uuids.add(k.systemUuid)
    if (k.macAddress) macs.add(k.macAddress)
    if (k.fqdn) hosts.add(k.fqdn)
    if (k.hostname) hosts.add(k.hostname)
  }
  const ci = configurationItems
  const conditions: SQL[] = []
  if (ids.size) conditions.push(inArray(ci.id, [...ids]))
  if (serials.size) conditions.push(inArray(ci.serial, [...serials]))
  if (uuids.size) conditions.push(inArray(ci.systemUuid, [...uuids]))
  if (macs.size) conditions.push(inArray(ci.macAddress, [...macs]))
  if (hosts.size) conditions.push(inArray(ci.hostname, [...hosts]), inArray(ci.fqdn, [...hosts]))
  if (conditions.length === 0) return refs.map(() => null)
  const rows = await q
    .select({
      id: ci.id,
      hostname: ci.hostname,
      fqdn: ci.fqdn,
      serial: ci.serial,
      macAddress: ci.macAddress,
      systemUuid: ci.systemUuid,
      supportTeamId: ci.supportTeamId
    })
    .from(ci)
    .where(or(...conditions))
    .orderBy(asc(ci.id))
    .limit(10_000)
  return refs.map(k => (k ? identify(k, rows) : null))
}

export async function loadCi(q: Queryable, id: string): Promise<CiRow | undefined> {
  const [row] = await q.select().from(configurationItems).where(eq(configurationItems.id, id))
  return row
}

/**
 * Every relationship of one CI, both directions, with the CI at the other end: one query, keyset on
 * the relationship id (uuidv7, so creation order).
 */
export async function relationshipsOf(
  q: Queryable,
  ciId: string,
  limit: number,
  afterId?: string
): Promise<CiRelationshipView[]> {
  const other = alias(configurationItems, 'other')
  const where = [or(eq(ciRelationships.sourceId, ciId), eq(ciRelationships.targetId, ciId))]
  if (afterId) where.push(gt(ciRelationships.id, afterId))
  const rows = await q
    .select({
      rel: ciRelationships,
      other,
      labels: { label: ciRelationshipTypes.label, reverse: ciRelationshipTypes.reverseLabel }
    })
    .from(ciRelationships)
    .innerJoin(ciRelationshipTypes, eq(ciRelationshipTypes.name, ciRelationships.type))
    .innerJoin(
      other,
      or(
        and(eq(ciRelationships.sourceId, ciId), eq(other.id, ciRelationships.targetId)),
        and(eq(ciRelationships.targetId, ciId), eq(other.id, ciRelationships.sourceId))
      )
    )
    .where(and(...where))
    .orderBy(asc(ciRelationships.id))
    .limit(limit)
  return rows.map(({ rel, other, labels }) => relationshipView(rel, ciId, other, labels))
}

/**
 * The first `limit` relationships (+1, for the next cursor) of each of many CIs, as `relationshipsOf`
 * answers one: three queries whatever the number of CIs (the ranked ids, the relationships with their
 * labels, the CIs at the other ends). By CI id; a CI with none has an empty list.
 */
export async function firstRelationshipsOf(
  q: Queryable,
  ciIds: readonly string[],
  limit: number
): Promise<Map<string, CiRelationshipView[]>> {
  const out = new Map(ciIds.map(id => [id, [] as CiRelationshipView[]]))
  const wanted = [...out.keys()].filter(isUuid)
  if (wanted.length === 0) return out
  const r = ciRelationships
  const ids = sqlArray(wanted, 'uuid')
  const ranked = (
    (await q.execute(sql`select owner::text as owner, id::text as id from (
        select owner, id, row_number() over (partition by owner order by id) as rn from (
          select ${r.sourceId} as owner, ${r.id} as id from ${r} where ${r.sourceId} = any(${ids})
          union all
          select ${r.targetId} as owner, ${r.id} as id from ${r} where ${r.targetId} = any(${ids})
        ) e
      ) ranked where rn <= ${limit + 1} order by owner, rn`)) as unknown as { rows: { owner: string; id: string }[] }
  ).rows
  if (ranked.length === 0) return out
  const rels = await q
    .select({ rel: r, labels: { label: ciRelationshipTypes.label, reverse: ciRelationshipTypes.reverseLabel } })
    .from(r)
    .innerJoin(ciRelationshipTypes, eq(ciRelationshipTypes.name, r.type))
    .where(sql`${r.id} = any(${sqlArray([...new Set(ranked.map(x => x.id))], 'uuid')})`)
  const relById = new Map(rels.map(x => [x.rel.id, x]))
  const ends = new Set(rels.flatMap(x => [x.rel.sourceId, x.rel.targetId]))
  const cis = await q
    .select()
    .from(configurationItems)
    .where(sql`${configurationItems.id} = any(${sqlArray([...ends], 'uuid')})`)
  const ciById = new Map(cis.map(c => [c.id, c]))
  for (const { owner, id } of ranked) {
    const found = relById.get(id)
    if (!found) continue
    const otherId = found.rel.sourceId === owner ? found.rel.targetId : found.rel.sourceId
    const other = ciById.get(otherId)
    if (other) out.get(owner)?.push(relationshipView(found.rel, owner, other, found.labels))
  }
  return out
}

export function relationshipView(
  rel: typeof ciRelationships.$inferSelect,
  fromCiId: string,
  other: CiRow,
  labels: { label: string; reverse: string }
): CiRelationshipView {
  const outgoing = rel.sourceId === fromCiId
  return {
    id: rel.id,
    type: rel.type,
    label: outgoing ? labels.label : labels.reverse,
    sourceId: rel.sourceId,
    targetId: rel.targetId,
    direction: outgoing ? 'outgoing' : 'incoming',
    relatedCiId: outgoing ? rel.targetId : rel.sourceId,
    relatedCi: toCiView(other),
    createdAt: rel.createdAt
  }
}

/**
 * Each CI's directly related CIs (one hop, either direction, any type), in one query. Every id asked
 * for has an entry, empty when it has no relationships; a CI is never its own neighbour.
 */
export async function relatedCiIds(q: Queryable, ciIds: string[]): Promise<Map<string, Set<string>>> {
  const out = new Map(ciIds.map(id => [id, new Set<string>()]))
  const wanted = [...out.keys()].filter(isUuid)
  if (wanted.length === 0) return out
  const rows = await q
    .select({ sourceId: ciRelationships.sourceId, targetId: ciRelationships.targetId })
    .from(ciRelationships)
    .where(or(inArray(ciRelationships.sourceId, wanted), inArray(ciRelationships.targetId, wanted)))
  for (const { sourceId, targetId } of rows) {
    if (sourceId === targetId) continue
    out.get(sourceId)?.add(targetId)
    out.get(targetId)?.add(sourceId)
  }
  return out
}

/** 422 naming `field` (e.g. `ciIds`) and listing every id that names no configuration item. */
export async function assertCisExist(q: Queryable, ids: readonly string[], field: string): Promise<void> {
  const wanted = [...new Set(ids)]
  if (wanted.length === 0) return
  // A string that is no UUID names nothing: report it rather than let the database refuse the cast
  const valid = wanted.filter(isUuid)
  const found = valid.length
    ? await q
        .select({ id: configurationItems.id })
        .from(configurationItems)
        .where(inArray(configurationItems.id, valid))
    : []
  const have = new Set(found.map(r => r.id))
  const missing = wanted.filter(id => !have.has(id))
  if (missing.length > 0) {
    throw fieldError(field, `no such configuration item${missing.length > 1 ? 's' : ''}: ${missing.join(', ')}`)
  }
}
