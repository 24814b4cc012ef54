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
