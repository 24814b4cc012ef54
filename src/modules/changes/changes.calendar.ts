import { and, eq, gt, inArray, isNotNull, lt, max, min, notInArray, type SQL, sql } from 'drizzle-orm'
import { changeDetails, ticketCis, tickets } from '../../db/schema/index.js'
import type { Queryable } from '../../lib/context.js'
import { decodeCursor, encodeCursor } from '../../lib/cursor.js'
import { badRequest } from '../../lib/errors.js'
import { isUuid } from '../../lib/ids.js'
import { relatedCiIds } from '../cmdb/cis.repository.js'
import { formatNumber } from '../tickets/kinds.js'
import type { ChangeRisk } from './changes.schemas.js'
import { freezesOverlapping } from './freezes.service.js'
import type { ChangeType } from './policies.schemas.js'

export const CALENDAR_SORT = 'change-calendar'

export interface ChangeConflict {
  reason: 'same_ci' | 'related_ci' | 'freeze'
  changeId: string | null
  number: string | null
  ciIds?: string[]
  freezeId?: string
  freezeName?: string
}

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

const overlaps = (a: { plannedStart: Date; plannedEnd: Date }, b: { plannedStart: Date; plannedEnd: Date }) =>
  a.plannedStart < b.plannedEnd && b.plannedStart < a.plannedEnd

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
 * conflicts — another live change planned at an overlapping time on the same CI or a directly related
 * CI, or a freeze overlapping its window. Conflicts look at every live change overlapping a listed one,
 * also those reaching outside the window, so a page is complete whatever its edges. Four queries a
 * page: the changes (the span the window's changes cover, one statement), their CIs, the relations of
 * the listed CIs, the freezes.
 */
export async function changeCalendar(
  q: Queryable,
  opts: { from: Date; to: Date; limit: number; cursor?: string; dead: string[]; scope: SQL[] }
): Promise<{ items: CalendarEntry[]; nextCursor: string | null; cursors: string[] }> {
  const after = afterCursor(opts.cursor)
  const live = and(eq(tickets.kind, 'change'), opts.dead.length ? notInArray(tickets.status, opts.dead) : undefined)
  const inWindow = and(lt(changeDetails.plannedStart, opts.to), gt(changeDetails.plannedEnd, opts.from))
  const span = (agg: SQL) =>
    sql`(${q
      .select({ v: agg })
      .from(changeDetails)
      .innerJoin(tickets, eq(tickets.id, changeDetails.ticketId))
      .where(and(live, inWindow))})`
  const rows: Planned[] = (
    await q
      .select({
        id: tickets.id,
        kind: tickets.kind,
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
          live,
          ...opts.scope,
          isNotNull(changeDetails.plannedStart),
          isNotNull(changeDetails.plannedEnd),
          lt(changeDetails.plannedStart, span(max(changeDetails.plannedEnd))),
          gt(changeDetails.plannedEnd, span(min(changeDetails.plannedStart)))
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
  const window = { plannedStart: opts.from, plannedEnd: opts.to }
  const listed = rows.filter(r => overlaps(r, window) && (!after || after(r)))
  const page = listed.slice(0, opts.limit)
  if (page.length === 0) return { items: [], nextCursor: null, cursors: [] }
  const pageIds = new Set(page.map(p => p.id))
  const neighbours = rows.filter(r => pageIds.has(r.id) || page.some(p => overlaps(p, r)))

  const ciRows = await q
    .select({ ticketId: ticketCis.ticketId, ciId: ticketCis.ciId })
    .from(ticketCis)
    .where(inArray(ticketCis.ticketId, [...new Set(neighbours.map(n => n.id))]))
  const cis = new Map<string, string[]>()
  for (const r of ciRows) cis.set(r.ticketId, [...(cis.get(r.ticketId) ?? []), r.ciId])
  const ciOf = (id: string) => (cis.get(id) ?? []).sort()

  const listedCis = [...new Set(page.flatMap(p => ciOf(p.id)))]
  const related = await relatedCiIds(q, listedCis)
  const start = new Date(Math.min(...page.map(p => p.plannedStart.getTime())))
  const end = new Date(Math.max(...page.map(p => p.plannedEnd.getTime())))
  const freezes = await freezesOverlapping(q, start, end)

  const items = page.map(p => {
    const own = new Set(ciOf(p.id))
    const near = new Set([...own].flatMap(c => [...(related.get(c) ?? [])]).filter(c => !own.has(c)))
    const conflicts: ChangeConflict[] = []
    for (const other of neighbours) {
      if (other.id === p.id || !overlaps(p, other)) continue
      const theirs = ciOf(other.id)
      const same = theirs.filter(c => own.has(c))
      const rel = theirs.filter(c => near.has(c))
      const ref = { changeId: other.id, number: other.number }
      if (same.length) conflicts.push({ reason: 'same_ci', ...ref, ciIds: same })
      if (rel.length) conflicts.push({ reason: 'related_ci', ...ref, ciIds: rel })
    }
    for (const f of freezes) {
      if (f.startsAt < p.plannedEnd && p.plannedStart < f.endsAt) {
        conflicts.push({ reason: 'freeze', changeId: null, number: null, freezeId: f.id, freezeName: f.name })
      }
    }
    return { ...p, ciIds: [...own], conflicts }
  })
  const more = listed.length > opts.limit
  return {
    items,
    nextCursor: more ? calendarCursor(page[page.length - 1]!) : null,
    cursors: items.map(calendarCursor)
  }
}
