import { and, asc, eq, gt, type SQL, sql } from 'drizzle-orm'
import { auditLog } from '../../db/schema/index.js'
import type { Ctx, Queryable } from '../../lib/context.js'
import { sqlArray } from '../../lib/sql-array.js'

export interface Change {
  field: string
  old: unknown
  new: unknown
}

export interface AuditEntry {
  entityType: string
  entityId: string
  action: string
  changes?: Change[]
  internal?: boolean
}

export const actorLabel = (ctx: Ctx) =>
  ctx.actor.kind === 'system'
    ? `system:${ctx.actor.username}`
    : `${ctx.actor.username}${ctx.actor.via === 'token' ? ' (token)' : ''}`

/**
 * The one audit writer: appends one or many rows inside the caller's transaction, so the write and its
 * record commit together. Set-wise: one INSERT over `unnest(…)` whatever the number of rows (a bulk
 * update of 1,000 tickets is one statement), the rows' ids following the order given.
 */
export async function recordAudit(q: Queryable, ctx: Ctx, entries: AuditEntry | readonly AuditEntry[]): Promise<void> {
  const list: readonly AuditEntry[] = Array.isArray(entries) ? entries : [entries as AuditEntry]
  if (list.length === 0) return
  const column = <T>(f: (e: AuditEntry) => T, type: string) => sqlArray(list.map(f), type)
  await q.execute(sql`
    INSERT INTO audit_log (actor_id, actor_label, entity_type, entity_id, action, changes, internal, request_id)
    SELECT ${ctx.actor.id ?? null}::uuid, ${actorLabel(ctx)}, a.entity_type, a.entity_id, a.action, a.changes::jsonb,
           a.internal, ${ctx.requestId ?? null}
    FROM ROWS FROM (unnest(${column(e => e.entityType, 'text')}), unnest(${column(e => e.entityId, 'uuid')}),
                unnest(${column(e => e.action, 'text')}), json_array_elements(${changesOf(list)}::json),
                unnest(${column(e => e.internal ?? false, 'boolean')}))
         WITH ORDINALITY AS a(entity_type, entity_id, action, changes, internal, n)
    ORDER BY a.n`)
}

/**
 * Every row's changes as one JSON array: a jsonb[] parameter would escape each document's quotes into
 * an array literal, which for an import's 10,000 created CIs costs more than the insert. Read as `json`
 * and cast row by row: PostgreSQL parses one large jsonb document several times slower than json
 * (7 MB of an import's history: ~430 ms as jsonb, ~70 ms as json elements cast one by one).
 */
const changesOf = (list: readonly AuditEntry[]) => JSON.stringify(list.map(e => e.changes ?? []))

/** Field-by-field difference of two snapshots, in the order of `fields`. */
export function diff<T extends Record<string, unknown>>(before: T, after: Partial<T>, fields: (keyof T)[]): Change[] {
  const changes: Change[] = []
  for (const f of fields) {
    if (!(f in after)) continue
    const a = normalise(before[f])
    const b = normalise(after[f])
    if (JSON.stringify(a) !== JSON.stringify(b)) changes.push({ field: String(f), old: a, new: b })
  }
  return changes
}

const normalise = (v: unknown) => (v instanceof Date ? v.toISOString() : (v ?? null))

export interface AuditQuery {
  entityType: string
  entityId: string
  includeInternal: boolean
  limit: number
  afterId?: number
}

export async function readAudit(q: Queryable, query: AuditQuery) {
  const where: SQL[] = [eq(auditLog.entityType, query.entityType), eq(auditLog.entityId, query.entityId)]
  if (!query.includeInternal) where.push(eq(auditLog.internal, false))
  if (query.afterId !== undefined) where.push(gt(auditLog.id, query.afterId))
  return q
    .select()
    .from(auditLog)
    .where(and(...where))
    .orderBy(asc(auditLog.id))
    .limit(query.limit + 1)
}
