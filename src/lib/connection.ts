import type { Page } from './cursor.js'

/** A REST page as a GraphQL connection; each edge carries the cursor that resumes after it. */
export function toConnection<T>(page: Page<T>, cursorOf: (item: T) => string) {
  const edges = page.items.map(node => ({ node, cursor: cursorOf(node) }))
  // Relay: endCursor is the last edge's cursor, whether or not another page follows
  return { edges, pageInfo: { hasNextPage: page.nextCursor !== null, endCursor: edges.at(-1)?.cursor ?? null } }
}
