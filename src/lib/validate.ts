import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv'
import addFormats from 'ajv-formats'
import type { TSchema } from 'typebox'
import { badRequest, type FieldError } from './errors.js'

const FORMATS: Record<string, string> = {
  uuid: 'a UUID',
  'date-time': 'an ISO-8601 date-time (2026-01-31T09:00:00Z)',
  date: 'a date as YYYY-MM-DD',
  email: 'an e-mail address',
  uri: 'a URL',
  hostname: 'a host name',
  ipv4: 'an IPv4 address',
  ipv6: 'an IPv6 address'
}
const TYPES: Record<string, string> = {
  string: 'a string',
  integer: 'a whole number',
  number: 'a number',
  boolean: 'true or false',
  object: 'an object',
  array: 'a list',
  null: 'null'
}
const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`
const list = (values: unknown) => (Array.isArray(values) ? values.map(v => String(v)).join(', ') : String(values))

/** What is wrong, in words a person reads (never the schema's regular expression). */
function wordsFor(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>
  switch (e.keyword) {
    case 'type': {
      const types = String(p.type).split(',')
      return `must be ${types.map(t => TYPES[t] ?? t).join(' or ')}`
    }
    case 'enum':
      return `must be one of: ${list(p.allowedValues)}`
    case 'const':
      return `must be ${JSON.stringify(p.allowedValue)}`
    case 'format':
      return `must be ${FORMATS[String(p.format)] ?? `a valid ${String(p.format)}`}`
    case 'pattern': {
      const description = (e.parentSchema as { description?: unknown } | undefined)?.description
      return typeof description === 'string' && description.length < 120
        ? `has the wrong format (${description})`
        : 'has the wrong format'
    }
    case 'minLength':
      return Number(p.limit) === 1 ? 'must not be empty' : `must be at least ${plural(Number(p.limit), 'character')}`
    case 'maxLength':
      return `must be at most ${plural(Number(p.limit), 'character')}`
    case 'minimum':
      return `must be at least ${String(p.limit)}`
    case 'maximum':
      return `must be at most ${String(p.limit)}`
    case 'exclusiveMinimum':
      return `must be more than ${String(p.limit)}`
    case 'exclusiveMaximum':
      return `must be less than ${String(p.limit)}`
    case 'minItems':
      return Number(p.limit) === 1 ? 'must not be empty' : `must hold at least ${plural(Number(p.limit), 'item')}`
    case 'maxItems':
      return `must hold at most ${plural(Number(p.limit), 'item')}`
    case 'uniqueItems':
      return 'must not repeat an item'
    case 'minProperties':
      return Number(p.limit) === 1 ? 'must not be empty' : `must hold at least ${plural(Number(p.limit), 'field')}`
    case 'maxProperties':
      return `must hold at most ${plural(Number(p.limit), 'field')}`
    case 'multipleOf':
      return `must be a multiple of ${String(p.multipleOf)}`
    case 'anyOf':
    case 'oneOf':
      return 'is not one of the allowed forms'
    default:
      return 'is invalid'
  }
}

/** Names the field an ajv error is about, as a dotted path ("layers.0.name"), and what is wrong. */
export function fieldOf(e: ErrorObject, part?: string): FieldError {
  const base = e.instancePath.replace(/^\//, '').replace(/\//g, '.')
  const join = (name: string) => (base ? `${base}.${name}` : name)
  const where = part && part !== 'body' ? `${part}: ` : ''
  if (e.keyword === 'required') return { field: join(String(e.params.missingProperty)), message: `${where}required` }
  if (e.keyword === 'additionalProperties') {
    return { field: join(String(e.params.additionalProperty)), message: `${where}unknown or read-only field` }
  }
  return { field: base || part || 'body', message: `${where}${wordsFor(e)}` }
}

/**
 * Every complaint at once, one per field. A union (anyOf) whose branches each failed is
 * said once: "must be one of: …" when its branches are constants, else the first branch's complaints
 * (a nullable value's "must be null" branch says nothing useful).
 */
export function fieldErrors(errors: readonly ErrorObject[], part?: string): FieldError[] {
  const isUnion = (e: ErrorObject) => e.keyword === 'anyOf' || e.keyword === 'oneOf'
  const constants = (e: ErrorObject) => {
    const branches = Array.isArray(e.schema) ? (e.schema as Record<string, unknown>[]) : []
    return branches.length > 0 && branches.every(b => 'const' in b) ? branches.map(b => String(b.const)) : null
  }
  const unions = errors.filter(isUnion)
  const kept: FieldError[] = []
  for (const e of errors) {
    if (isUnion(e)) {
      const values = constants(e)
      if (values) {
        const f = fieldOf(e, part)
        const where = part && part !== 'body' ? `${part}: ` : ''
        kept.push({ field: f.field, message: `${where}must be one of: ${values.join(', ')}` })
      } else if (!errors.some(o => o.schemaPath.startsWith(`${e.schemaPath}/0/`))) {
        kept.push(fieldOf(e, part))
      }
      continue
    }
    const union = unions.find(u => e.schemaPath.startsWith(`${u.schemaPath}/`))
    // inside a union: its constants are said by the union; otherwise the first branch speaks
    if (union && (constants(union) || !e.schemaPath.startsWith(`${union.schemaPath}/0/`))) continue
    kept.push(fieldOf(e, part))
  }
  // one complaint per field: the first (a wrong type says more than the pattern it then misses)
  return kept.filter((e, i) => kept.findIndex(o => o.field === e.field) === i)
}

export function makeAjv(coerce: boolean) {
  const ajv = new Ajv.default({
    coerceTypes: coerce,
    useDefaults: true,
    removeAdditional: false,
    // every complaint at once, with the schema at hand to word them (verbose)
    allErrors: true,
    verbose: true,
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
  const errors = fieldErrors(fn.errors ?? []).map(f => {
    return { field: prefix ? (f.field === 'body' ? prefix : `${prefix}.${f.field}`) : f.field, message: f.message }
  })
  throw badRequest(errors.map(e => `${e.field}: ${e.message}`).join('; '), errors)
}
