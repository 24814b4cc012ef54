import type { FastifyReply } from 'fastify'
import { type TObject, Type } from 'typebox'
import { badRequest } from './errors.js'

const IF_MATCH = /^\s*(?:W\/)?(?:"(\d{1,9})(?:-[A-Za-z0-9_-]{1,64})?"|(\d{1,9}))\s*$/
/** If-Match as the routes take it (for schemas declaring the header): what expectedVersion parses. */
export const IF_MATCH_PATTERN = IF_MATCH

/**
 * The one edit rule for every mutable resource: an edit names the version it was made against, by
 * If-Match (the ETag read) or by `version` in the body; the service answers 428 when neither came and
 * 412 when it is stale (checkVersion in lib/version.ts). These are the route side of it.
 */
export const IfMatchHeaders = Type.Object({
  'if-match': Type.Optional(
    Type.String({ description: 'ETag of the version you edit (or send `version` in the body)' })
  )
})

/** A patch body that also takes the `version` edited (the If-Match alternative). */
export function withVersion<T extends TObject>(patch: T) {
  const min = 'minProperties' in patch && typeof patch.minProperties === 'number' ? patch.minProperties : undefined
  return Type.Object(
    { ...patch.properties, version: Type.Optional(Type.Integer({ minimum: 0, description: 'The version you edit' })) },
    { additionalProperties: false, ...(min !== undefined ? { minProperties: min } : {}) }
  )
}

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
