import { eq, sql } from 'drizzle-orm'
import type { AnyPgColumn, PgTable } from 'drizzle-orm/pg-core'
import { canonical } from '../../lib/canonical.js'
import { type Ctx, type Queryable, type Tx, withTx } from '../../lib/context.js'
import { checkVersion } from '../../lib/version.js'
import { diff, recordAudit } from '../audit/audit.service.js'

type Values = Record<string, unknown>
/** The settings as a field map the audit diff reads. */
const entries = (v: object): Values => ({ ...v })

export interface AdminSettingsDef<K extends string | number, S extends object> {
  /** The table: one row per key (the key is its primary key), holding `version` and `updatedAt`. */
  table: PgTable
  key: AnyPgColumn
  version: AnyPgColumn
  /** Audit entity type (`event_settings`), the noun errors say, and the audit entity id of a key. */
  entityType: string
  noun: string
  auditId: (key: K) => string
  /** The settings a stored row holds, or the built-in defaults when no row is stored. */
  read: (row: Values | undefined, key: K) => S
  /** The row's columns for settings (the key column included; the helper sets version and updatedAt). */
  columns: (key: K, value: S) => Values
  /** Settings audited on every write, in this order. */
  fields: (value: S) => string[]
  authorizeRead: (ctx: Ctx) => void
  authorizeWrite: (ctx: Ctx) => void
  /** After every committed write (drop a per-process cache). */
  changed?: () => void
}

export interface Stored<S> {
  value: S
  /** 0 while no row is stored (the defaults apply). */
  version: number
  stored: boolean
}

/**
 * One definition of keyed admin settings (a singleton such as the event settings, or one row per key
 * such as the change approval policies): defaults in code until a row is stored, writes serialised
 * per key, the `version` read required (428 without, 412 when stale; 0 while the defaults apply), every write audited, and the admin-resource
 * rule that a write changing nothing changes nothing (no audit row, same version, same updatedAt).
 * The first write of a key stores it even when it equals the defaults: the admin has now set it.
 */
export function adminSettings<K extends string | number, S extends object>(def: AdminSettingsDef<K, S>) {
  async function load(q: Queryable, key: K): Promise<Stored<S>> {
    const [row] = (await q.select().from(def.table).where(eq(def.key, key))) as Values[]
    return { value: def.read(row, key), version: Number(row?.version ?? 0), stored: !!row }
  }

  return {
    load,

    async get(ctx: Ctx, key: K): Promise<Stored<S>> {
      def.authorizeRead(ctx)
      return load(ctx.db, key)
    },

    /** Stores what `plan` makes of the settings in force (inside the transaction, after the version check). */
    async set(
      ctx: Ctx,
      key: K,
      expectedVersion: number | undefined,
      plan: (tx: Tx, before: S) => Promise<S>
    ): Promise<Stored<S>> {
      def.authorizeWrite(ctx)
      // The caller's transaction when it has one (ctx.db), else one of its own
      const out = await withTx(ctx, async (tx, ctx) => {
        // The row may not exist yet, so a row lock cannot serialise the first writes: a key lock does
        await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`${def.entityType}:${key}`}))`)
        const before = await load(tx, key)
        // The version read is required, as on every admin resource: 428 without it, 412 when stale
        checkVersion(def.noun, before.version, expectedVersion)
        const next = await plan(tx, before.value)
        const changes = diff(canonical(entries(before.value)), canonical(entries(next)), def.fields(next))
        if (before.stored && changes.length === 0) return before
        const version = before.version + 1
        const columns = { ...def.columns(key, next), version, updatedAt: new Date() }
        const [row] = (await tx
          .insert(def.table)
          .values(columns)
          .onConflictDoUpdate({ target: def.key, set: columns })
          .returning()) as Values[]
        await recordAudit(tx, ctx, {
          entityType: def.entityType,
          entityId: def.auditId(key),
          action: before.stored ? 'updated' : 'created',
          changes
        })
        return { value: def.read(row, key), version, stored: true }
      })
      def.changed?.()
      return out
    }
  }
}
