import { asc, eq, inArray, SQL, sql } from 'drizzle-orm'
import type { Actor } from '../../auth/actor.js'
import { ticketNotes, tickets } from '../../db/schema/index.js'
import { type Ctx, inTransaction, type Queryable, type TxCtx } from '../../lib/context.js'
import { fieldError } from '../../lib/errors.js'
import { uuidv7 } from '../../lib/ids.js'
import { sqlArray } from '../../lib/sql-array.js'
import { type AuditEntry, type Change, recordAudit } from '../audit/audit.service.js'
import { type BulkColumn, type BulkWrite, insertNotes, writeMany } from './bulk.repository.js'
import type { TicketKind } from './kinds.js'
import { fullColumns, type NewTicket, type Row } from './tickets.repository.js'
import type { NoteInput, TransitionInput } from './tickets.schemas.js'

/** What happened to a ticket, as subscribers see it. */
export type TicketChangeType =
  | 'created'
  | 'updated'
  | 'assigned'
  | 'transitioned'
  | 'noted'
  | 'reclassified'
  | 'linked'
  | 'unlinked'

/** One change of one ticket, handed to every subscriber inside the transaction that made it. */
export interface TicketChange {
  type: TicketChangeType
  /** The ticket's kind after the change. */
  kind: TicketKind
  ticketId: string
  /** Null for a ticket just created. */
  before: Row | null
  after: Row
  /** The fields that changed (audit field names, custom fields included). */
  changed: readonly string[]
  changes: readonly Change[]
  actor: Actor
  /** The audit action that recorded it: created, updated, bulk.updated, approval.approved, reopened, … */
  cause: string
  /** For transitions: the target and what came with it (resolution, note, kind options). */
  transition?: TransitionInput
  /** The note written with the change, if any. */
  note?: { id: string; internal: boolean }
  /** For linked/unlinked: the link as read from this ticket (`causes` on the problem's end). */
  link?: { id: string; type: string; ticketId: string }
}

/**
 * Reacts to ticket changes in the writing transaction: what it writes commits with the change, and
 * what it throws rolls the change back. Kind modules, SLA clocks and the outbox are subscribers.
 */
export interface TicketSubscriber {
  name: string
  /** Only changes of tickets of these kinds (all when absent). */
  kinds?: readonly TicketKind[]
  /** Only these types of change (all when absent). */
  types?: readonly TicketChangeType[]
  onChange(ctx: TxCtx, change: TicketChange): Promise<void>
  /**
   * Whether it has anything to do when a ticket of this kind is created (absent: yes, when it listens
   * to `created`). A create nobody needs to be told of stays one statement, without a transaction.
   */
  wantsCreate?(q: Queryable, kind: TicketKind): Promise<boolean>
  /**
   * A part of the create statement itself (insertTicket): the body of a CTE that may read `t`, the
   * inserted ticket (`INSERT INTO notification_outbox … SELECT … FROM t`). It commits with the ticket
   * in that one statement, so a create needs no transaction for it; null adds nothing. Independent of
   * `types`: list `created` there only to be told afterwards too.
   */
  createPart?(ctx: Ctx, ticket: NewTicket, q: Queryable): SQL | CreatePart | null | Promise<SQL | CreatePart | null>
  /**
   * The changes of a set-wise write (bulk, a category rename) at once, in order, after the
   * subscribers without it have seen each: one statement for a thousand tickets instead of a
   * thousand. Without it, onChange sees them one by one.
   */
  onChanges?(ctx: TxCtx, changes: readonly TicketChange[]): Promise<void>
}

/**
 * A subscriber's share of the create statement when one CTE is not enough: named CTEs in order (a
 * later one may read an earlier one, all may read `t`), and what the create's answer gains once the
 * row is back (its organisation is read in the statement, from the requester).
 */
export interface CreatePart {
  ctes: readonly { name: string; sql: SQL }[]
  answer?: (row: Row) => Record<string, unknown>
}

