import { parse } from '@rsql/parser'
import { type SQL, sql } from 'drizzle-orm'
import type { AnyPgColumn } from 'drizzle-orm/pg-core'
import type { CustomFieldSpec, CustomFieldType } from './custom-field-types.js'
import { badRequest } from './errors.js'

/**
 * One filter language for both doors: an RSQL/FIQL expression (`status==open;priority=le=2`,
 * `title=like=printer,customFields.site=in=(Leeds,York)`) compiled into a drizzle `SQL` condition.
 * Every value reaches PostgreSQL as a bound parameter; the only SQL text we write is fixed fragments.
 *
 * Null semantics, the same for every field: `!=` and `=out=` include rows where the value is null
 * (`col IS DISTINCT FROM v`, `col IS NULL OR col NOT IN (...)`); for a custom field, an absent key or
 * a JSON null counts as null. `==`, `=in=`, the ranges and `=like=` never match null; `=isnull=true`
 * finds them (for multichoice also an empty array). `*` is always a wildcard in text `==`, `!=` and
 * `=like=`; `%`, `_` and `\` are matched literally.
 */

export type FilterType = 'text' | 'integer' | 'uuid' | 'datetime' | 'boolean' | 'enum'

export interface FilterField {
  /** A column or any SQL expression of the field's type. */
  sql: SQL | AnyPgColumn
  type: FilterType
  /** The allowed values of an enum field. */
  values?: readonly string[]
  /** Whether the value can be null: `!=` and `=out=` then also match null rows. */
  nullable?: boolean
  /**
   * Known values of a text field (a kind's statuses): an exact comparison with any other value is a
   * 400 like the plain query parameter's, not an empty answer. `=like=` and `*` patterns stay free.
   */
  known?: readonly string[]
  /** The range of an integer field (priority 1 to 5): a value outside it is a 400. */
  min?: number
  max?: number
  /**
   * Another spelling of an integer field's values (a ticket's human number, INC-000003): answers the
   * integer and, when it says more than the column holds (the kind), a condition that goes with it; or
   * a message saying why the value is refused. Values that are plain integers never reach it.
   */
  parse?: (value: string) => { value: number; also?: SQL } | string
  /**
   * The expression is an array of the type (the CIs a ticket names): `==` means "holds the value",
   * `=in=` "holds any of them", `!=`/`=out=` their negations, `=isnull=true` "is empty".
   */
  many?: boolean
  /**
   * `sql` is a column of a side table holding at most one row per record (a ticket's SLA resolution
   * clock); `within(condition)` answers the records that have a side row where `condition` holds (an
   * `exists`, so the planner may drive it from the side table's index). A record without the row has
   * the value null: `!=`, `=out=` and `=isnull=true` compile as `not within(...)` of their positive.
   */
  within?: (condition: SQL) => SQL
}

export interface CustomFilter {
  /** The jsonb object column holding custom values (tickets.custom_fields). */
  column: AnyPgColumn
  specs: ReadonlyMap<string, CustomFieldSpec>
  /** How a filter names these fields: `customFields.` (the default) or `attributes.` for CI attributes. */
  prefix?: string
}

type Expression = ReturnType<typeof parse>
type Comparison = Extract<Expression, { type: 'COMPARISON' }>
type Op = 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge' | 'in' | 'out' | 'isnull' | 'like'

export const MAX_FILTER_LENGTH = 2000
export const MAX_FILTER_COMPARISONS = 50
export const MAX_FILTER_LIST = 100
export const CUSTOM_FIELDS_PREFIX = 'customFields.'

const OPERATORS: Readonly<Record<string, Op>> = {
  '==': 'eq',
  '!=': 'ne',
  '<': 'lt',
  '=lt=': 'lt',
  '<=': 'le',
  '=le=': 'le',
  '>': 'gt',
  '=gt=': 'gt',
  '>=': 'ge',
  '=ge=': 'ge',
  '=in=': 'in',
  '=out=': 'out',
  '=isnull=': 'isnull',
  '=like=': 'like'
}

