import { and, eq, gt, inArray, isNotNull, lt, notInArray } from 'drizzle-orm'
import { changeDetails, ticketCis, tickets } from '../../db/schema/index.js'
import type { Queryable } from '../../lib/context.js'
import { impactReach } from '../cmdb/impact.repository.js'
import { formatNumber } from '../tickets/kinds.js'
import { freezesOverlapping } from './freezes.service.js'

/** How far through the CI graph a change reaches when looking for colliding changes (default). */
export const CONFLICT_DEPTH = 3
export const MAX_CONFLICT_DEPTH = 5

export interface ChangeConflict {
  reason: 'same_ci' | 'related_ci' | 'freeze'
  changeId: string | null
  number: string | null
  ciIds?: string[]
  /** related_ci: hops from one of this change's CIs to the nearest of the other's */
  distance?: number
  /** related_ci: downstream when this change's CI stands on the other's, upstream when it is stood on */
  direction?: 'upstream' | 'downstream'
  /** related_ci: that shortest path, this change's CI first */
  path?: string[]
  freezeId?: string
  freezeName?: string
}

/** A change with a planned window [plannedStart, plannedEnd) and the CIs it touches. */
export interface ConflictSubject {
  id: string
  plannedStart: Date
  plannedEnd: Date
  ciIds: readonly string[]
}

const overlaps = (a: { plannedStart: Date; plannedEnd: Date }, b: { plannedStart: Date; plannedEnd: Date }) =>
  a.plannedStart < b.plannedEnd && b.plannedStart < a.plannedEnd

/**
 * The one conflict check of changes (the calendar, a change's own conflicts, and whoever notifies them
 * call it). For each subject: every other live change (status not in `dead`) planned at an overlapping
 * time on the same CI (`same_ci`), or on a CI this change's CIs impact or are impacted by within `depth`
 * hops of the relationship graph (`related_ci`, with the nearest hop's distance, direction and path), and
 * every change freeze overlapping its window (`freeze`). Windows are half-open. Four queries whatever the
 * number of subjects: the overlapping changes, their CIs, the graph walk (one recursive query, cycle-safe),
 * the freezes. Pure read: it notifies nothing.
 */
export async function findChangeConflicts(
  q: Queryable,
  subjects: readonly ConflictSubject[],
  opts: { dead: readonly string[]; depth?: number }
): Promise<Map<string, ChangeConflict[]>> {
  const out = new Map<string, ChangeConflict[]>(subjects.map(s => [s.id, []]))
  if (subjects.length === 0) return out
  const from = new Date(Math.min(...subjects.map(s => s.plannedStart.getTime())))
  const to = new Date(Math.max(...subjects.map(s => s.plannedEnd.getTime())))

  const others = (
    await q
      .select({
        id: tickets.id,
        number: tickets.number,
        plannedStart: changeDetails.plannedStart,
        plannedEnd: changeDetails.plannedEnd
      })
      .from(changeDetails)
      .innerJoin(tickets, eq(tickets.id, changeDetails.ticketId))
      .where(
        and(
          eq(tickets.kind, 'change'),
          opts.dead.length ? notInArray(tickets.status, [...opts.dead]) : undefined,
          isNotNull(changeDetails.plannedStart),
          isNotNull(changeDetails.plannedEnd),
          lt(changeDetails.plannedStart, to),
          gt(changeDetails.plannedEnd, from)
        )
      )
  )
    .map(r => ({
      id: r.id,
      number: formatNumber('change', r.number),
      plannedStart: r.plannedStart!,
      plannedEnd: r.plannedEnd!
    }))
    .sort((a, b) => a.plannedStart.getTime() - b.plannedStart.getTime() || (a.id < b.id ? -1 : 1))

  const cis = new Map<string, string[]>()
  if (others.length) {
    const ciRows = await q
      .select({ ticketId: ticketCis.ticketId, ciId: ticketCis.ciId })
      .from(ticketCis)
      .where(
        inArray(
          ticketCis.ticketId,
          others.map(o => o.id)
        )
      )
    for (const r of ciRows) cis.set(r.ticketId, [...(cis.get(r.ticketId) ?? []), r.ciId])
  }
  const ciOf = (id: string) => (cis.get(id) ?? []).sort()

  // Nearest hop from each of the subjects' CIs to each CI it reaches (either direction)
  const reach = await impactReach(q, [...new Set(subjects.flatMap(s => s.ciIds))], {
    depth: opts.depth ?? CONFLICT_DEPTH
  })
  const nearest = new Map<string, Map<string, (typeof reach)[number]>>()
  for (const row of reach) {
    const m = nearest.get(row.root) ?? new Map()
    const had = m.get(row.id)
    if (!had || row.distance < had.distance || (row.distance === had.distance && row.direction === 'downstream')) {
      m.set(row.id, row)
    }
    nearest.set(row.root, m)
  }
  const freezes = await freezesOverlapping(q, from, to)

  for (const s of subjects) {
    const own = new Set(s.ciIds)
    const conflicts = out.get(s.id)!
    for (const other of others) {
      if (other.id === s.id || !overlaps(s, other)) continue
      const theirs = ciOf(other.id)
      const same = theirs.filter(c => own.has(c))
      const ref = { changeId: other.id, number: other.number }
      if (same.length) conflicts.push({ reason: 'same_ci', ...ref, ciIds: same })
      let best: (typeof reach)[number] | undefined
      const related: string[] = []
      for (const c of theirs) {
        if (own.has(c)) continue
        for (const mine of own) {
          const hop = nearest.get(mine)?.get(c)
          if (!hop) continue
          if (!related.includes(c)) related.push(c)
          if (!best || hop.distance < best.distance) best = hop
        }
      }
      if (best) {
        conflicts.push({
          reason: 'related_ci',
          ...ref,
          ciIds: related,
          distance: best.distance,
          direction: best.direction,
          path: best.path
        })
      }
    }
    for (const f of freezes) {
      if (f.startsAt < s.plannedEnd && s.plannedStart < f.endsAt) {
        conflicts.push({ reason: 'freeze', changeId: null, number: null, freezeId: f.id, freezeName: f.name })
      }
    }
  }
  return out
}

/** These changes' planned windows and CIs, by id; a change with no complete window is left out. */
export async function conflictSubjects(q: Queryable, ids: readonly string[]): Promise<ConflictSubject[]> {
  if (ids.length === 0) return []
  const windows = await q
    .select({ id: changeDetails.ticketId, start: changeDetails.plannedStart, end: changeDetails.plannedEnd })
    .from(changeDetails)
    .where(
      and(
        inArray(changeDetails.ticketId, [...new Set(ids)]),
        isNotNull(changeDetails.plannedStart),
        isNotNull(changeDetails.plannedEnd)
      )
    )
  if (windows.length === 0) return []
  const rows = await q
    .select({ ticketId: ticketCis.ticketId, ciId: ticketCis.ciId })
    .from(ticketCis)
    .where(
      inArray(
        ticketCis.ticketId,
        windows.map(w => w.id)
      )
    )
  return windows.map(w => ({
    id: w.id,
    plannedStart: w.start!,
    plannedEnd: w.end!,
    ciIds: rows
      .filter(r => r.ticketId === w.id)
      .map(r => r.ciId)
      .sort()
  }))
}
