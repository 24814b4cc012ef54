import { timestamp } from 'drizzle-orm/pg-core'

/**
 * A timestamptz of millisecond precision: what the API shows is exactly what is stored, so keyset
 * cursors compare equal. Every table's times use it.
 */
export const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date', precision: 3 })
