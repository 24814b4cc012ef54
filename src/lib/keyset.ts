import { asc, type SQL, sql } from 'drizzle-orm'
import type { AnyPgColumn } from 'drizzle-orm/pg-core'
import { decodeCursor, encodeCursor, type Page, pageOf } from './cursor.js'
import { badRequest } from './errors.js'

/**
 * Keyset paging over a text column with the id as tie-break (lists sorted by name or path). The row
 * comparison and the ORDER BY use the same collation, so a page resumes exactly after the last row.
 */
export function textKeyset<R extends { id: string }>(
  sort: string,
  column: AnyPgColumn,
  id: AnyPgColumn,
  sortValue: (row: R) => string
) {
  return {
    after(raw: string | undefined): SQL | undefined {
      if (!raw) return undefined
      const c = decodeCursor(raw, sort)
      if (typeof c.value !== 'string' || !/^[0-9a-f-]{36}$/i.test(c.id)) {
        throw badRequest('invalid cursor: not a cursor from this API', [
          { field: 'cursor', message: 'not a cursor from this API' }
        ])
      }
      return sql`(${column}, ${id}) > (${c.value}, ${c.id}::uuid)`
    },
    orderBy: [asc(column), asc(id)] as SQL[],
    /** The cursor resuming after this row (GraphQL edges carry one each). */
    cursorOf: (row: R): string => encodeCursor({ sort, value: sortValue(row), id: row.id }),
    page<T = R>(rows: R[], limit: number, shape?: (row: R) => T): Page<T> {
      return pageOf(rows, limit, last => ({ sort, value: sortValue(last), id: last.id }), shape)
    }
  }
}

/**
 * Keyset paging over any column (a position, a start time) with the id as tie-break. `parse` turns the
 * cursor's value back into the column's type, or null when it is not one (a 400 naming `cursor`).
 */
export function columnKeyset<R extends { id: string }, K extends string | number>(
  sort: string,
  column: AnyPgColumn,
  id: AnyPgColumn,
  sortValue: (row: R) => K,
  parse: (v: unknown) => K | null
) {
  const bad = () =>
    badRequest('invalid cursor: not a cursor from this API', [
      { field: 'cursor', message: 'not a cursor from this API' }
    ])
  return {
    after(raw: string | undefined): SQL | undefined {
      if (!raw) return undefined
      const c = decodeCursor(raw, sort)
      const value = parse(c.value)
      if (value === null || !/^[0-9a-f-]{36}$/i.test(c.id)) throw bad()
      return sql`(${column}, ${id}) > (${value}, ${c.id}::uuid)`
    },
    orderBy: [asc(column), asc(id)] as SQL[],
    cursorOf: (row: R): string => encodeCursor({ sort, value: sortValue(row), id: row.id }),
    page<T = R>(rows: R[], limit: number, shape?: (row: R) => T): Page<T> {
      return pageOf(rows, limit, last => ({ sort, value: sortValue(last), id: last.id }), shape)
    }
  }
}

/** Cursor values of integer columns (positions). */
export const intValue = (v: unknown) => (typeof v === 'number' && Number.isInteger(v) ? v : null)
/** Cursor values of timestamp columns, as ISO-8601 strings. */
export const timeValue = (v: unknown) => (typeof v === 'string' && !Number.isNaN(Date.parse(v)) ? v : null)
