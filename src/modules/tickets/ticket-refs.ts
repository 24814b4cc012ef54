import { and, inArray, type SQL } from 'drizzle-orm'
import type { AnyPgColumn } from 'drizzle-orm/pg-core'
import type { Actor } from '../../auth/actor.js'
import { ticketScope } from '../../auth/policy.js'
import { tickets } from '../../db/schema/index.js'
import type { Queryable } from '../../lib/context.js'
import type { Change } from '../audit/audit.service.js'
import { scopeConditions } from './tickets.repository.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

const uuidsIn = (v: unknown): string[] =>
  typeof v === 'string' ? (UUID.test(v) ? [v] : []) : Array.isArray(v) ? v.flatMap(uuidsIn) : []

/**
 * Of these ids, the ones that are tickets the actor may not see. An actor who sees every ticket
 * costs nothing; a scoped one (customer, organisation pin) one indexed query.
 */
export async function hiddenTickets(q: Queryable, actor: Actor, ids: Iterable<string>): Promise<ReadonlySet<string>> {
  const scope = ticketScope(actor)
  const wanted = [...new Set(ids)]
  if (!scope || wanted.length === 0) return new Set()
  const rows = await q
    .select({ id: tickets.id, organisationId: tickets.organisationId, requesterId: tickets.requesterId })
    .from(tickets)
    .where(inArray(tickets.id, wanted))
  return new Set(
    rows
      .filter(
        r =>
          (scope.organisationId && r.organisationId !== scope.organisationId) ||
          (scope.requesterId && r.requesterId !== scope.requesterId)
      )
      .map(r => r.id)
  )
}

/**
 * A ticket's history as this actor may read it: changes naming a ticket they cannot see (a link to
 * another organisation's ticket, a staff problem) are left out, and a link entry left with nothing
 * is dropped whole, so neither ids nor the existence of those tickets leak.
 */
export async function historyFor<T extends { action: string; changes: Change[] }>(
  q: Queryable,
  actor: Actor,
  items: T[]
): Promise<T[]> {
  if (!ticketScope(actor)) return items
  const ids = items.flatMap(i => i.changes.flatMap(c => [...uuidsIn(c.old), ...uuidsIn(c.new)]))
  const hidden = await hiddenTickets(q, actor, ids)
  if (hidden.size === 0) return items
  const names = (v: unknown) => uuidsIn(v).some(id => hidden.has(id))
  return items.flatMap(item => {
    const changes = item.changes.filter(c => !names(c.old) && !names(c.new))
    if (changes.length === item.changes.length) return [item]
    if (changes.length === 0 && item.action.startsWith('link.')) return []
    return [{ ...item, changes }]
  })
}

/** Ticket views as this actor may read them: a `problemId` they cannot see reads null. */
export async function withVisibleProblems<T extends object>(q: Queryable, actor: Actor, views: T[]): Promise<T[]> {
  const problemOf = (v: T) => (v as { problemId?: unknown }).problemId
  const ids = views.map(problemOf).filter((p): p is string => typeof p === 'string')
  const hidden = await hiddenTickets(q, actor, ids)
  if (hidden.size === 0) return views
  return views.map(v => {
    const p = problemOf(v)
    return typeof p === 'string' && hidden.has(p) ? { ...v, problemId: null } : v
  })
}

/**
 * Narrows a read of records hanging off a ticket (monitoring events, alerts) to those whose ticket
 * the actor may see; null when the actor sees every ticket. Records with no ticket are left out.
 */
export function onVisibleTickets(q: Queryable, actor: Actor, ticketId: AnyPgColumn): SQL | null {
  const scope = ticketScope(actor)
  if (!scope) return null
  return inArray(
    ticketId,
    q
      .select({ id: tickets.id })
      .from(tickets)
      .where(and(...scopeConditions(scope)))
  )
}

/** Whether a record hanging off this ticket (null: none) is one the actor may see. */
export async function onVisibleTicket(q: Queryable, actor: Actor, ticketId: string | null): Promise<boolean> {
  if (!ticketScope(actor)) return true
  if (!ticketId) return false
  const [row] = await q
    .select({ id: tickets.id })
    .from(tickets)
    .where(and(inArray(tickets.id, [ticketId]), ...scopeConditions(ticketScope(actor))))
  return row !== undefined
}
