import { and, eq, gt, inArray, or, sql } from 'drizzle-orm'
import { authorize, ticketScope } from '../../auth/policy.js'
import { ticketLinks, tickets } from '../../db/schema/index.js'
import { type Ctx, type Deps, type Queryable, type TxCtx, withTx } from '../../lib/context.js'
import { decodeCursor, encodeCursor } from '../../lib/cursor.js'
import { conflict, fieldError, notFound } from '../../lib/errors.js'
import { uuidv7 } from '../../lib/ids.js'
import { formatNumber, type TicketKind } from '../tickets/kinds.js'
import { type TicketService, visibleTo } from '../tickets/tickets.service.js'

/** Stored types, and how each reads from the far end. */
export const STORED = ['caused_by', 'related_to', 'duplicate_of', 'child_of'] as const
const REVERSE: Record<string, string> = {
  caused_by: 'causes',
  related_to: 'related_to',
  duplicate_of: 'duplicated_by',
  child_of: 'parent_of'
}
/** A link as a client names it, from the ticket they are on: the stored type and whether to swap ends. */
const AS_STORED: Record<string, { type: string; swap: boolean }> = {
  caused_by: { type: 'caused_by', swap: false },
  causes: { type: 'caused_by', swap: true },
  related_to: { type: 'related_to', swap: false },
  duplicate_of: { type: 'duplicate_of', swap: false },
  duplicated_by: { type: 'duplicate_of', swap: true },
  child_of: { type: 'child_of', swap: false },
  parent_of: { type: 'child_of', swap: true }
}
export const LINK_TYPES = Object.keys(AS_STORED)
/** Types that form chains where a cycle makes no sense. */
const ACYCLIC = new Set(['caused_by', 'duplicate_of', 'child_of'])
/** Types where a ticket has at most one far end (one original, one parent). */
const SINGLE = new Set(['duplicate_of', 'child_of'])

export interface LinkView {
  id: string
  type: string
  ticketId: string
  number: string
  kind: TicketKind
  title: string
  status: string
  createdAt: Date
}

