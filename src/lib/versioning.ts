import { type Static, type TObject, Type } from 'typebox'
import { badRequest, preconditionFailed, preconditionRequired } from './errors.js'

/**
 * The one edit-conflict rule for every mutable resource: an edit names the version it was made
 * against, by `If-Match` (the ETag of the read) or by `version` in the body; neither is 428, a stale
 * one is 412 with `currentVersion`. Routes read the version with `expectedVersion`, services compare
 * it with `checkVersion` (so GraphQL, which passes `version` as an argument, gets the same rule).
 */

/** Headers a versioned write declares; the ETag syntax is checked by `expectedVersion`. */
export const IfMatchHeaders = Type.Object({
  'if-match': Type.Optional(
    Type.String({ description: 'The ETag of the version you edit (or send `version` in the body)' })
  )
})
export type IfMatchHeadersType = Static<typeof IfMatchHeaders>

/** The body's alternative to If-Match: the `version` you read. */
export const VersionField = Type.Optional(
  Type.Integer({ minimum: 1, maximum: 999_999_999, description: 'The version you edit (instead of If-Match)' })
)

/** An edit body that may also carry `version`; the rest of the schema (and its options) is kept. */
export function Versioned<T extends TObject>(schema: T) {
  const { properties: _p, type: _t, required: _r, ...options } = schema as TObject & Record<string, unknown>
  return Type.Object({ ...schema.properties, version: VersionField }, options)
}

/** `"3"`, `W/"3"` or a bare `3`; anything else is 400 naming `If-Match`. */
export function parseIfMatch(ifMatch: string | undefined): number | undefined {
  if (ifMatch === undefined) return undefined
  const m = /^\s*(?:W\/)?"?(\d{1,9})"?\s*$/.exec(ifMatch)
  if (!m)
    throw badRequest('If-Match must be the ETag you read', [{ field: 'If-Match', message: 'must be an ETag like "3"' }])
  return Number(m[1])
}

/**
 * The version a write expects: If-Match wins, else the body's `version`. Undefined when neither is
 * sent (the service's `checkVersion` turns that into 428).
 */
export function expectedVersion(
  headers: { 'if-match'?: string | string[] | undefined },
  body?: { version?: unknown } | null
): number | undefined {
  const raw = headers['if-match']
  const header = Array.isArray(raw) ? raw[0] : raw
  if (header !== undefined) return parseIfMatch(header)
  const v = body?.version
  return typeof v === 'number' && Number.isInteger(v) ? v : undefined
}

/** Splits `version` off a body, so the rest can go to the service as its input. */
export function withoutVersion<T extends { version?: unknown }>(body: T): Omit<T, 'version'> {
  const { version: _version, ...rest } = body
  return rest
}

/** Service side of the rule: 428 when no version was named, 412 (with `currentVersion`) when stale. */
export function checkVersion(noun: string, current: number, expected: number | undefined): void {
  if (expected === undefined) {
    throw preconditionRequired(`send If-Match with the ETag (or "version" in the body) of the ${noun} you edited`)
  }
  if (expected !== current) {
    throw preconditionFailed(`the ${noun} was changed by someone else (now version ${current})`, {
      currentVersion: current
    })
  }
}
