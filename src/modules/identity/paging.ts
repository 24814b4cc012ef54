import { decodeCursor, encodeCursor, type Page } from '../../lib/cursor.js'

/** Directory lists page by id: uuidv7 ids sort by creation time. */
export const parseIdCursor = (raw: string): string => decodeCursor(raw, 'id').id

export function pageFromRows<T extends { id: string }>(rows: T[], limit: number): Page<T> {
  const items = rows.slice(0, limit)
  const last = items[items.length - 1]
  return {
    items,
    nextCursor: rows.length > limit && last ? encodeCursor({ sort: 'id', value: null, id: last.id }) : null
  }
}
