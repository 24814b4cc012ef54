import { expect } from 'vitest'
import type { TestApp } from './app.js'

type Page<T> = { items: T[]; nextCursor: string | null }

/** Every item of a REST list, page by page with `cursor` (at most `maxPages`, so a loop cannot hang). */
export async function walkPages<T>(
  t: TestApp,
  url: string,
  { limit = 2, token, maxPages = 100 }: { limit?: number; token?: string; maxPages?: number } = {}
): Promise<T[]> {
  const seen: T[] = []
  let cursor: string | null = null
  for (let pages = 0; pages < maxPages; pages++) {
    const sep = url.includes('?') ? '&' : '?'
    const res = await t.api(
      'GET',
      `${url}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      {
        ...(token ? { token } : {})
      }
    )
    expect(res.statusCode, `${url}: ${res.body}`).toBe(200)
    const page = res.json() as Page<T>
    expect(page.items.length).toBeLessThanOrEqual(limit)
    seen.push(...page.items)
    cursor = page.nextCursor
    if (!cursor) return seen
  }
  throw new Error(`${url}: more than ${maxPages} pages`)
}

type Key = string | number

const compare = (a: Key, b: Key) => (a < b ? -1 : a > b ? 1 : 0)

/**
 * Asserts items are in (key, tiebreak) order, ascending or descending, with no two equal: the keyset
 * order every list promises (the id breaks ties in the same direction).
 */
export function expectOrdered<T>(
  items: T[],
  key: (item: T) => Key,
  {
    descending = false,
    tiebreak,
    label = 'list'
  }: { descending?: boolean; tiebreak?: (item: T) => Key; label?: string } = {}
) {
  const out: string[] = []
  for (let i = 1; i < items.length; i++) {
    const a = items[i - 1] as T
    const b = items[i] as T
    let c = compare(key(a), key(b))
    if (c === 0 && tiebreak) c = compare(tiebreak(a), tiebreak(b))
    if (descending ? c <= 0 : c >= 0) out.push(`${i - 1}:${key(a)} then ${i}:${key(b)}`)
  }
  expect(out, `${label} out of ${descending ? 'descending' : 'ascending'} order`).toEqual([])
}
