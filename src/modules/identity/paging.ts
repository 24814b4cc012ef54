import { decodeCursor, type Page, pageOf } from '../../lib/cursor.js'

/** Directory lists page by id: uuidv7 ids sort by creation time. */
export const parseIdCursor = (raw: string): string => decodeCursor(raw, 'id').id

export function pageFromRows<T extends { id: string }>(rows: T[], limit: number): Page<T> {
  return pageOf(rows, limit, last => ({ sort: 'id', value: null, id: last.id }))
}
