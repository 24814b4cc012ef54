import { and, eq, gt, inArray, lt, notInArray, type SQL } from 'drizzle-orm'
import { changeDetails, ticketCis, tickets } from '../../db/schema/index.js'
import type { Queryable } from '../../lib/context.js'
import { decodeCursor, encodeCursor } from '../../lib/cursor.js'
import { badRequest } from '../../lib/errors.js'
import { isUuid } from '../../lib/ids.js'
import { formatNumber } from '../tickets/kinds.js'
import { type ChangeConflict, findChangeConflicts } from './changes.conflicts.js'
import type { ChangeRisk } from './changes.schemas.js'
import type { ChangeType } from './policies.schemas.js'

export const CALENDAR_SORT = 'change-calendar'

export interface CalendarEntry {
  id: string
  number: string
  title: string
  status: string
  type: ChangeType
  risk: ChangeRisk
  plannedStart: Date
  plannedEnd: Date
  ciIds: string[]
  conflicts: ChangeConflict[]
}

type Planned = Omit<CalendarEntry, 'ciIds' | 'conflicts'>

export const calendarCursor = (e: Pick<CalendarEntry, 'id' | 'plannedStart'>) =>
  encodeCursor({ sort: CALENDAR_SORT, value: e.plannedStart.toISOString(), id: e.id })

function afterCursor(raw: string | undefined): ((e: Planned) => boolean) | null {
  if (!raw) return null
  const c = decodeCursor(raw, CALENDAR_SORT)
  const at = new Date(String(c.value))
  if (Number.isNaN(at.getTime()) || !isUuid(c.id)) {
    throw badRequest('invalid cursor', [{ field: 'cursor', message: 'not a cursor from this API' }])
  }
  return e => e.plannedStart > at || (e.plannedStart.getTime() === at.getTime() && e.id > c.id)
}

/**
 * The change calendar of [from, to): changes whose planned window overlaps it, by start, each with its
 * conflicts as `findChangeConflicts` finds them (same CI, a CI related through the impact graph, a
 * freeze), looking at every live change overlapping a listed one, also those reaching outside the
 * window, so a page is complete whatever its edges.
 */
export async function changeCalendar(
  q: Queryable,
  opts: { from: Date; to: Date; limit: number; cursor?: string; dead: string[]; scope: SQL[] }
): Promise<{ items: CalendarEntry[]; nextCursor: string | null; cursors: string[] }> {
  const after = afterCursor(opts.cursor)
  const rows: Planned[] = (
    await q
      .select({
        id: tickets.id,
        number: tickets.number,
        title: tickets.title,
        status: tickets.status,
        type: changeDetails.type,
        risk: changeDetails.risk,
        plannedStart: changeDetails.plannedStart,
        plannedEnd: changeDetails.plannedEnd
      })
      .from(changeDetails)
      .innerJoin(tickets, eq(tickets.id, changeDetails.ticketId))
      .where(
        and(
          eq(tickets.kind, 'change'),
          opts.dead.length ? notInArray(tickets.status, opts.dead) : undefined,
          ...opts.scope,
          lt(changeDetails.plannedStart, opts.to),
          gt(changeDetails.plannedEnd, opts.from)
        )
      )
  ).map(r => ({
    id: r.id,
    number: formatNumber('change', r.number),
    title: r.title,
    status: r.status,
    type: r.type as ChangeType,
    risk: r.risk as ChangeRisk,
    plannedStart: r.plannedStart!,
    plannedEnd: r.plannedEnd!
  }))

  rows.sort((a, b) => a.plannedStart.getTime() - b.plannedStart.getTime() || (a.id < b.id ? -1 : 1))
  const listed = after ? rows.filter(after) : rows
  const page = listed.slice(0, opts.limit)
  if (page.length === 0) return { items: [], nextCursor: null, cursors: [] }

  const ciRows = await q
    .select({ ticketId: ticketCis.ticketId, ciId: ticketCis.ciId })
    .from(ticketCis)
    .where(
      inArray(
        ticketCis.ticketId,
        page.map(p => p.id)
      )
    )
  const cis = new Map<string, string[]>()
  for (const r of ciRows) cis.set(r.ticketId, [...(cis.get(r.ticketId) ?? []), r.ciId])
  const withCis = page.map(p => ({ ...p, ciIds: (cis.get(p.id) ?? []).sort() }))
  const conflicts = await findChangeConflicts(q, withCis, { dead: opts.dead })

  const items = withCis.map(p => ({ ...p, conflicts: conflicts.get(p.id) ?? ([] as ChangeConflict[]) }))
  const more = listed.length > opts.limit
  return {
    items,
    nextCursor: more ? calendarCursor(page[page.length - 1]!) : null,
    cursors: items.map(calendarCursor)
  }
}
