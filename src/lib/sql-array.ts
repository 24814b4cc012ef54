import { type SQL, sql } from 'drizzle-orm'

/**
 * One array parameter of a PostgreSQL type (`uuid`, `text`, `jsonb`, …): `sql.param` keeps it one value
 * (drizzle would spread a bare array into a list). For set-wise statements over `unnest(…)`.
 */
export const sqlArray = (values: readonly unknown[], type: string): SQL =>
  sql`${sql.param([...values])}::${sql.raw(type)}[]`
