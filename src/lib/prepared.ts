import { hash } from 'node:crypto'
import type { SQL } from 'drizzle-orm'
import { PgDialect } from 'drizzle-orm/pg-core'
import pg from 'pg'
import type { Queryable } from './context.js'

const dialect = new PgDialect()

/**
 * Runs raw SQL as a named prepared statement on node-postgres, so a hot statement is parsed and planned
 * once per connection instead of on every call; on PGlite it runs as usual. A name must always go with
 * the same SQL text (parameters vary, the text does not). A null name runs it unprepared: after five runs
 * PostgreSQL may switch a prepared statement to a generic plan, which suits one-row calls, not batches.
 */
export async function executeNamed(q: Queryable, name: string | null, query: SQL): Promise<Record<string, unknown>[]> {
  const client = (q as unknown as { session?: { client?: unknown } }).session?.client
  if (name && (client instanceof pg.Client || client instanceof pg.Pool)) {
    const { sql: text, params } = dialect.sqlToQuery(query)
    const result = await (client as pg.Client).query({ name, text, values: params as unknown[] })
    return result.rows
  }
  const result = await q.execute(query)
  return (result as unknown as { rows: Record<string, unknown>[] }).rows
}

/** Statement names by SQL text; a bounded number, then further texts run unprepared. */
const namesByText = new Map<string, string>()
const MAX_NAMED = 200

/**
 * Like `executeNamed`, named after the statement's text: for a hot write whose text takes a few
 * shapes (values always as parameters), so each shape is parsed and planned once per connection.
 */
export async function executePrepared(q: Queryable, query: SQL): Promise<Record<string, unknown>[]> {
  const client = (q as unknown as { session?: { client?: unknown } }).session?.client
  if (!(client instanceof pg.Client || client instanceof pg.Pool)) {
    const result = await q.execute(query)
    return (result as unknown as { rows: Record<string, unknown>[] }).rows
  }
  const { sql: text, params } = dialect.sqlToQuery(query)
  let name = namesByText.get(text)
  if (!name && namesByText.size < MAX_NAMED) {
    name = `w_${hash('sha1', text, 'base64url').slice(0, 20)}`
    namesByText.set(text, name)
  }
  const result = await (client as pg.Client).query(name ? { name, text, values: params } : { text, values: params })
  return result.rows
}
