import { badRequest } from './errors.js'

/** Keyset position: the sort spec it was made for, the last row's sort value and its id. */
export interface Cursor {
  sort: string
  value: string | number | null
  id: string
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify([c.sort, c.value, c.id])).toString('base64url')
}

/** A cursor that is not ours, or was made for another sort order, is a 400 naming `cursor`. */
export function decodeCursor(raw: string, sort: string, field = 'cursor'): Cursor {
  const bad = (why: string) => badRequest(`invalid cursor: ${why}`, [{ field, message: why }])
  if (raw.length > 512 || !/^[A-Za-z0-9_-]+$/.test(raw)) throw bad('not a cursor from this API')
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'))
  } catch {
    throw bad('not a cursor from this API')
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 3 ||
    typeof parsed[0] !== 'string' ||
    typeof parsed[2] !== 'string' ||
    !(parsed[1] === null || typeof parsed[1] === 'string' || typeof parsed[1] === 'number')
  ) {
    throw bad('not a cursor from this API')
  }
  if (parsed[0] !== sort) throw bad(`made for sort "${parsed[0]}", not "${sort}"`)
  return { sort: parsed[0], value: parsed[1], id: parsed[2] }
}

export interface Page<T> {
  items: T[]
  nextCursor: string | null
}

/**
 * A page from a query that fetched `limit + 1` rows: the first `limit`, shaped, and a cursor after the
 * last one when the extra row shows there is more.
 */
export function pageOf<R, T = R>(
  rows: R[],
  limit: number,
  cursorAfter: (last: R) => Cursor,
  shape: (row: R) => T = row => row as unknown as T
): Page<T> {
  const kept = rows.slice(0, limit)
  const last = kept[kept.length - 1]
  return { items: kept.map(shape), nextCursor: rows.length > limit && last ? encodeCursor(cursorAfter(last)) : null }
}
