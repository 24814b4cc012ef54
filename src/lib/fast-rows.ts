import { hash } from 'node:crypto'
import { Column, fillPlaceholders, is, noopDecoder, SQL, sql } from 'drizzle-orm'
import { PgDialect } from 'drizzle-orm/pg-core'
import pg from 'pg'
import type { Queryable } from './context.js'
import { ArrayRowsQuery, queryArrayRows } from './pg-array-query.js'

/**
 * The hottest reads (a ticket by id, a page of a list) on node-postgres without drizzle's generic row
 * mapping: drizzle checks every cell's field kind and walks a path iterator per cell, which on a page
 * of 50 rows was a fifth of the request's CPU and most of its garbage. Here a selection's decoders are
 * worked out once and each row is one loop. The rows are the same objects drizzle would answer (the
 * same decoders run: timestamps to Date, integers, jsonb), on both drivers.
 */

type Field = Column | SQL | SQL.Aliased
/** A flat selection, as given to `db.select({...})`. */
export type Selection = Readonly<Record<string, Field>>
type Decode = ((value: unknown) => unknown) | null

interface Reader {
  keys: readonly string[]
  decoders: readonly Decode[]
}

const identity = Column.prototype.mapFromDriverValue

function decoderOf(field: Field): Decode {
  if (is(field, Column)) {
    if (field.mapFromDriverValue === identity) return null
    return value => field.mapFromDriverValue(value)
  }
  // An SQL field's decoder is what `.mapWith()` set (drizzle keeps it private)
  const decoder = (is(field, SQL) ? field : field.sql) as unknown as { decoder: typeof noopDecoder }
  if (decoder.decoder === noopDecoder) return null
  const { mapFromDriverValue } = decoder.decoder
  return value => mapFromDriverValue.call(decoder.decoder, value)
}

const readers = new WeakMap<Selection, Reader>()

function readerOf(selection: Selection): Reader {
  let reader = readers.get(selection)
  if (!reader) {
    const keys = Object.keys(selection)
    reader = { keys, decoders: keys.map(k => decoderOf(selection[k]!)) }
    readers.set(selection, reader)
  }
  return reader
}

/** Rows in array mode, in the selection's order, to objects keyed like the selection. */
export function mapRows<T>(selection: Selection, rows: readonly unknown[][]): T[] {
  const { keys, decoders } = readerOf(selection)
  const n = keys.length
  const out = new Array<T>(rows.length)
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!
    const obj: Record<string, unknown> = {}
    for (let i = 0; i < n; i++) {
      const value = row[i]
      const decode = decoders[i]
      obj[keys[i]!] = value === null || value === undefined ? null : decode ? decode(value) : value
    }
    out[r] = obj as T
  }
  return out
}

// Both drivers read these types as text, as drizzle's drivers do, for the column decoders (dates and
// intervals, and their arrays) to decode: one lookup instead of a chain of comparisons per field
const AS_TEXT_TYPES = [
  pg.types.builtins.TIMESTAMPTZ,
  pg.types.builtins.TIMESTAMP,
  pg.types.builtins.DATE,
  pg.types.builtins.INTERVAL,
  1231,
  1115,
  1185,
  1187,
  1182
]
const AS_TEXT = new Set(AS_TEXT_TYPES)
const asText = (value: string) => value
const PG_TYPES = {
  getTypeParser: (id: number, format: 'text') => (AS_TEXT.has(id) ? asText : pg.types.getTypeParser(id, format))
}
const PGLITE_OPTIONS = {
  rowMode: 'array',
  parsers: Object.fromEntries(AS_TEXT_TYPES.map(id => [id, asText]))
} as const

interface PgliteLike {
  query(text: string, params: unknown[], options: typeof PGLITE_OPTIONS): Promise<{ rows: unknown[][] }>
}
type Driver = { pg: pg.Pool | pg.ClientBase } | { pglite: PgliteLike }

/** The driver's client behind a drizzle database or transaction (node-postgres pool/client or PGlite). */
function driverOf(q: Queryable): Driver {
  const client = (q as unknown as { session?: { client?: unknown } }).session?.client
  if (client instanceof pg.Pool || client instanceof pg.Client) return { pg: client }
  if (client && typeof (client as PgliteLike).query === 'function') return { pglite: client as PgliteLike }
  throw new Error('fast-rows: neither a node-postgres nor a PGlite database')
}

const dialect = new PgDialect()

/** A drizzle query builder (not awaited). */
interface Built {
  toSQL(): { sql: string; params: unknown[] }
}

async function run(q: Queryable, text: string, params: unknown[], name?: string): Promise<unknown[][]> {
  const driver = driverOf(q)
  if ('pg' in driver) return queryArrayRows(driver.pg, new ArrayRowsQuery(text, params, name, PG_TYPES))
  return (await driver.pglite.query(text, params, PGLITE_OPTIONS)).rows
}

/** Names of the statements prepared by their text; a bounded number, then the rest run unprepared. */
const preparedNames = new Map<string, string>()
const MAX_PREPARED = 500

function nameFor(text: string): string | undefined {
  let name = preparedNames.get(text)
  if (!name && preparedNames.size < MAX_PREPARED) {
    name = `q_${hash('sha1', text, 'base64url').slice(0, 20)}`
    preparedNames.set(text, name)
  }
  return name
}

/**
 * Runs an SQL select whose columns are the selection's, in its order (see `selectList`), and answers
 * the rows as drizzle would. With `prepare`, node-postgres runs it as a statement named after its
 * text, so PostgreSQL plans each shape of query once per connection: a list page with its three
 * joins spent more time being planned than run. Only for statements whose text takes a bounded
 * number of shapes (values as parameters), as the plain list filters do.
 */
export async function selectRows<T>(
  q: Queryable,
  selection: Selection,
  query: SQL,
  opts: { prepare?: boolean } = {}
): Promise<T[]> {
  const { sql: text, params } = dialect.sqlToQuery(query)
  return mapRows<T>(selection, await run(q, text, params, opts.prepare ? nameFor(text) : undefined))
}

/**
 * `select <the selection's columns> from …` built once, for a hot query composed around it with `sql`
 * (its where, order and limit per call): drizzle builds the selection and joins of a select again on
 * every call, which cost a list as much as mapping its rows did.
 */
export function selectList(query: Built): SQL {
  return sql.raw(query.toSQL().sql)
}

/**
 * A prepared read: the SQL text is built once, then each call only binds its placeholders' values
 * (`sql.placeholder('id')`); on node-postgres it is a named prepared statement (parsed and planned
 * once per connection).
 */
export function preparedRows<T>(name: string, selection: Selection, query: Built) {
  const { sql: text, params } = query.toSQL()
  readerOf(selection)
  return {
    async execute(q: Queryable, values: Record<string, unknown>): Promise<T[]> {
      return mapRows<T>(selection, await run(q, text, fillPlaceholders(params, values), name))
    }
  }
}
