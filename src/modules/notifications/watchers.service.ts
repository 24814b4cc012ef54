import { and, asc, eq, gt } from 'drizzle-orm'
import { authorize, isStaff } from '../../auth/policy.js'
import { ticketWatchers, users } from '../../db/schema/index.js'
import { type Ctx, type Deps, withTx } from '../../lib/context.js'
import { decodeCursor, encodeCursor, pageOf } from '../../lib/cursor.js'
import { fieldError, forbidden, notFound } from '../../lib/errors.js'
import { recordAudit } from '../audit/audit.service.js'
import type { TicketKind } from '../tickets/kinds.js'
import type { TicketService } from '../tickets/tickets.service.js'

const SORT = 'watchers:userId'

export interface WatcherView {
  userId: string
  displayName: string
  createdAt: Date
}

/**
 * Watchers of any ticket: people who hear of it (the `watchers` audience of the rules) without being
 * its requester or assignee. Whoever sees a ticket may watch it themselves; staff who may edit it add
 * and remove others, and only people who can see the ticket (customers of its organisation, or staff).
 */
export function createWatcherService(deps: Deps & { tickets: TicketService }) {
  const { db } = deps

  /** Only the caller themselves, unless staff who may update tickets. */
  function mayChange(ctx: Ctx, userId: string) {
    if (userId === ctx.actor.id) return
    if (!isStaff(ctx.actor)) throw forbidden('you may only add or remove yourself as a watcher')
    authorize(ctx.actor, 'ticket.update')
  }

  return {
    async list(ctx: Ctx, kind: TicketKind | null, ticketId: string, page: { limit?: number; cursor?: string } = {}) {
      const ticket = await deps.tickets.visible(ctx, kind, ticketId)
      const limit = page.limit ?? 50
      const after = page.cursor ? decodeCursor(page.cursor, SORT).id : undefined
      const rows = await db
        .select({ userId: ticketWatchers.userId, displayName: users.displayName, createdAt: ticketWatchers.createdAt })
        .from(ticketWatchers)
        .innerJoin(users, eq(users.id, ticketWatchers.userId))
        .where(and(eq(ticketWatchers.ticketId, ticket.id), after ? gt(ticketWatchers.userId, after) : undefined))
        .orderBy(asc(ticketWatchers.userId))
        .limit(limit + 1)
      return pageOf<WatcherView>(rows, limit, last => ({ sort: SORT, value: null, id: last.userId }))
    },

    cursorOf: (w: WatcherView) => encodeCursor({ sort: SORT, value: null, id: w.userId }),

    /** Adds a watcher (the caller when no user is named); adding one already watching changes nothing. */
    async add(ctx: Ctx, kind: TicketKind | null, ticketId: string, input: { userId?: string }): Promise<WatcherView> {
      const userId = input.userId ?? ctx.actor.id
      if (!userId) throw fieldError('userId', 'required for the system actor')
      mayChange(ctx, userId)
      return withTx(ctx, async (tx, ctx) => {
        const ticket = await deps.tickets.visible(ctx, kind, ticketId)
        const [user] = await tx
          .select({
            id: users.id,
            displayName: users.displayName,
            roles: users.roles,
            active: users.active,
            organisationId: users.organisationId
          })
          .from(users)
          .where(eq(users.id, userId))
        if (!user || !user.active) throw fieldError('userId', 'no such active user')
        const staff = user.roles.some(r => r !== 'customer')
        if (!staff && user.organisationId !== ticket.organisationId) {
          throw fieldError('userId', 'this user cannot see the ticket: a customer of another organisation')
        }
        const [added] = await tx
          .insert(ticketWatchers)
          .values({ ticketId: ticket.id, userId })
          .onConflictDoNothing()
          .returning()
        if (added) {
          await recordAudit(tx, ctx, {
            entityType: 'ticket',
            entityId: ticket.id,
            action: 'ticket.watcher_added',
            changes: [{ field: 'watcher', old: null, new: userId }]
          })
        }
        const [row] = await tx
          .select({ createdAt: ticketWatchers.createdAt })
          .from(ticketWatchers)
          .where(and(eq(ticketWatchers.ticketId, ticket.id), eq(ticketWatchers.userId, userId)))
        return { userId, displayName: user.displayName, createdAt: row!.createdAt }
      })
    },

    async remove(ctx: Ctx, kind: TicketKind | null, ticketId: string, userId: string): Promise<void> {
      mayChange(ctx, userId)
      await withTx(ctx, async (tx, ctx) => {
        const ticket = await deps.tickets.visible(ctx, kind, ticketId)
        const gone = await tx
          .delete(ticketWatchers)
          .where(and(eq(ticketWatchers.ticketId, ticket.id), eq(ticketWatchers.userId, userId)))
          .returning()
        if (gone.length === 0) throw notFound('watcher')
        await recordAudit(tx, ctx, {
          entityType: 'ticket',
          entityId: ticket.id,
          action: 'ticket.watcher_removed',
          changes: [{ field: 'watcher', old: userId, new: null }]
        })
      })
    }
  }
}

export type WatcherService = ReturnType<typeof createWatcherService>
