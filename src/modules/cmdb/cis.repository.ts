import { and, asc, eq, gt, inArray, or } from 'drizzle-orm'
import { alias } from 'drizzle-orm/pg-core'
import { ciRelationships, configurationItems } from '../../db/schema/index.js'
import type { Queryable } from '../../lib/context.js'
import { fieldError } from '../../lib/errors.js'
import { isUuid } from '../../lib/ids.js'
import type { CiRelationshipType } from './cmdb.schemas.js'

export type CiRow = typeof configurationItems.$inferSelect

/** A CI as both doors answer it: the column `class` is `ciClass` in drizzle (class is a reserved word in TS). */
export interface CiView {
  id: string
  name: string
  class: string
  hostname: string | null
  fqdn: string | null
  serial: string | null
  status: string
  supportTeamId: string | null
  createdAt: Date
  updatedAt: Date
  version: number
}

export interface CiRelationshipView {
  id: string
  type: CiRelationshipType
  sourceId: string
  targetId: string
  direction: 'outgoing' | 'incoming'
  relatedCiId: string
  relatedCi: CiView
  createdAt: Date
}

export function toCiView(row: CiRow): CiView {
  const { ciClass, ...rest } = row
  return { ...rest, class: ciClass }
}

/** Host names and FQDNs compare case-insensitively in DNS: keep one spelling, without the root dot. */
export const normaliseHost = <T extends string | null | undefined>(v: T): T =>
  (typeof v === 'string' ? v.toLowerCase().replace(/\.$/, '') : v) as T

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
    .select({ rel: ciRelationships, other })
    .from(ciRelationships)
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
  return rows.map(({ rel, other }) => relationshipView(rel, ciId, other))
}

export function relationshipView(
  rel: typeof ciRelationships.$inferSelect,
  fromCiId: string,
  other: CiRow
): CiRelationshipView {
  const outgoing = rel.sourceId === fromCiId
  return {
    id: rel.id,
    type: rel.type as CiRelationshipType,
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
