import { type Static, type TSchema, Type } from 'typebox'

/** Shared TypeBox pieces for route schemas. */
export const Uuid = Type.String({ format: 'uuid' })
/** In answers: services hand over Date objects, the serialisers write ISO-8601 UTC. */
export const DateTime = Type.Unsafe<Date | string>({ type: 'string', format: 'date-time' })
/** In requests: stays a string until the service parses it. */
export const DateTimeInput = Type.String({ format: 'date-time' })
/**
 * T or null. A schema with one `type` becomes `type: [T, "null"]` (objects and arrays too):
 * fast-json-stringify serialises that directly, while an anyOf costs a runtime validation per field
 * per response (on a list page, 150 validations of `{ id, displayName }` with a uuid pattern).
 */
export function Nullable<T extends TSchema>(schema: T) {
  const type = (schema as { type?: unknown }).type
  if (typeof type === 'string') return Type.Unsafe<Static<T> | null>({ ...schema, type: [type, 'null'] })
  return Type.Union([schema, Type.Null()])
}

export const StringEnum = <const T extends readonly string[]>(values: T, opts: Record<string, unknown> = {}) =>
  Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...opts })

export const Limit = Type.Integer({ minimum: 1, maximum: 500, default: 50, description: 'Page size (max 500).' })
export const CursorParam = Type.String({ maxLength: 512, description: 'Opaque cursor from a previous page.' })

/** A page of any list: size and the cursor of the page before (GraphQL calls them first and after). */
export const PageQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
    cursor: Type.Optional(Type.String({ maxLength: 512 }))
  },
  { additionalProperties: false }
)
export type PageInput = Static<typeof PageQuery>

export const IdParams = Type.Object({ id: Uuid }, { additionalProperties: false })

export const PageOf = <T extends TSchema>(item: T) =>
  Type.Object({
    items: Type.Array(item),
    nextCursor: Nullable(Type.String())
  })

/** How fresh a report is (lib/freshness.ts): every report answers these beside its figures. */
export const FreshnessFields = {
  asOf: {
    ...DateTime,
    description: 'The moment the figures reflect: now on the primary, the last replayed commit on a lagging replica'
  },
  replicaLagSeconds: Nullable(
    Type.Number({ description: 'How far the read replica is behind the primary; null: read from the primary' })
  )
}

/** RFC 9457 problem details, as every error answers. */
export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    instance: Type.Optional(Type.String()),
    code: Type.String(),
    errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
    allowed: Type.Optional(Type.Array(Type.String())),
    missingScope: Type.Optional(Type.String()),
    currentVersion: Type.Optional(Type.Integer())
  },
  { $id: 'Problem', additionalProperties: true }
)

const problem = {
  description: 'RFC 9457 problem details',
  content: { 'application/problem+json': { schema: Type.Unsafe({ $ref: 'Problem#' }) } }
}

/** The error answers a route may give, documented as application/problem+json. */
export function errorResponses(...codes: number[]): Record<number, TSchema> {
  const out: Record<number, TSchema> = {}
  for (const code of [400, 401, ...codes]) out[code] = problem as unknown as TSchema
  return out
}
