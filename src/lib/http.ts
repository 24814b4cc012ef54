import type { FastifyReply } from 'fastify'
import { badRequest } from './errors.js'

const IF_MATCH = /^\s*(?:W\/)?(?:"(\d{1,9})(?:-[A-Za-z0-9_-]{1,64})?"|(\d{1,9}))\s*$/
/** If-Match as the routes take it (for schemas declaring the header): what expectedVersion parses. */
export const IF_MATCH_PATTERN = IF_MATCH

/**
 * Reads a version from If-Match: the ETag as read (`"3-<digest>"`), or `"3"`, `W/"3"`, `3`; the body's
 * `version` is the fallback. Only the version part is compared: the digest tracks representation
 * changes (linked records) that an edit does not conflict with.
 */
export function expectedVersion(ifMatch: string | undefined, bodyVersion: number | undefined): number | undefined {
  if (ifMatch === undefined) return bodyVersion
  const m = IF_MATCH.exec(ifMatch)
  if (!m)
    throw badRequest('If-Match must be the ETag you read', [
      { field: 'If-Match', message: 'must be an ETag as read, like "3-…" or "3"' }
    ])
  return Number(m[1] ?? m[2])
}

/**
 * The version tag a route sets; plugins/http.ts completes it with a digest of the body actually sent
 * (`"3"` → `"3-<digest>"`), so the ETag changes whenever the representation does.
 */
export const etag = (version: number) => `"${version}"`

export function withEtag<T extends { version: number }>(reply: FastifyReply, item: T): T {
  reply.header('etag', etag(item.version))
  return item
}
