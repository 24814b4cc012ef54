import { eq, type SQL, sql } from 'drizzle-orm'
import type { Actor } from '../../auth/actor.js'
import { ticketNotes, tickets } from '../../db/schema/index.js'
import { type Ctx, inTransaction, type TxCtx } from '../../lib/context.js'
import { fieldError } from '../../lib/errors.js'
import { uuidv7 } from '../../lib/ids.js'
import { type Change, recordAudit } from '../audit/audit.service.js'
import {
  auditMany,
  type BulkAudit,
  type BulkColumn,
  type BulkWrite,
  insertNotes,
  writeMany
} from './bulk.repository.js'
import type { TicketKind } from './kinds.js'
import { fullColumns, type NewTicket, type Row } from './tickets.repository.js'
import type { NoteInput, TransitionInput } from './tickets.schemas.js'

/** What happened to a ticket, as subscribers see it. */
export type TicketChangeType = 'created' | 'updated' | 'assigned' | 'transitioned' | 'noted' | 'reclassified'

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
   * A part of the create statement itself (insertTicket): the body of a CTE that may read `t`, the
   * inserted ticket (`INSERT INTO notification_outbox … SELECT … FROM t`). It commits with the ticket
   * in that one statement, so a create needs no transaction for it; null adds nothing. Independent of
   * `types`: list `created` there only to be told afterwards too.
   */
  createPart?(ctx: Ctx, ticket: NewTicket): SQL | null
}

/** Values a ticket update may set: a field's value, or SQL computing it (a number from a sequence). */
export type TicketSet = { [K in keyof Row]?: Row[K] | SQL }

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

  async function emit(ctx: Ctx, change: TicketChange) {
    const subs = matching(change.kind, change.type)
    if (subs.length === 0) return
    const { db } = ctx
    // A write that has subscribers runs in a transaction (create opens one when someone listens)
    if (!inTransaction(db)) throw new Error(`ticket change ${change.type} emitted outside a transaction`)
    const txCtx: TxCtx = { ...ctx, db }
    for (const s of subs) await s.onChange(txCtx, change)
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

  return {
    /** Adds a subscriber; answers a function removing it again (tests). */
    subscribe(sub: TicketSubscriber): () => void {
      subscribers.push(sub)
      return () => {
        const i = subscribers.indexOf(sub)
        if (i >= 0) subscribers.splice(i, 1)
      }
    },

    /** Whether anyone listens to this type of change of this kind (a create then needs a transaction). */
    listens: (kind: TicketKind, type: TicketChangeType) => matching(kind, type).length > 0,

    emit,

    /** What subscribers add to the create statement of a ticket of this kind (see `createPart`). */
    createParts(ctx: Ctx, ticket: NewTicket): SQL[] {
      const parts: SQL[] = []
      for (const s of subscribers) {
        if (s.kinds && !s.kinds.includes(ticket.kind)) continue
        const part = s.createPart?.(ctx, ticket)
        if (part) parts.push(part)
      }
      return parts
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

    /**
     * Many tickets set-wise (bulk): one UPDATE, one notes INSERT, one audit INSERT, then one change
     * record per ticket to the subscribers, in the order given.
     */
    async many(ctx: TxCtx, spec: ManySpec) {
      await writeMany(ctx.db, spec.writes, spec.columns, spec.now)
      if (spec.noteBody !== undefined) await insertNotes(ctx.db, spec.notes, ctx.actor.id!, spec.noteBody)
      await auditMany(ctx.db, ctx, spec.audit)
      for (const record of spec.records) await emit(ctx, record)
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
  audit: BulkAudit[]
  notes: { id: string; ticketId: string }[]
  noteBody?: string
  /** One change record per written ticket, in order. */
  records: TicketChange[]
}

export type TicketWriter = ReturnType<typeof createTicketWriter>
