import type { FastifyReply } from 'fastify'
import { badRequest } from './errors.js'

/** Reads a version from If-Match (`"3"`, `W/"3"`, `3`); the body's `version` is the fallback. */
export function expectedVersion(ifMatch: string | undefined, bodyVersion: number | undefined): number | undefined {
  if (ifMatch === undefined) return bodyVersion
  const m = /^\s*(?:W\/)?"?(\d{1,9})"?\s*$/.exec(ifMatch)
  if (!m)
    throw badRequest('If-Match must be the ETag you read', [{ field: 'If-Match', message: 'must be an ETag like "3"' }])
  return Number(m[1])
}

export const etag = (version: number) => `"${version}"`

export function withEtag<T extends { version: number }>(reply: FastifyReply, item: T): T {
  reply.header('etag', etag(item.version))
  return item
}
