import { and, asc, type SQL, sql } from 'drizzle-orm'
import { tickets } from '../../db/schema/index.js'
import type { Queryable } from '../../lib/context.js'
import { sqlArray } from '../../lib/sql-array.js'
import { fullColumns, type Row } from './tickets.repository.js'

/** Columns a bulk write may set: field → column and the element type of its array parameter. */
const COLUMNS = {
  status: ['status', 'text'],
  teamId: ['team_id', 'uuid'],
  layer: ['layer', 'int'],
  assigneeId: ['assignee_id', 'uuid'],
  customFields: ['custom_fields', 'jsonb'],
  category: ['category', 'text'],
  impact: ['impact', 'int'],
  urgency: ['urgency', 'int'],
  priority: ['priority', 'int'],
  resolution: ['resolution', 'text'],
  resolutionCode: ['resolution_code', 'text'],
  resolvedAt: ['resolved_at', 'timestamptz'],
  closedAt: ['closed_at', 'timestamptz']
} as const
export type BulkColumn = keyof typeof COLUMNS
export const isBulkColumn = (k: string): k is BulkColumn => k in COLUMNS

const array = sqlArray

function encode(column: BulkColumn, value: unknown): unknown {
  if (value === null || value === undefined) return null
  if (value instanceof Date) return value.toISOString()
  return column === 'customFields' ? JSON.stringify(value) : value
}

/**
 * Locks the named tickets the caller may see, in id order (two bulk writes over overlapping sets
 * take their locks in the same order, so they queue instead of deadlocking).
 */
export async function lockMany(q: Queryable, ids: readonly string[], scope: SQL[]): Promise<Row[]> {
  return q
    .select(fullColumns)
    .from(tickets)
    .where(and(sql`${tickets.id} = any(${array([...ids], 'uuid')})`, ...scope))
    .orderBy(asc(tickets.id))
    .for('update')
}

export interface BulkWrite {
  after: Row
  /** Whether the ticket's fields changed (version + 1), not only a note added. */
  bump: boolean
}

/** Every ticket's new values in one UPDATE … FROM unnest(…): one array per column that changes anywhere. */
export async function writeMany(q: Queryable, writes: BulkWrite[], columns: BulkColumn[], now: Date): Promise<void> {
  if (writes.length === 0) return
  const names = columns.map(c => COLUMNS[c][0])
  const assignments = [
    ...names.map(n => sql.raw(`${n} = v.${n}`)),
    sql`version = t.version + v.bump`,
    sql`updated_at = ${now.toISOString()}::timestamptz`
  ]
  const arrays = [
    array(
      writes.map(w => w.after.id),
      'uuid'
    ),
    array(
      writes.map(w => (w.bump ? 1 : 0)),
      'int'
    ),
    ...columns.map(c =>
      array(
        writes.map(w => encode(c, w.after[c])),
        COLUMNS[c][1]
      )
    )
  ]
  await q.execute(sql`
    UPDATE tickets AS t SET ${sql.join(assignments, sql`, `)}
    FROM unnest(${sql.join(arrays, sql`, `)}) AS v(${sql.raw(['id', 'bump', ...names].join(', '))})
    WHERE t.id = v.id`)
}

/** The same public note on many tickets, one INSERT. */
export async function insertNotes(
  q: Queryable,
  notes: { id: string; ticketId: string }[],
  authorId: string,
  body: string
): Promise<void> {
  if (notes.length === 0) return
  await q.execute(sql`
    INSERT INTO ticket_notes (id, ticket_id, author_id, internal, body)
    SELECT n.id, n.ticket_id, ${authorId}::uuid, false, ${body}
    FROM unnest(${array(
      notes.map(n => n.id),
      'uuid'
    )}, ${array(
      notes.map(n => n.ticketId),
      'uuid'
    )}) AS n(id, ticket_id)`)
}
