import { and, asc, eq, gt, type SQL } from 'drizzle-orm'
import { auditLog } from '../../db/schema/index.js'
import type { Ctx, Queryable } from '../../lib/context.js'

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

/** Appends audit rows inside the caller's transaction, so the write and its record commit together. */
export async function recordAudit(q: Queryable, ctx: Ctx, entries: AuditEntry | AuditEntry[]): Promise<void> {
  const list = Array.isArray(entries) ? entries : [entries]
  if (list.length === 0) return
  await q.insert(auditLog).values(
    list.map(e => ({
      actorId: ctx.actor.id,
      actorLabel: actorLabel(ctx),
      entityType: e.entityType,
      entityId: e.entityId,
      action: e.action,
      changes: e.changes ?? [],
      internal: e.internal ?? false,
      requestId: ctx.requestId ?? null
    }))
  )
}

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