type CreateCte = CreatePart['ctes'][number]

/** Values a ticket update may set: a field's value, or SQL computing it (a number from a sequence). */
export type TicketSet = { [K in keyof Row]?: Row[K] | SQL }

/** One end of a link: the ticket, the link type as read from it, the ticket at the far end. */
export interface LinkEnd {
  ticketId: string
  type: string
  otherId: string
}

export interface LinkSpec {
  type: 'linked' | 'unlinked'
  linkId: string
  /** Both ends, each audited and told. */
  ends: readonly LinkEnd[]
}

export interface UpdateSpec {
  before: Row
  set: TicketSet
  changes: Change[]
  type: TicketChangeType
  cause: string
  transition?: TransitionInput
  /** A note written with the change (one change record for both). */
  note?: NoteInput
}

/**
 * The one write path of tickets: rows, their audit rows, notes, and the change record handed to the
 * ordered subscribers in the same transaction. Services decide what to write (tickets.rules.ts); the
 * writer writes it and tells.
 */
export function createTicketWriter() {
  const subscribers: TicketSubscriber[] = []

  const matching = (kind: TicketKind, type: TicketChangeType) =>
    subscribers.filter(s => (!s.kinds || s.kinds.includes(kind)) && (!s.types || s.types.includes(type)))
  /** Whether anyone listens to this type of change of any kind (before the kinds are read). */
  const anyListens = (type: TicketChangeType) => subscribers.some(s => !s.types || s.types.includes(type))

  async function emit(ctx: Ctx, change: TicketChange) {
    const { db } = ctx
    let subs = matching(change.kind, change.type)
    // A create made without a transaction: the subscribers that may pass on creates said they would
    if (change.type === 'created' && !inTransaction(db)) subs = subs.filter(s => !s.wantsCreate)
    if (subs.length === 0) return
    // A write that has subscribers runs in a transaction (create opens one when someone listens)
    if (!inTransaction(db)) throw new Error(`ticket change ${change.type} emitted outside a transaction`)
    const txCtx: TxCtx = { ...ctx, db }
    for (const s of subs) await s.onChange(txCtx, change)
  }

  /** Many changes of one set-wise write: each to the one-by-one subscribers, then the set-wise ones. */
  async function emitMany(ctx: Ctx, changes: readonly TicketChange[]) {
    const batched = new Map<TicketSubscriber, TicketChange[]>()
    for (const change of changes) {
      const subs = matching(change.kind, change.type)
      if (subs.length === 0) continue
      if (!inTransaction(ctx.db)) throw new Error(`ticket change ${change.type} emitted outside a transaction`)
      const txCtx: TxCtx = { ...ctx, db: ctx.db }
      for (const s of subs) {
        if (s.onChanges) {
          const list = batched.get(s)
          if (list) list.push(change)
          else batched.set(s, [change])
        } else await s.onChange(txCtx, change)
      }
    }
    for (const [s, list] of batched) await s.onChanges!({ ...ctx, db: ctx.db as TxCtx['db'] }, list)
  }

  async function insertNote(ctx: Ctx, ticketId: string, input: NoteInput) {
    if (!ctx.actor.id) throw fieldError('authorId', 'notes need a person as author')
    const [note] = await ctx.db
      .insert(ticketNotes)
      .values({
        id: uuidv7(),
        ticketId,
        authorId: ctx.actor.id,
        internal: input.internal ?? false,
        body: input.body
      })
      .returning({
        id: ticketNotes.id,
        ticketId: ticketNotes.ticketId,
        authorId: ticketNotes.authorId,
        internal: ticketNotes.internal,
        body: ticketNotes.body,
        createdAt: ticketNotes.createdAt
      })
    await recordAudit(ctx.db, ctx, {
      entityType: 'ticket',
      entityId: ticketId,
      action: note!.internal ? 'note.internal' : 'note.public',
      changes: [{ field: 'notes', old: null, new: note!.id }],
      internal: note!.internal
    })
    return note!
  }

  /**
   * Many tickets set-wise (bulk): one UPDATE, one notes INSERT, one audit INSERT, then one change
   * record per ticket to the subscribers, in the order given.
   */
  async function many(ctx: TxCtx, spec: ManySpec) {
    await writeMany(ctx.db, spec.writes, spec.columns, spec.now)
    if (spec.noteBody !== undefined) await insertNotes(ctx.db, spec.notes, ctx.actor.id!, spec.noteBody)
    await recordAudit(ctx.db, ctx, spec.audit)
    await emitMany(ctx, spec.records)
  }

  return {
    /** Adds a subscriber; answers a function removing it again (tests). */
    subscribe(sub: TicketSubscriber): () => void {
      subscribers.push(sub)
      return () => {
        const i = subscribers.indexOf(sub)
        if (i >= 0) subscribers.splice(i, 1)
      }
    },

    /** Whether anyone listens to this type of change of this kind. */
    listens: (kind: TicketKind, type: TicketChangeType) => matching(kind, type).length > 0,

    /** Whether a subscriber must be told of a create of this kind (the create then needs a transaction). */
    async listensToCreate(q: Queryable, kind: TicketKind) {
      for (const s of matching(kind, 'created')) if (!s.wantsCreate || (await s.wantsCreate(q, kind))) return true
      return false
    },

    emit,

    /**
     * What subscribers add to the create statement of a ticket of this kind (see `createPart`): the
     * CTEs, and what each adds to the answer once the row is back.
     */
    async createParts(ctx: Ctx, q: Queryable, ticket: NewTicket): Promise<CreatePart & { ctes: CreateCte[] }> {
      const ctes: CreateCte[] = []
      const answers: NonNullable<CreatePart['answer']>[] = []
      for (const s of subscribers) {
        if ((s.kinds && !s.kinds.includes(ticket.kind)) || !s.createPart) continue
        const part = await s.createPart(ctx, ticket, q)
        if (!part) continue
        if (part instanceof SQL) {
          ctes.push({ name: `part_${ctes.length}`, sql: part })
          continue
        }
        ctes.push(...part.ctes)
        if (part.answer) answers.push(part.answer)
      }
      return { ctes, answer: row => Object.assign({}, ...answers.map(a => a(row))) }
    },

    /** A ticket row was inserted with its audit row (one statement, see insertTicket): tell. */
    async created(ctx: Ctx, row: Row, changes: Change[]) {
      await emit(ctx, {
        type: 'created',
        kind: row.kind as TicketKind,
        ticketId: row.id,
        before: null,
        after: row,
        changed: changes.map(c => c.field),
        changes,
        actor: ctx.actor,
        cause: 'created'
      })
    },

    /** Updates one ticket (version + 1), records the audit row and the note, then tells. */
    async update(ctx: Ctx, spec: UpdateSpec): Promise<Row> {
      const { before, set, changes } = spec
      const [row] = await ctx.db
        .update(tickets)
        .set({ ...set, version: sql`${tickets.version} + 1`, updatedAt: new Date() })
        .where(eq(tickets.id, before.id))
        .returning(fullColumns)
      await recordAudit(ctx.db, ctx, { entityType: 'ticket', entityId: before.id, action: spec.cause, changes })
      const note = spec.note ? await insertNote(ctx, before.id, spec.note) : undefined
      await emit(ctx, {
        type: spec.type,
        kind: row!.kind as TicketKind,
        ticketId: before.id,
        before,
        after: row!,
        changed: changes.map(c => c.field),
        changes,
        actor: ctx.actor,
        cause: spec.cause,
        ...(spec.transition ? { transition: spec.transition } : {}),
        ...(note ? { note: { id: note.id, internal: note.internal } } : {})
      })
      return row!
    },

    many,

    /**
     * A link added or removed (the link row is the caller's): an audit row on each end and, when anyone
     * listens, a change record for each end, in the order given. The ticket rows do not change.
     */
    async link(ctx: TxCtx, spec: LinkSpec) {
      const added = spec.type === 'linked'
      const action = added ? 'link.added' : 'link.removed'
      const changesOf = (end: LinkEnd): Change[] => [
        added ? { field: end.type, old: null, new: end.otherId } : { field: end.type, old: end.otherId, new: null }
      ]
      await recordAudit(
        ctx.db,
        ctx,
        spec.ends.map(end => ({ entityType: 'ticket', entityId: end.ticketId, action, changes: changesOf(end) }))
      )
      if (!anyListens(spec.type)) return
      const rows = await ctx.db
        .select(fullColumns)
        .from(tickets)
        .where(inArray(tickets.id, [...new Set(spec.ends.map(e => e.ticketId))]))
      const byId = new Map(rows.map(r => [r.id, r]))
      for (const end of spec.ends) {
        const row = byId.get(end.ticketId)
        if (!row) continue
        const changes = changesOf(end)
        await emit(ctx, {
          type: spec.type,
          kind: row.kind as TicketKind,
          ticketId: row.id,
          before: row,
          after: row,
          changed: [end.type],
          changes,
          actor: ctx.actor,
          cause: action,
          link: { id: spec.linkId, type: end.type, ticketId: end.otherId }
        })
      }
    },

    /**
     * Category nodes got new paths (a rename or move): every ticket holding a copy of an old one gets
     * the new path set-wise (one locking read, one UPDATE, one audit INSERT) and a change record each.
     * The copy is derived data, so versions stay (no edit in progress turns stale); updatedAt moves.
     */
    async categoryPaths(ctx: TxCtx, paths: ReadonlyMap<string, string>, cause = 'category.renamed') {
      if (paths.size === 0) return 0
      const rows = await ctx.db
        .select(fullColumns)
        .from(tickets)
        .where(sql`${tickets.categoryId} = any(${sqlArray([...paths.keys()], 'uuid')})`)
        .orderBy(asc(tickets.id))
        .for('update')
      const now = new Date()
      const audit: AuditEntry[] = []
      const writes: BulkWrite[] = []
      const records: TicketChange[] = []
      for (const before of rows) {
        const path = paths.get(before.categoryId!)!
        if (before.category === path) continue
        const after: Row = { ...before, category: path, updatedAt: now }
        const changes: Change[] = [{ field: 'category', old: before.category, new: path }]
        writes.push({ after, bump: false })
        audit.push({ entityType: 'ticket', entityId: before.id, action: cause, changes })
        records.push({
          type: 'updated',
          kind: before.kind as TicketKind,
          ticketId: before.id,
          before,
          after,
          changed: ['category'],
          changes,
          actor: ctx.actor,
          cause
        })
      }
      await many(ctx, { writes, columns: ['category'], now, audit, notes: [], records })
      return writes.length
    },

    /** A note on a ticket: the note, the ticket's updatedAt, the audit row, then tell. */
    async note(ctx: Ctx, row: Row, input: NoteInput) {
      const note = await insertNote(ctx, row.id, input)
      const [after] = await ctx.db
        .update(tickets)
        .set({ updatedAt: new Date() })
        .where(eq(tickets.id, row.id))
        .returning(fullColumns)
      await emit(ctx, {
        type: 'noted',
        kind: row.kind as TicketKind,
        ticketId: row.id,
        before: row,
        after: after ?? row,
        changed: [],
        changes: [],
        actor: ctx.actor,
        cause: note.internal ? 'note.internal' : 'note.public',
        note: { id: note.id, internal: note.internal }
      })
      return note
    }
  }
}

export interface ManySpec {
  writes: BulkWrite[]
  columns: BulkColumn[]
  now: Date
  audit: AuditEntry[]
  notes: { id: string; ticketId: string }[]
  noteBody?: string
  /** One change record per written ticket, in order. */
  records: TicketChange[]
}

export type TicketWriter = ReturnType<typeof createTicketWriter>
