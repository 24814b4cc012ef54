import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { sql } from 'drizzle-orm'
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres'
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator'
import type { PgliteDatabase } from 'drizzle-orm/pglite'
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Database } from '../../src/db/client.js'
import { migrationsFolder, runMigrations } from '../../src/db/migrate.js'
import { createTestDatabase, driver, type TestDatabase } from '../helpers/db.js'

/**
 * Migrations are history. The first frozen release is commit fef0f24 (migrations 0000–0003), copied
 * byte for byte under test/fixtures: a database made by that release must upgrade to the current
 * migrations and end with exactly the schema a fresh database gets.
 */
const frozenFolder = fileURLToPath(new URL('../fixtures/migrations-fef0f24', import.meta.url))

interface JournalEntry {
  idx: number
  when: number
  tag: string
}
const journal = (folder: string) =>
  (JSON.parse(readFileSync(join(folder, 'meta/_journal.json'), 'utf8')) as { entries: JournalEntry[] }).entries

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex')

describe('landed migrations never change', () => {
  it('keeps every frozen migration byte-identical, in the same place of the journal', () => {
    const frozen = journal(frozenFolder)
    const current = journal(migrationsFolder)
    expect(frozen.map(e => e.tag)).toEqual(['0000_foundation', '0001_itil_kinds', '0002_events', '0003_event_states'])
    expect(current.slice(0, frozen.length)).toEqual(frozen)
    for (const e of frozen) {
      expect(readFileSync(join(migrationsFolder, `${e.tag}.sql`)), `${e.tag}.sql was edited after it landed`).toEqual(
        readFileSync(join(frozenFolder, `${e.tag}.sql`))
      )
    }
    // drizzle-kit's snapshots of the landed migrations stay as they were too
    for (const line of readFileSync(join(frozenFolder, 'snapshots.sha256'), 'utf8').trim().split('\n')) {
      const [hash, file] = line.split(/\s+/)
      expect(sha256(join(migrationsFolder, file!)), `${file} was edited after it landed`).toBe(hash)
    }
  })

  it('adds later migrations only after the frozen ones, each with a later timestamp', () => {
    const current = journal(migrationsFolder)
    // numbers may have gaps while branches land; order and timestamps may not go back
    current.forEach((e, i) => {
      if (i === 0) return
      expect(e.idx, e.tag).toBeGreaterThan(current[i - 1]!.idx)
      expect(e.when, `${e.tag} must be newer than ${current[i - 1]!.tag}`).toBeGreaterThan(current[i - 1]!.when)
    })
    const files = readdirSync(migrationsFolder).filter(f => f.endsWith('.sql'))
    expect(files.sort()).toEqual(current.map(e => `${e.tag}.sql`).sort())
  })
})

/** Every part of the public schema a migration can change, read from the catalogs, in a stable order. */
async function schemaOf(database: Database) {
  const q = async (text: string) => {
    const result = (await database.db.execute(sql.raw(text))) as { rows?: Record<string, unknown>[] }
    return result.rows ?? []
  }
  return {
    columns: await q(`SELECT table_name, column_name, ordinal_position, data_type, udt_name, is_nullable,
        column_default, character_maximum_length, numeric_precision, is_identity, is_generated, generation_expression
      FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, ordinal_position`),
    constraints:
      await q(`SELECT c.conrelid::regclass::text AS rel, c.conname, c.contype, pg_get_constraintdef(c.oid) AS def
      FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = 'public'
      ORDER BY rel, c.conname`),
    indexes: await q(`SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'
      ORDER BY tablename, indexname`),
    functions: await q(`SELECT p.proname, pg_get_function_identity_arguments(p.oid) AS args,
        pg_get_function_result(p.oid) AS result, md5(p.prosrc) AS body
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public' ORDER BY 1, 2`),
    triggers: await q(`SELECT t.tgrelid::regclass::text AS rel, t.tgname, pg_get_triggerdef(t.oid) AS def
      FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND NOT t.tgisinternal ORDER BY 1, 2`),
    enums: await q(`SELECT t.typname, e.enumsortorder, e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid
      JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = 'public' ORDER BY 1, 2`),
    views: await q(`SELECT viewname, definition FROM pg_views WHERE schemaname = 'public' ORDER BY 1`),
    sequences: await q(`SELECT sequence_name, data_type, start_value, increment FROM information_schema.sequences
      WHERE sequence_schema = 'public' ORDER BY 1`),
    applied: await q(`SELECT hash FROM drizzle.__drizzle_migrations ORDER BY created_at`)
  }
}

/** A database built by the frozen release: its migrations only, as that release would have run them. */
async function migrateFrozen(t: TestDatabase) {
  if (driver === 'pglite') {
    await migratePglite(t.database.db as unknown as PgliteDatabase, { migrationsFolder: frozenFolder })
    return
  }
  const client = new pg.Client({ connectionString: t.url })
  await client.connect()
  try {
    await migratePg(drizzlePg({ client }), { migrationsFolder: frozenFolder })
  } finally {
    await client.end()
  }
}

describe('a database from the first frozen release upgrades to the current migrations', () => {
  let old: TestDatabase
  let fresh: TestDatabase
  beforeAll(async () => {
    // one after the other: two embedded databases starting at once in one process crawl
    old = await createTestDatabase({ migrate: false })
    fresh = await createTestDatabase()
  }, 300_000)
  afterAll(async () => {
    await old?.drop()
    await fresh?.drop()
  })

  it('applies the later migrations on top and ends with the schema of a fresh database', async () => {
    await migrateFrozen(old)
    const before = await schemaOf(old.database)
    expect(before.applied).toHaveLength(4)
    expect(before.columns.length).toBeGreaterThan(50)

    await runMigrations(old.database, old.url)
    const upgraded = await schemaOf(old.database)
    const expected = await schemaOf(fresh.database)
    expect(upgraded.applied).toEqual(expected.applied)
    for (const part of Object.keys(expected) as (keyof typeof expected)[]) {
      expect(upgraded[part], `schema part ${part} differs after the upgrade`).toEqual(expected[part])
    }
    // and a second run finds nothing to do
    await runMigrations(old.database, old.url)
    expect((await schemaOf(old.database)).applied).toEqual(expected.applied)
  }, 120_000)
})
