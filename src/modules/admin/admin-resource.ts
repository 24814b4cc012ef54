import { and, eq, inArray, type SQL, sql } from 'drizzle-orm'
import type { AnyPgColumn, PgTable } from 'drizzle-orm/pg-core'
import type { Db } from '../../db/client.js'
import { canonical } from '../../lib/canonical.js'
import type { Ctx, Queryable, Tx } from '../../lib/context.js'
import type { Page } from '../../lib/cursor.js'
import { conflictField, notFound } from '../../lib/errors.js'
import { uuidv7 } from '../../lib/ids.js'
import { checkVersion } from '../../lib/version.js'
import { type Change, diff, recordAudit } from '../audit/audit.service.js'

/** What every admin row has: a UUID and an optimistic-concurrency version. */
export interface AdminRow {
  id: string
  version: number
}

/** A keyset order a list pages by (lib/keyset.ts makes them). */
export interface ListOrder<R> {
  after(raw: string | undefined): SQL | undefined
  orderBy: SQL[]
  cursorOf(row: R): string
  page<T>(rows: R[], limit: number, shape?: (row: R) => T): Page<T>
}

export interface AdminResourceDef<R extends AdminRow, V> {
  /** The table (its properties `id`, `version` and `updatedAt` are the helper's) and two of its columns. */
  table: PgTable
  id: AnyPgColumn
  version: AnyPgColumn
  /** Audit entity type (`event_routing_rule`) and the noun errors say (`routing rule`). */
  entityType: string
  noun: string
  /** Columns audited on create, update and delete, in this order. */
  fields: readonly (keyof R & string)[]
  /** Unique index or constraint name → the field a 409 names and what it says (of the row attempted). */
  unique?: Record<string, { field: string; message: string | ((row: Record<string, unknown>) => string) }>
  /** The row as both doors answer it. */
  view: (row: R) => V
  /** Authorisation of reads and writes (services' rules; the helper only calls them). */
  authorizeRead: (ctx: Ctx) => void
  authorizeWrite: (ctx: Ctx) => void
  /** Rows this actor may not see look absent (customers and inactive rows). */
  hidden?: (ctx: Ctx, row: R) => boolean
  /** After every committed write (drop a per-process cache). */
  changed?: () => void
  /**
   * Taken inside an update's transaction before the row lock (a lock per tree, say), so writers that
   * take it first and then rows below it cannot deadlock with an update.
   */
  serialise?: (tx: Tx, row: R) => Promise<void>
}

/** The constraint a unique violation names, through drizzle's wrapping (node-postgres and PGlite alike). */
function violatedConstraint(err: unknown): string | null {
  for (let e = err as { code?: unknown; constraint?: unknown; cause?: unknown } | undefined, i = 0; e && i < 4; i++) {
    if (e.code === '23505') return typeof e.constraint === 'string' ? e.constraint : ''
    e = e.cause as typeof e
  }
  return null
}

/**
 * One definition of an admin resource (routing rules, problem rules, templates, offerings, custom-field
 * definitions, freezes, categories …): load or 404, create, update and delete in one transaction with
 * their audit rows, a unique violation as 409 naming the field, `version` checked (428 when none is
 * sent, 412 when stale), and one `updatedAt` rule: a write that changes nothing changes nothing — no
 * audit row, same `version`, same `updatedAt`. Services keep only their own rules (what a value may
 * be, what else must exist) in the `prepare` and `plan` callbacks.
 */