const BASE: readonly Op[] = ['eq', 'ne', 'in', 'out', 'isnull']
const RANGE: readonly Op[] = ['lt', 'le', 'gt', 'ge']
const ALLOWED: Readonly<Record<FilterType, readonly Op[]>> = {
  text: [...BASE, 'like'],
  integer: [...BASE, ...RANGE],
  uuid: BASE,
  datetime: [...BASE, ...RANGE],
  boolean: ['eq', 'ne', 'isnull'],
  enum: BASE
}
const CUSTOM_ALLOWED: Readonly<Record<CustomFieldType, readonly Op[]>> = {
  text: [...BASE, 'like'],
  number: [...BASE, ...RANGE],
  date: [...BASE, ...RANGE],
  boolean: ['eq', 'ne', 'isnull'],
  choice: BASE,
  multichoice: BASE,
  user: BASE,
  ci: BASE
}

// Fixed SQL fragments: comparison operators are never taken from the input
const CMP: Readonly<Record<'lt' | 'le' | 'gt' | 'ge', SQL>> = {
  lt: sql`<`,
  le: sql`<=`,
  gt: sql`>`,
  ge: sql`>=`
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const INTEGER_RE = /^[+-]?\d{1,16}$/
const NUMBER_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/
const DATETIME_RE = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?)?$/i

type Fail = (message: string) => Error