/** Links between tickets of any kind; each is readable from both ends, cycles refused where senseless. */
export function createLinkService(deps: Deps & { tickets: TicketService }) {
  const { db } = deps

  /** Adds a link inside the caller's transaction (problems and changes reuse it). */
  async function addLink(ctx: TxCtx, fromId: string, toId: string, type: string) {
    const tx = ctx.db
    if (fromId === toId) throw fieldError('ticketId', 'a ticket cannot link to itself')
    // related_to is symmetric: one row, the smaller id first, whichever end asked
    const [a, b] = type === 'related_to' && toId < fromId ? [toId, fromId] : [fromId, toId]
    const [existing] = await tx
      .select({ id: ticketLinks.id })
      .from(ticketLinks)
      .where(and(eq(ticketLinks.fromId, a), eq(ticketLinks.toId, b), eq(ticketLinks.type, type)))
    if (existing) throw conflict('these tickets are already linked that way', { linkId: existing.id })
    // Cycle and single-far-end checks read links other transactions may be adding: one writer per type
    if (ACYCLIC.has(type)) await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`ticket_links:${type}`}))`)
    if (type === 'caused_by') {
      // A ticket (an incident) is caused by at most one problem
      const [problem] = await tx
        .select({ id: ticketLinks.toId, number: tickets.number })
        .from(ticketLinks)
        .innerJoin(tickets, eq(tickets.id, ticketLinks.toId))
        .where(
          and(
            eq(ticketLinks.fromId, a),
            eq(ticketLinks.type, 'caused_by'),
            eq(tickets.kind, 'problem'),
            sql`exists (select 1 from ${tickets} t where t.id = ${b} and t.kind = 'problem')`
          )
        )
        .limit(1)
      if (problem) {
        const number = formatNumber('problem', problem.number)
        throw conflict(`the ticket is already caused by problem ${number}`, {
          ticketId: problem.id,
          problemNumber: number
        })
      }
    }
    if (SINGLE.has(type)) {
      const [other] = await tx
        .select({ toId: ticketLinks.toId })
        .from(ticketLinks)
        .where(and(eq(ticketLinks.fromId, a), eq(ticketLinks.type, type)))
      if (other)
        throw conflict(`the ticket is already ${type.replace('_', ' ')} another ticket`, { ticketId: other.toId })
    }
    if (ACYCLIC.has(type)) {
      // Would b reach a by following links of this type? Then a → b closes a cycle.
      const result = await tx.execute(sql`
        with recursive reach(id, depth) as (
          select ${b}::uuid, 0
          union
          select l.to_id, r.depth + 1 from ticket_links l join reach r on l.from_id = r.id
          where l.type = ${type} and r.depth < 1000
        )
        select 1 as hit from reach where id = ${a}::uuid limit 1`)
      if ((result as unknown as { rows: unknown[] }).rows.length) {
        throw conflict(`linking would make a ${type.replace('_', ' ')} cycle`)
      }
    }
    const id = uuidv7()
    await tx.insert(ticketLinks).values({ id, fromId: a, toId: b, type, createdBy: ctx.actor.id })
    await deps.tickets.writer.link(ctx, {
      type: 'linked',
      linkId: id,
      ends: [
        { ticketId: a, type, otherId: b },
        { ticketId: b, type: REVERSE[type]!, otherId: a }
      ]
    })
    return id
  }

  /** The link row is gone: both ends audited and told, through the ticket writer. */
  async function removed(ctx: TxCtx, row: { id: string; fromId: string; toId: string; type: string }) {
    await deps.tickets.writer.link(ctx, {
      type: 'unlinked',
      linkId: row.id,
      ends: [
        { ticketId: row.fromId, type: row.type, otherId: row.toId },
        { ticketId: row.toId, type: REVERSE[row.type]!, otherId: row.fromId }
      ]
    })
  }

  async function linksOf(
    q: Queryable,
    ctx: Ctx,
    ids: readonly string[],
    page?: { afterId?: string; limit: number }
  ): Promise<Map<string, LinkView[]> & { more?: boolean; lastId?: string }> {
    const out: Map<string, LinkView[]> & { more?: boolean; lastId?: string } = new Map(ids.map(id => [id, []]))
    if (ids.length === 0) return out
    const query = q
      .select({
        id: ticketLinks.id,
        fromId: ticketLinks.fromId,
        toId: ticketLinks.toId,
        type: ticketLinks.type,
        createdAt: ticketLinks.createdAt,
        otherId: tickets.id,
        kind: tickets.kind,
        number: tickets.number,
        title: tickets.title,
        status: tickets.status,
        organisationId: tickets.organisationId,
        requesterId: tickets.requesterId
      })
      .from(ticketLinks)
      .innerJoin(
        tickets,
        or(
          and(inArray(ticketLinks.fromId, [...ids]), eq(tickets.id, ticketLinks.toId)),
          and(inArray(ticketLinks.toId, [...ids]), eq(tickets.id, ticketLinks.fromId))
        )
      )
      .where(
        and(
          or(inArray(ticketLinks.fromId, [...ids]), inArray(ticketLinks.toId, [...ids])),
          page?.afterId ? gt(ticketLinks.id, page.afterId) : undefined
        )
      )
      // Link ids are UUIDv7: their order is creation order
      .orderBy(ticketLinks.id)
    let rows = await (page ? query.limit(page.limit + 1) : query)
    if (page) {
      out.more = rows.length > page.limit
      rows = rows.slice(0, page.limit)
      out.lastId = rows.at(-1)?.id
    }
    const scope = ticketScope(ctx.actor)
    for (const r of rows) {
      // The far end must be visible too: a customer never learns of another organisation's ticket
      if (!visibleTo(scope, r)) continue
      const forward = r.otherId === r.toId
      const here = forward ? r.fromId : r.toId
      out.get(here)?.push({
        id: r.id,
        type: forward ? r.type : REVERSE[r.type]!,
        ticketId: r.otherId,
        number: formatNumber(r.kind as TicketKind, r.number),
        kind: r.kind as TicketKind,
        title: r.title,
        status: r.status,
        createdAt: r.createdAt
      })
    }
    return out
  }

  return {
    addLink,
    linksOf,

    /** One ticket's links, keyset-paged (a problem may have thousands of incidents). */
    async list(ctx: Ctx, kind: TicketKind | null, id: string, page: { limit?: number; cursor?: string } = {}) {
      await deps.tickets.visible(ctx, kind, id)
      const limit = page.limit ?? 50
      const afterId = page.cursor ? decodeCursor(page.cursor, 'links').id : undefined
      const found = await linksOf(db, ctx, [id], { limit, ...(afterId ? { afterId } : {}) })
      const nextCursor =
        found.more && found.lastId ? encodeCursor({ sort: 'links', value: null, id: found.lastId }) : null
      return { items: found.get(id) ?? [], nextCursor }
    },

    /** GraphQL: the links of many tickets in one query. */
    async forTickets(ctx: Ctx, ids: readonly string[]) {
      authorize(ctx.actor, 'ticket.read')
      return linksOf(db, ctx, ids)
    },

    async link(ctx: Ctx, kind: TicketKind | null, id: string, input: { type: string; ticketId: string }) {
      const named = AS_STORED[input.type]
      if (!named) throw fieldError('type', `one of ${LINK_TYPES.join(', ')}`)
      return withTx(ctx, async (tx, ctx) => {
        const here = await deps.tickets.visible(ctx, kind, id)
        authorize(ctx.actor, 'ticket.update')
        const other = await deps.tickets.visible(ctx, null, input.ticketId).catch(() => {
          throw fieldError('ticketId', 'no such ticket')
        })
        const [from, to] = named.swap ? [other.id, here.id] : [here.id, other.id]
        const linkId = await addLink(ctx, from, to, named.type)
        const mine = (await linksOf(tx, ctx, [here.id])).get(here.id) ?? []
        return mine.find(l => l.id === linkId)!
      })
    },

    async unlink(ctx: Ctx, kind: TicketKind | null, id: string, linkId: string) {
      await withTx(ctx, async (tx, ctx) => {
        await deps.tickets.visible(ctx, kind, id)
        authorize(ctx.actor, 'ticket.update')
        const [row] = await tx
          .delete(ticketLinks)
          .where(and(eq(ticketLinks.id, linkId), or(eq(ticketLinks.fromId, id), eq(ticketLinks.toId, id))))
          .returning()
        if (!row) throw notFound('link')
        // A link to a ticket the caller cannot see is not theirs to know of, nor to remove
        const [far] = await tx
          .select({ organisationId: tickets.organisationId, requesterId: tickets.requesterId })
          .from(tickets)
          .where(eq(tickets.id, row.fromId === id ? row.toId : row.fromId))
        if (!far || !visibleTo(ticketScope(ctx.actor), far)) throw notFound('link')
        await removed(ctx, row)
      })
    },

    /** Removes a link inside the caller's transaction; answers false when there was none. */
    async removeLink(ctx: TxCtx, fromId: string, toId: string, type: string): Promise<boolean> {
      const tx = ctx.db
      const [row] = await tx
        .delete(ticketLinks)
        .where(and(eq(ticketLinks.fromId, fromId), eq(ticketLinks.toId, toId), eq(ticketLinks.type, type)))
        .returning()
      if (!row) return false
      await removed(ctx, row)
      return true
    }
  }
}

export type LinkService = ReturnType<typeof createLinkService>
