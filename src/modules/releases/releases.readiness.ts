import { asc, eq, inArray, sql } from 'drizzle-orm'
import { changeDetails, tickets } from '../../db/schema/index.js'
import type { Queryable } from '../../lib/context.js'
import { formatNumber } from '../tickets/kinds.js'

/**
 * When a bundled change is ready to ship. The change workflow reaches `scheduled` only through its
 * approval (authorize → scheduled on approval), and `implement`, `review` and `closed` lie after it;
 * an admin may rename statuses, so a change whose latest approval round is approved counts as ready
 * too. Cancelled and rejected changes always block, whatever their rounds say.
 */
export const READY_STATUSES: ReadonlySet<string> = new Set(['scheduled', 'implement', 'review', 'closed'])
export const BLOCKING_STATUSES: ReadonlySet<string> = new Set(['cancelled', 'rejected'])

export interface BundledChange {
  releaseId: string
  changeId: string
  number: string
  status: string
  ready: boolean
}

export interface Readiness {
  ready: boolean
  total: number
  byStatus: Record<string, number>
  blocking: { changeId: string; number: string; status: string }[]
}

export const isReady = (status: string, latestRound: string | null) =>
  !BLOCKING_STATUSES.has(status) && (READY_STATUSES.has(status) || latestRound === 'approved')

/** The changes of several releases, in number order, each judged ready or not: one query. */
export async function bundledChanges(q: Queryable, releaseIds: readonly string[]): Promise<BundledChange[]> {
  if (releaseIds.length === 0) return []
  const rows = await q
    .select({
      releaseId: changeDetails.releaseId,
      changeId: tickets.id,
      number: tickets.number,
      status: tickets.status,
      latestRound: sql<
        string | null
      >`(select r.state from approval_rounds r where r.ticket_id = ${tickets.id} order by r.round desc limit 1)`
    })
    .from(changeDetails)
    .innerJoin(tickets, eq(tickets.id, changeDetails.ticketId))
    .where(inArray(changeDetails.releaseId, [...releaseIds]))
    .orderBy(asc(tickets.number))
  return rows.map(r => ({
    releaseId: r.releaseId!,
    changeId: r.changeId,
    number: formatNumber('change', r.number),
    status: r.status,
    ready: isReady(r.status, r.latestRound)
  }))
}

/** Readiness of one release from its changes: none bundled is not ready. */
export function readinessOf(changes: readonly BundledChange[]): Readiness {
  const byStatus: Record<string, number> = {}
  for (const c of changes) byStatus[c.status] = (byStatus[c.status] ?? 0) + 1
  const blocking = changes
    .filter(c => !c.ready)
    .map(c => ({ changeId: c.changeId, number: c.number, status: c.status }))
  return { ready: changes.length > 0 && blocking.length === 0, total: changes.length, byStatus, blocking }
}
