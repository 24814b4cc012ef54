import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv'
import addFormats from 'ajv-formats'
import type { TSchema } from 'typebox'
import { badRequest, type FieldError } from './errors.js'

/** Names the field an ajv error is about, as a dotted path ("layers.0.name"). */
export function fieldOf(e: ErrorObject, part?: string): FieldError {
  const base = e.instancePath.replace(/^\//, '').replace(/\//g, '.')
  const join = (name: string) => (base ? `${base}.${name}` : name)
  const where = part && part !== 'body' ? `${part}: ` : ''
  if (e.keyword === 'required') return { field: join(String(e.params.missingProperty)), message: `${where}required` }
  if (e.keyword === 'additionalProperties') {
    return { field: join(String(e.params.additionalProperty)), message: `${where}unknown or read-only field` }
  }
  return { field: base || part || 'body', message: `${where}${e.message ?? 'invalid'}` }
}

export function makeAjv(coerce: boolean) {
  const ajv = new Ajv.default({
    coerceTypes: coerce,
    useDefaults: true,
    removeAdditional: false,
    allErrors: false,
    strict: false
  })
  addFormats.default(ajv)
  return ajv
}

const strict = makeAjv(false)
const compiled = new WeakMap<TSchema, ValidateFunction>()

/**
 * Checks a value against the same TypeBox schema the REST route uses, so GraphQL arguments meet the
 * very same rules. Throws a 400 naming the field (prefixed, e.g. "input.title").
 */
export function check<T>(schema: TSchema, value: unknown, prefix?: string): T {
  let fn = compiled.get(schema)
  if (!fn) {
    fn = strict.compile(schema)
    compiled.set(schema, fn)
  }
  if (fn(value)) return value as T
  const errors = (fn.errors ?? []).map(e => {
    const f = fieldOf(e)
    return { field: prefix ? (f.field === 'body' ? prefix : `${prefix}.${f.field}`) : f.field, message: f.message }
  })
  throw badRequest(errors.map(e => `${e.field}: ${e.message}`).join('; '), errors)
}
