import { and, asc, eq, getTableColumns, gt, inArray, type SQL, sql } from 'drizzle-orm'
import type { AnyPgColumn } from 'drizzle-orm/pg-core'
import { authorize, canSeeInternal } from '../../auth/policy.js'
import type { Db } from '../../db/client.js'
import { auditLog, ticketNotes, users } from '../../db/schema/index.js'
import { type Ctx, type Queryable, withTx } from '../../lib/context.js'
import { decodeCursor, pageOf } from '../../lib/cursor.js'
import { fieldError, forbidden } from '../../lib/errors.js'
import { type Change, readAudit } from '../audit/audit.service.js'
import type { Workflow } from '../workflows/workflows.service.js'
import type { TicketKind } from './kinds.js'
import { historyFor } from './ticket-refs.js'
import type { Row } from './tickets.repository.js'
import type { NoteInput, PageInput } from './tickets.schemas.js'

const { search: _noteSearch, ...noteColumns } = getTableColumns(ticketNotes)

export interface NoteRow {
  id: string
  ticketId: string
  authorId: string
  internal: boolean
  body: string
  createdAt: Date
}

type Visible = (ctx: Ctx, kind: TicketKind | null, id: string) => Promise<Row>

const historyItem = (r: typeof auditLog.$inferSelect) => ({
  id: r.id,
  at: r.at,
  actorId: r.actorId,
  actor: r.actorLabel,
  action: r.action,
  changes: r.changes as Change[]
})

/** Notes (public replies, internal work notes) and history of tickets of every kind. */
export function createTicketNotes(
  db: Db,
  visible: Visible,
  workflowOf: (kind: TicketKind, q: Queryable) => Promise<Workflow>,
  assertOpen: (wf: Workflow, row: Row) => void,
  writeNote: (ctx: Ctx, row: Row, input: NoteInput) => Promise<NoteRow>
) {
  /**
   * The first `limit + 1` rows of each group, in `order`, for several groups in one query (a window
   * function): what lets a list of tickets load the first page of a nested list in one round trip.
   */
  async function firstRowsPer<T extends typeof ticketNotes | typeof auditLog>(
    table: T,
    group: AnyPgColumn,
    order: AnyPgColumn,
    ids: readonly string[],
    limit: number,
    where: SQL | undefined
  ): Promise<(T['$inferSelect'] & { rn: number })[]> {
    if (ids.length === 0) return []
    const columns = table === ticketNotes ? noteColumns : getTableColumns(auditLog)
    const ranked = db
      .select({
        ...(columns as typeof noteColumns),
        rn: sql<number>`row_number() over (partition by ${group} order by ${order})`.as('rn')
      })
      .from(table as typeof ticketNotes)
      .where(and(inArray(group, [...ids]), where))
      .as('ranked')
    const rows = await db
      .select()
      .from(ranked)
      .where(sql`rn <= ${limit + 1}`)
      .orderBy(sql`rn`)
    return rows as unknown as (T['$inferSelect'] & { rn: number })[]
  }

  return {
    async addNote(ctx: Ctx, kind: TicketKind | null, id: string, input: NoteInput) {
      return withTx(ctx, async (tx, ctx) => {
        const row = await visible(ctx, kind, id)
        authorize(ctx.actor, input.internal ? 'ticket.noteInternal' : 'ticket.note')
        if (input.internal && !canSeeInternal(ctx.actor)) throw forbidden('internal notes are for staff only')
        // People write on open tickets; the system (monitoring, detection) records what it saw on any
        if (ctx.actor.kind !== 'system') assertOpen(await workflowOf(row.kind as TicketKind, tx), row)
        if (!ctx.actor.id) throw fieldError('authorId', 'notes need a person as author')
        const note = await writeNote(ctx, row, input)
        return { ...note, author: { id: ctx.actor.id, displayName: ctx.actor.displayName } }
      })
    },

    async notes(ctx: Ctx, kind: TicketKind | null, id: string, page: PageInput) {
      await visible(ctx, kind, id)
      const limit = page.limit ?? 50
      const where = [eq(ticketNotes.ticketId, id)]
      if (!canSeeInternal(ctx.actor)) where.push(eq(ticketNotes.internal, false))
      if (page.cursor) where.push(gt(ticketNotes.id, decodeCursor(page.cursor, 'notes').id))
      // Who wrote each note, named as GraphQL's author { displayName }: one join, not a read per note
      const rows = await db
        .select({ ...noteColumns, authorName: users.displayName })
        .from(ticketNotes)
        .innerJoin(users, eq(users.id, ticketNotes.authorId))
        .where(and(...where))
        .orderBy(asc(ticketNotes.id))
        .limit(limit + 1)
      return pageOf(
        rows,
        limit,
        last => ({ sort: 'notes', value: null, id: last.id }),
        ({ authorName, ...note }) => ({ ...note, author: { id: note.authorId, displayName: authorName } })
      )
    },

    /**
     * First pages of notes for many tickets in one query (GraphQL lists). The tickets came from a read
     * that already checked visibility; internal notes still depend on who asks.
     */
    async firstNotes(ctx: Ctx, ids: readonly string[], limit: number) {
      authorize(ctx.actor, 'ticket.read')
      const hide = canSeeInternal(ctx.actor) ? undefined : eq(ticketNotes.internal, false)
      const rows = await firstRowsPer(ticketNotes, ticketNotes.ticketId, ticketNotes.id, ids, limit, hide)
      return ids.map(id =>
        pageOf(
          rows.filter(r => r.ticketId === id),
          limit,
          last => ({ sort: 'notes', value: null, id: last.id }),
          ({ rn: _rn, search: _search, ...note }) => note
        )
      )
    },

    /** First pages of history for many tickets in one query (GraphQL lists). */
    async firstHistory(ctx: Ctx, ids: readonly string[], limit: number) {
      authorize(ctx.actor, 'ticket.read')
      const where = and(
        eq(auditLog.entityType, 'ticket'),
        canSeeInternal(ctx.actor) ? undefined : eq(auditLog.internal, false)
      )
      const rows = await firstRowsPer(auditLog, auditLog.entityId, auditLog.id, ids, limit, where)
      const pages = ids.map(id =>
        pageOf(
          rows.filter(r => r.entityId === id),
          limit,
          last => ({ sort: 'history', value: last.id, id }),
          historyItem
        )
      )
      const shown = await historyFor(
        db,
        ctx.actor,
        pages.flatMap(p => p.items)
      )
      const byId = new Map(shown.map(i => [i.id, i]))
      return pages.map(p => ({ ...p, items: p.items.flatMap(i => byId.get(i.id) ?? []) }))
    },

    async history(ctx: Ctx, kind: TicketKind | null, id: string, page: PageInput) {
      await visible(ctx, kind, id)
      const limit = page.limit ?? 50
      const after = page.cursor ? Number(decodeCursor(page.cursor, 'history').value) : undefined
      const rows = await readAudit(db, {
        entityType: 'ticket',
        entityId: id,
        includeInternal: canSeeInternal(ctx.actor),
        limit,
        ...(after !== undefined && Number.isInteger(after) ? { afterId: after } : {})
      })
      const found = pageOf(rows, limit, last => ({ sort: 'history', value: last.id, id }), historyItem)
      return { ...found, items: await historyFor(db, ctx.actor, found.items) }
    }
  }
}