export function adminResource<R extends AdminRow, V>(db: Db, def: AdminResourceDef<R, V>) {
  const rows = (q: Queryable) => q.select().from(def.table)
  /** Rows of `def.table` are R: the definition names the table R is inferred from. */
  const typed = (found: unknown) => found as R[]

  async function load(q: Queryable, id: string, lock = false): Promise<R> {
    const query = rows(q).where(eq(def.id, id))
    const [row] = typed(lock ? await query.for('update') : await query)
    if (!row) throw notFound(def.noun)
    return row
  }

  function uniqueConflict(err: unknown, attempted: Record<string, unknown>): unknown {
    const constraint = violatedConstraint(err)
    if (constraint === null || !def.unique) return err
    const known = def.unique[constraint] ?? (Object.keys(def.unique).length === 1 ? Object.values(def.unique)[0] : null)
    if (!known) return err
    return conflictField(known.field, typeof known.message === 'string' ? known.message : known.message(attempted))
  }

  /**
   * Runs a write in a transaction: unique violations become 409 (worded after the row `work` tried to
   * write, which it records in `attempted`), caches drop when it committed.
   */
  async function write<T>(work: (tx: Tx, attempted: Record<string, unknown>) => Promise<T>): Promise<T> {
    const attempted: Record<string, unknown> = {}
    try {
      const out = await db.transaction(tx => work(tx, attempted))
      def.changed?.()
      return out
    } catch (err) {
      throw uniqueConflict(err, attempted)
    }
  }

  const audit = (tx: Tx, ctx: Ctx, id: string, action: string, changes: Change[]) =>
    recordAudit(tx, ctx, { entityType: def.entityType, entityId: id, action, changes })

  const snapshot = (row: R) => canonical({ ...row }) as Record<string, unknown>

  return {
    load,

    /** One row the actor may read, or 404. */
    async get(ctx: Ctx, id: string): Promise<V> {
      def.authorizeRead(ctx)
      const row = await load(db, id)
      if (def.hidden?.(ctx, row)) throw notFound(def.noun)
      return def.view(row)
    },

    /** Rows by id for GraphQL loaders, in the order asked: null where absent or hidden. */
    async byIds(ctx: Ctx, ids: readonly string[]): Promise<(V | null)[]> {
      def.authorizeRead(ctx)
      const wanted = [...new Set(ids)]
      const found = wanted.length ? typed(await rows(db).where(inArray(def.id, wanted))) : []
      const map = new Map(found.filter(r => !def.hidden?.(ctx, r)).map(r => [r.id, def.view(r)]))
      return ids.map(id => map.get(id) ?? null)
    },

    /** A keyset page in `order`, filtered by `where` (the service's filters). */
    async list(
      ctx: Ctx,
      input: { limit?: number; cursor?: string },
      order: ListOrder<R>,
      where: (SQL | undefined)[] = []
    ) {
      def.authorizeRead(ctx)
      const limit = input.limit ?? 50
      const found = typed(
        await rows(db)
          .where(and(order.after(input.cursor), ...where))
          .orderBy(...order.orderBy)
          .limit(limit + 1)
      )
      return order.page(found, limit, def.view)
    },

    /**
     * Inserts what `prepare` builds (inside the transaction, so its checks see what the insert will) and
     * audits every field as created.
     */
    async create(ctx: Ctx, prepare: (tx: Tx) => Promise<Record<string, unknown>>): Promise<V> {
      def.authorizeWrite(ctx)
      return write(async (tx, attempted) => {
        const values = await prepare(tx)
        Object.assign(attempted, values)
        const [row] = typed(
          await tx
            .insert(def.table)
            .values({ id: uuidv7(), ...values })
            .returning()
        )
        const after = snapshot(row!)
        await audit(
          tx,
          ctx,
          row!.id,
          'created',
          def.fields.map(f => ({ field: f, old: null, new: after[f] ?? null }))
        )
        return def.view(row!)
      })
    },

    /**
     * Applies what `plan` answers for the locked row after the version check. Nothing different from
     * the row: the row as it was (no audit, version and updatedAt stay). Otherwise one UPDATE that
     * bumps the version and stamps updatedAt, and one audit row of the differences.
     */
    async update(
      ctx: Ctx,
      id: string,
      expectedVersion: number | undefined,
      plan: (tx: Tx, before: R) => Promise<Record<string, unknown>>,
      /** What else the change brings along in the same transaction (rows that derive from this one). */
      then?: (tx: Tx, before: R, after: R) => Promise<void>
    ): Promise<V> {
      def.authorizeWrite(ctx)
      return write(async (tx, attempted) => {
        if (def.serialise) await def.serialise(tx, await load(tx, id))
        const before = await load(tx, id, true)
        if (def.hidden?.(ctx, before)) throw notFound(def.noun)
        checkVersion(def.noun, before.version, expectedVersion)
        const set = await plan(tx, before)
        Object.assign(attempted, before, set)
        const changes = diff(snapshot(before), canonical(set), [...def.fields])
        if (changes.length === 0) return def.view(before)
        const [row] = typed(
          await tx
            .update(def.table)
            .set({ ...set, version: sql`${def.version} + 1`, updatedAt: new Date() })
            .where(eq(def.id, id))
            .returning()
        )
        await audit(tx, ctx, id, 'updated', changes)
        await then?.(tx, before, row!)
        return def.view(row!)
      })
    },

    /** Deletes the row (a version, when sent, must be the current one) and audits every field as gone. */
    async remove(
      ctx: Ctx,
      id: string,
      expectedVersion?: number,
      check?: (tx: Tx, before: R) => Promise<void>
    ): Promise<void> {
      def.authorizeWrite(ctx)
      await write(async tx => {
        const before = await load(tx, id, true)
        if (def.hidden?.(ctx, before)) throw notFound(def.noun)
        if (expectedVersion !== undefined) checkVersion(def.noun, before.version, expectedVersion)
        await check?.(tx, before)
        await tx.delete(def.table).where(eq(def.id, id))
        const old = snapshot(before)
        await audit(
          tx,
          ctx,
          id,
          'deleted',
          def.fields.map(f => ({ field: f, old: old[f] ?? null, new: null }))
        )
      })
    }
  }
}

export type AdminResource<R extends AdminRow, V> = ReturnType<typeof adminResource<R, V>>