/** Compile `expression` into a condition; any problem is a 400 naming `param` (the query parameter). */
export function compileFilter(
  expression: string,
  fields: Readonly<Record<string, FilterField>>,
  custom?: CustomFilter | null,
  param = 'filter'
): SQL {
  const fail: Fail = message => badRequest(`${param}: ${message}`, [{ field: param, message }])
  if (expression.length > MAX_FILTER_LENGTH) throw fail(`longer than ${MAX_FILTER_LENGTH} characters`)
  if (expression.trim() === '') throw fail('empty filter expression')
  let ast: Expression
  try {
    ast = parse(expression)
  } catch (e) {
    // The parser echoes the whole source after the position; the client already has it
    const message = e instanceof Error ? e.message.replace(/ in ".*$/s, '') : 'unparseable'
    throw fail(`syntax error: ${message}`)
  }
  if (countComparisons(ast) > MAX_FILTER_COMPARISONS) {
    throw fail(`more than ${MAX_FILTER_COMPARISONS} comparisons`)
  }
  const known = () =>
    [
      ...Object.keys(fields),
      ...[...(custom?.specs.keys() ?? [])].map(k => (custom?.prefix ?? CUSTOM_FIELDS_PREFIX) + k)
    ].join(', ')
  const walk = (node: Expression): SQL => {
    if (node.type === 'LOGIC') {
      const joiner = node.operator === ';' || node.operator === 'and' ? sql` and ` : sql` or `
      return sql`(${walk(node.left)}${joiner}${walk(node.right)})`
    }
    return comparison(node, fields, custom ?? null, fail, known)
  }
  return walk(ast)
}

function countComparisons(node: Expression): number {
  return node.type === 'LOGIC' ? countComparisons(node.left) + countComparisons(node.right) : 1
}

function comparison(
  node: Comparison,
  fields: Readonly<Record<string, FilterField>>,
  custom: CustomFilter | null,
  fail: Fail,
  known: () => string
): SQL {
  const name = node.left.selector
  const op = OPERATORS[node.operator]
  if (!op) throw fail(`${name}: unknown operator "${node.operator}"; known: ${Object.keys(OPERATORS).join(', ')}`)
  const raw = node.right.value
  let values: string[]
  if (op === 'in' || op === 'out') {
    values = Array.isArray(raw) ? raw : [raw]
    if (values.length > MAX_FILTER_LIST) throw fail(`${name}: more than ${MAX_FILTER_LIST} values in ${node.operator}`)
  } else {
    if (Array.isArray(raw)) throw fail(`${name}: ${node.operator} takes a single value, not a list`)
    values = [raw]
  }
  const field = Object.hasOwn(fields, name) ? fields[name] : undefined
  if (field) {
    if (!ALLOWED[field.type].includes(op)) throw fail(notValid(name, node.operator, field.type))
    return builtin(name, field, op, values, fail)
  }
  const prefix = custom?.prefix ?? CUSTOM_FIELDS_PREFIX
  const key = name.startsWith(prefix) ? name.slice(prefix.length) : undefined
  const spec = key !== undefined ? custom?.specs.get(key) : undefined
  if (!custom || !spec) throw fail(`unknown field "${name}"; known: ${known()}`)
  if (!CUSTOM_ALLOWED[spec.type].includes(op)) throw fail(notValid(name, node.operator, spec.type))
  return customComparison(name, custom.column, spec, op, values, fail)
}

const notValid = (name: string, operator: string, type: string) =>
  `${name}: operator ${operator} is not valid for ${type} fields`

function isnullFlag(name: string, value: string, fail: Fail): boolean {
  if (value === 'true' || value === 'false') return value === 'true'
  throw fail(`${name}: =isnull= takes true or false, not "${value}"`)
}

/** A LIKE pattern matching `value` literally except `*`, which matches anything. */
function likePattern(value: string): string {
  return value.replace(/[\\%_]/g, c => `\\${c}`).replace(/\*/g, '%')
}

/** A comparison on a side-table column (FilterField.within): positive tests inside, negations around. */
function withinComparison(name: string, field: FilterField, op: Op, values: string[], fail: Fail): SQL {
  const within = field.within!
  const inner: FilterField = { ...field, within: undefined, nullable: false }
  if (op === 'isnull') {
    const present = within(sql`${field.sql} is not null`)
    return isnullFlag(name, values[0] ?? '', fail) ? sql`not ${present}` : present
  }
  if (op === 'ne' || op === 'out')
    return sql`not ${within(builtin(name, inner, op === 'ne' ? 'eq' : 'in', values, fail))}`
  return within(builtin(name, inner, op, values, fail))
}

function builtin(name: string, field: FilterField, op: Op, values: string[], fail: Fail): SQL {
  if (field.within) return withinComparison(name, field, op, values, fail)
  const col = field.sql
  const first = values[0] ?? ''
  if (op === 'isnull' && field.many) {
    return isnullFlag(name, first, fail) ? sql`cardinality(${col}) = 0` : sql`cardinality(${col}) > 0`
  }
  if (op === 'isnull') return isnullFlag(name, first, fail) ? sql`${col} is null` : sql`${col} is not null`
  if (op === 'like') return sql`${col} ilike ${`%${likePattern(first)}%`}`
  if (field.type === 'text' && (op === 'eq' || op === 'ne') && first.includes('*')) {
    const pattern = likePattern(first)
    if (op === 'eq') return sql`${col} ilike ${pattern}`
    return field.nullable ? sql`(${col} is null or ${col} not ilike ${pattern})` : sql`${col} not ilike ${pattern}`
  }
  if (field.parse && values.some(v => !INTEGER_RE.test(v))) return spelled(name, field, op, values, fail)
  if (field.many) return manyComparison(name, field, op, values, fail)
  const params = values.map(v => builtinParam(name, field, v, fail))
  switch (op) {
    case 'eq':
      return sql`${col} = ${params[0]}`
    case 'ne':
      return field.nullable ? sql`${col} is distinct from ${params[0]}` : sql`${col} <> ${params[0]}`
    case 'in':
      return sql`${col} in (${sql.join(params, sql`, `)})`
    case 'out':
      return field.nullable
        ? sql`(${col} is null or ${col} not in (${sql.join(params, sql`, `)}))`
        : sql`${col} not in (${sql.join(params, sql`, `)})`
    default:
      return sql`${col} ${CMP[op]} ${params[0]}`
  }
}

/** Comparisons on an array field: membership rather than equality. */
function manyComparison(name: string, field: FilterField, op: Op, values: string[], fail: Fail): SQL {
  const col = field.sql
  const params = values.map(v => builtinParam(name, field, v, fail))
  const holds =
    params.length === 1 ? sql`${params[0]} = any(${col})` : sql`${col} && array[${sql.join(params, sql`, `)}]`
  switch (op) {
    case 'eq':
    case 'in':
      return holds
    case 'ne':
    case 'out':
      return sql`not (${holds})`
    default:
      throw fail(`${name}: operator is not valid for a list field (use ==, !=, =in=, =out= or =isnull=)`)
  }
}

/** Comparisons on values given in the field's other spelling, each with the condition it brings. */
function spelled(name: string, field: FilterField, op: Op, values: string[], fail: Fail): SQL {
  const col = field.sql
  const terms = values.map(v => {
    const parsed = INTEGER_RE.test(v) ? { value: parseInteger(name, v, fail) } : field.parse!(v)
    if (typeof parsed === 'string') throw fail(`${name}: ${parsed}`)
    const n = sql`${String(parsed.value)}::bigint`
    return { n, also: parsed.also }
  })
  const eqTerm = (t: (typeof terms)[number]) => (t.also ? sql`(${col} = ${t.n} and ${t.also})` : sql`${col} = ${t.n}`)
  switch (op) {
    case 'eq':
      return eqTerm(terms[0]!)
    case 'in':
      return sql`(${sql.join(terms.map(eqTerm), sql` or `)})`
    case 'ne':
      return sql`not ${eqTerm(terms[0]!)}`
    case 'out':
      return sql`not (${sql.join(terms.map(eqTerm), sql` or `)})`
    default: {
      const t = terms[0]!
      const range = sql`${col} ${CMP[op as 'lt' | 'le' | 'gt' | 'ge']} ${t.n}`
      return t.also ? sql`(${range} and ${t.also})` : range
    }
  }
}

/** A checked value as a bound parameter, cast so PostgreSQL never guesses its type from the column. */
function builtinParam(name: string, field: FilterField, value: string, fail: Fail): SQL {
  switch (field.type) {
    case 'text':
      if (field.known && !field.known.includes(value)) {
        throw fail(`${name}: "${value}" is not one of ${field.known.join(', ')}`)
      }
      return sql`${value}`
    case 'enum':
      // no cast: the column may be a PostgreSQL enum, whose type the parameter then takes
      if (!field.values?.includes(value)) {
        throw fail(`${name}: "${value}" is not one of ${(field.values ?? []).join(', ')}`)
      }
      return sql`${value}`
    case 'integer': {
      const n = parseInteger(name, value, fail)
      if ((field.min !== undefined && n < field.min) || (field.max !== undefined && n > field.max)) {
        throw fail(`${name}: ${n} is not between ${field.min ?? '…'} and ${field.max ?? '…'}`)
      }
      return sql`${String(n)}::bigint`
    }
    case 'uuid':
      return sql`${parseUuid(name, value, fail)}::uuid`
    case 'datetime':
      return sql`${parseDateTime(name, value, fail).toISOString()}::timestamptz`
    case 'boolean':
      return sql`${String(parseBoolean(name, value, fail))}::boolean`
  }
}

function parseInteger(name: string, value: string, fail: Fail): number {
  const n = Number(value)
  if (!INTEGER_RE.test(value) || !Number.isSafeInteger(n)) throw fail(`${name}: "${value}" is not an integer`)
  return n
}

function parseNumber(name: string, value: string, fail: Fail): number {
  const n = Number(value)
  if (!NUMBER_RE.test(value) || !Number.isFinite(n)) throw fail(`${name}: "${value}" is not a number`)
  return n
}

function parseUuid(name: string, value: string, fail: Fail): string {
  if (!UUID_RE.test(value)) throw fail(`${name}: "${value}" is not a UUID`)
  return value.toLowerCase()
}

function parseBoolean(name: string, value: string, fail: Fail): boolean {
  if (value === 'true' || value === 'false') return value === 'true'
  throw fail(`${name}: "${value}" is not a boolean (true or false)`)
}

const realDate = (y: number, m: number, d: number) => {
  const date = new Date(Date.UTC(y, m - 1, d))
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d
}

function parseDate(name: string, value: string, fail: Fail): string {
  const m = DATE_RE.exec(value)
  if (!m || !realDate(Number(m[1]), Number(m[2]), Number(m[3]))) {
    throw fail(`${name}: "${value}" is not a date (YYYY-MM-DD)`)
  }
  return value
}

/** ISO-8601 date or date-time; a time without an offset is UTC. */
function parseDateTime(name: string, value: string, fail: Fail): Date {
  const bad = () => fail(`${name}: "${value}" is not an ISO-8601 date-time`)
  const m = DATETIME_RE.exec(value)
  if (!m || !realDate(Number(m[1]), Number(m[2]), Number(m[3]))) throw bad()
  const [, y, mo, d, h, mi, s, frac, zone] = m
  if (h === undefined) return new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)))
  if (Number(h) > 23 || Number(mi) > 59 || Number(s ?? 0) > 59) throw bad()
  const ms = (frac ?? '').padEnd(3, '0').slice(0, 3)
  const date = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s ?? '00'}.${ms}${(zone ?? 'Z').toUpperCase()}`)
  if (Number.isNaN(date.getTime())) throw bad()
  return date
}

/** A custom value as the JSON value it is stored as. */
function customValue(name: string, spec: CustomFieldSpec, value: string, fail: Fail): unknown {
  switch (spec.type) {
    case 'text':
      return value
    case 'number':
      return parseNumber(name, value, fail)
    case 'date':
      return parseDate(name, value, fail)
    case 'boolean':
      return parseBoolean(name, value, fail)
    case 'user':
    case 'ci':
      return parseUuid(name, value, fail)
    case 'choice':
    case 'multichoice':
      if (spec.options && !spec.options.includes(value)) {
        throw fail(`${name}: "${value}" is not one of ${spec.options.join(', ')}`)
      }
      return value
  }
}

function customComparison(
  name: string,
  column: AnyPgColumn,
  spec: CustomFieldSpec,
  op: Op,
  values: string[],
  fail: Fail
): SQL {
  const key = spec.key
  const first = values[0] ?? ''
  const text = sql`(${column} ->> ${key}::text)`
  if (op === 'isnull') {
    const isNull =
      spec.type === 'multichoice'
        ? sql`coalesce(${column} -> ${key}::text, 'null'::jsonb) in ('null'::jsonb, '[]'::jsonb)`
        : sql`${text} is null`
    return isnullFlag(name, first, fail) ? isNull : sql`not (${isNull})`
  }
  if (op === 'like') return sql`${text} ilike ${`%${likePattern(first)}%`}`
  if (spec.type === 'text' && (op === 'eq' || op === 'ne') && first.includes('*')) {
    const pattern = likePattern(first)
    return op === 'eq' ? sql`${text} ilike ${pattern}` : sql`(${text} is null or ${text} not ilike ${pattern})`
  }
  if (op === 'lt' || op === 'le' || op === 'gt' || op === 'ge') {
    const v = customValue(name, spec, first, fail)
    if (spec.type === 'number') return sql`${customNumber(column, key)} ${CMP[op]} ${String(v)}::numeric`
    // dates are stored as YYYY-MM-DD strings, which sort bytewise
    return sql`${text} collate "C" ${CMP[op]} ${String(v)}::text`
  }
  // Equality as jsonb containment, so the GIN (jsonb_path_ops) index on the column can answer it.
  // A multichoice value contains the wanted one; =in= means "contains any of".
  const contains = (value: string) => {
    const v = customValue(name, spec, value, fail)
    const json = JSON.stringify({ [key]: spec.type === 'multichoice' ? [v] : v })
    return sql`${column} @> ${json}::jsonb`
  }
  const any = values.length === 1 ? contains(first) : sql`(${sql.join(values.map(contains), sql` or `)})`
  // coalesce: a null column counts as an empty object, so negations still include it
  return op === 'eq' || op === 'in' ? any : sql`not coalesce(${any}, false)`
}

/** The numeric value of a custom number field, null when absent or (bad data) not a JSON number. */
function customNumber(column: AnyPgColumn, key: string): SQL {
  return sql`(case when jsonb_typeof(${column} -> ${key}::text) = 'number' then (${column} ->> ${key}::text)::numeric end)`
}

/**
 * A never-null expression to keyset-sort on a custom field: numbers as numeric, everything else as
 * the text of its JSON value. A missing or null value sorts first ascending (last descending): it
 * becomes '-Infinity' for numbers and '' for the rest. Tie-break on the id as usual. The value read
 * back from a row is a string for both (node-postgres and PGlite return numeric as text); cast a
 * cursor's value with `customSortCast` (`${value}::numeric` or `${value}::text`).
 */
export function customSortExpression(column: AnyPgColumn, spec: CustomFieldSpec): SQL {
  if (spec.type === 'number') return sql`coalesce(${customNumber(column, spec.key)}, '-Infinity'::numeric)`
  return sql`coalesce(${column} ->> ${spec.key}::text, '')`
}

/**
 * What `customSortExpression` gives for a row whose custom value is `value`, computed in JS so a
 * cursor can be made from the row: a number, or the string '-Infinity' (JSON has no -Infinity) for a
 * number field; PostgreSQL's text of the JSON value (`->>`) for the rest. Both cast back as
 * `customSortCast` says.
 */
export function customSortValue(spec: CustomFieldSpec, value: unknown): string | number {
  if (spec.type === 'number') return typeof value === 'number' && Number.isFinite(value) ? value : '-Infinity'
  if (value === undefined || value === null) return ''
  if (typeof value === 'string') return value
  return jsonbText(value)
}

/** jsonb's own text rendering: JSON with ', ' and ': ' separators. */
function jsonbText(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(jsonbText).join(', ')}]`
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}: ${jsonbText(v)}`).join(', ')}}`
  }
  return JSON.stringify(value)
}

/** The SQL type a cursor value of `customSortExpression(column, spec)` is cast back to. */
export function customSortCast(spec: CustomFieldSpec): 'text' | 'numeric' {
  return spec.type === 'number' ? 'numeric' : 'text'
}
