import { and, asc, eq } from 'drizzle-orm'
import { auditLog } from '../../src/db/schema/index.js'
import type { TestApp } from './app.js'

/** The audit rows of one entity, oldest first. */
export const auditOf = (t: TestApp, entityType: string, entityId: string) =>
  t.db
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.entityType, entityType), eq(auditLog.entityId, entityId)))
    .orderBy(asc(auditLog.id))
