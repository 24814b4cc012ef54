import type { Page } from './cursor.js'

/** A REST page as a GraphQL connection; each edge carries the cursor that resumes after it. */
export function toConnection<T>(page: Page<T>, cursorOf: (item: T) => string) {
  return {
    edges: page.items.map(node => ({ node, cursor: cursorOf(node) })),
    pageInfo: { hasNextPage: page.nextCursor !== null, endCursor: page.nextCursor }
  }
}
