import type { FastifyReply } from 'fastify'
import { badRequest } from './errors.js'

/** What If-Match takes: an ETag as answered (`"3"`, `W/"3"`) or a bare version (`3`). Also in the OpenAPI document. */
export const IF_MATCH_PATTERN = /^\s*(?:W\/)?(?:"(\d{1,9})"|(\d{1,9}))\s*$/

/** Reads a version from If-Match (`"3"`, `W/"3"`, `3`); the body's `version` is the fallback. */
export function expectedVersion(ifMatch: string | undefined, bodyVersion: number | undefined): number | undefined {
  if (ifMatch === undefined) return bodyVersion
  const m = IF_MATCH_PATTERN.exec(ifMatch)
  if (!m)
    throw badRequest('If-Match must be the ETag you read', [{ field: 'If-Match', message: 'must be an ETag like "3"' }])
  return Number(m[1] ?? m[2])
}

export const etag = (version: number) => `"${version}"`

export function withEtag<T extends { version: number }>(reply: FastifyReply, item: T): T {
  reply.header('etag', etag(item.version))
  return item
}
