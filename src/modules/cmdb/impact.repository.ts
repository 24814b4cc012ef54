import { inArray, type SQL, sql } from 'drizzle-orm'
import { ciRelationships, ciRelationshipTypes, configurationItems, ticketCis, tickets } from '../../db/schema/index.js'
import type { Queryable } from '../../lib/context.js'
import { sqlArray } from '../../lib/sql-array.js'

export type ImpactDirection = 'upstream' | 'downstream' | 'both'

export interface ImpactRow {
  id: string
  direction: 'upstream' | 'downstream'
  distance: number
  path: string[]
  type: string
}

export interface ReachRow extends ImpactRow {
  root: string
}

type Direction = ImpactRow['direction']

/**
 * The graph around one CI to `depth` hops. Downstream follows relationships from source to target
 * (what the CI stands on: runs on, depends on, part of, installed on); upstream the other way (what
 * stands on it, so what breaks with it). Each CI is answered once per direction, at its shortest
 * distance, with that path (root first; the least path in uuid order when several are as short) and
 * the type of its last hop. Nearest first, then downstream before upstream, then by id.
 */
export async function impactOf(
  q: Queryable,
  rootId: string,
  opts: { direction: ImpactDirection; depth: number; types?: readonly string[]; limit?: number }
): Promise<ImpactRow[]> {
  const rows = await impactReach(q, [rootId], opts)
  return rows.map(({ root: _root, ...row }) => row).sort(byDistance)
}

/** The order impact answers are given in: nearest first, then downstream before upstream, then by id. */
export function byDistance(a: ImpactRow, b: ImpactRow): number {
  return (
    a.distance - b.distance ||
    (a.direction < b.direction ? -1 : a.direction > b.direction ? 1 : 0) ||
    (a.id < b.id ? -1 : 1)
  )
}

/**
 * What many CIs impact and are impacted by, to `depth` hops: for each root, every CI downstream (what
 * it stands on) and upstream (what stands on it), each walked in one direction only, so two siblings on
 * one host are not each other's impact. Each CI once per root and direction, at its shortest distance,
 * as `impactOf` answers it; by root, direction (downstream first) and id.
 *
 * A breadth-first walk with a visited set per root and direction: one query per level fetches the
 * relationships leaving every CI of that level (all roots and both directions together), so a read
 * costs at most `depth` round trips and each CI is expanded once. A recursive CTE cannot keep a visited
 * set (it only sees the previous level), and one that carries paths instead expands every simple path,
 * which is exponential on dense graphs (seconds at depth 5 on 100,000 CIs).
 *
 * `limit`: a root that has reached more than `limit` CIs (both directions together) is walked no
 * further, so a read asking for the first N nearest costs about as many levels as those N need. Its
 * answer then holds more than `limit` rows (the whole of the last level walked): more than `limit` rows
 * means there is more beyond them, and the caller keeps the first `limit` in `byDistance` order.
 */
export async function impactReach(
  q: Queryable,
  rootIds: readonly string[],
  opts: { depth: number; direction?: ImpactDirection; types?: readonly string[]; limit?: number }
): Promise<ReachRow[]> {
  // PostgreSQL answers uuids in lower case; the roots are compared and returned as it would
  const roots = [...new Set(rootIds.map(id => id.toLowerCase()))]
  if (roots.length === 0 || opts.depth < 1) return []
  const dirs: Direction[] =
    opts.direction === 'upstream'
      ? ['upstream']
      : opts.direction === 'downstream'
        ? ['downstream']
        : ['downstream', 'upstream']

  interface Node {
    id: string
    path: string[]
    type: string
  }
  const walks = roots.flatMap(root =>
    dirs.map(dir => ({
      root,
      dir,
      seen: new Map<string, Node | null>([[root, null]]),
      // kept in path order, so the first parent to reach a CI gives it its least shortest path
      frontier: [{ id: root, path: [root], type: '' }] as Node[]
    }))
  )

  for (let distance = 1; distance <= opts.depth; distance++) {
    const live = walks.filter(w => w.frontier.length > 0)
    if (live.length === 0) break
    const from = { downstream: new Set<string>(), upstream: new Set<string>() }
    for (const w of live) for (const n of w.frontier) from[w.dir].add(n.id)
    const next = await hops(q, from, opts.types)
    for (const w of live) {
      const reached: Node[] = []
      for (const n of w.frontier) {
        const out = next[w.dir].get(n.id)
        if (!out) continue
        // by id, then type: children of one parent in path order, one type per pair
        for (const e of out) {
          if (w.seen.has(e.id)) continue
          const node = { id: e.id, path: [...n.path, e.id], type: e.type }
          w.seen.set(e.id, node)
          reached.push(node)
        }
      }
      w.frontier = reached
    }
    if (opts.limit !== undefined) {
      const reachedBy = new Map<string, number>()
      for (const w of live) reachedBy.set(w.root, (reachedBy.get(w.root) ?? 0) + w.seen.size - 1)
      for (const w of live) if ((reachedBy.get(w.root) ?? 0) > opts.limit) w.frontier = []
    }
  }

  return walks.flatMap(w =>
    [...w.seen.values()]
      .filter((n): n is Node => n !== null)
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map(n => ({
        root: w.root,
        id: n.id,
        direction: w.dir,
        distance: n.path.length - 1,
        path: n.path,
        type: n.type
      }))
  )
}

/**
 * The relationships leaving these CIs in one query: downstream from source to target, upstream from
 * target to source; by CI, each list ordered by the CI reached and then by type.
 */
async function hops(
  q: Queryable,
  from: Record<Direction, Set<string>>,
  types?: readonly string[]
): Promise<Record<Direction, Map<string, { id: string; type: string }[]>>> {
  const r = ciRelationships
  const typeFilter: SQL = types?.length ? sql`and ${inArray(r.type, [...types])}` : sql``
  const parts: SQL[] = []
  if (from.downstream.size)
    parts.push(sql`select 'downstream' as dir, ${r.sourceId} as "from", ${r.targetId} as "to", ${r.type} as type
      from ${r} where ${r.sourceId} = any(${sqlArray([...from.downstream], 'uuid')}) ${typeFilter}`)
  if (from.upstream.size)
    parts.push(sql`select 'upstream' as dir, ${r.targetId} as "from", ${r.sourceId} as "to", ${r.type} as type
      from ${r} where ${r.targetId} = any(${sqlArray([...from.upstream], 'uuid')}) ${typeFilter}`)
  const result = await q.execute(sql`${sql.join(parts, sql` union all `)} order by 3, 4`)
  const rows = (result as { rows: { dir: Direction; from: string; to: string; type: string }[] }).rows
  const out = { downstream: new Map(), upstream: new Map() } as Record<
    Direction,
    Map<string, { id: string; type: string }[]>
  >
  for (const row of rows) {
    const m = out[row.dir]
    const list = m.get(row.from)
    if (list) list.push({ id: row.to, type: row.type })
    else m.set(row.from, [{ id: row.to, type: row.type }])
  }
  return out
}

/** Both readings of every relationship type, by name. */
export async function typeLabels(q: Queryable) {
  const rows = await q.select().from(ciRelationshipTypes)
  return new Map(rows.map(t => [t.name, { label: t.label, reverse: t.reverseLabel }]))
}

/**
 * What an impact answer shows of the CIs of these ids, by id. One array parameter rather than a list
 * of thousands, and only the summary columns: a depth-5 answer can name tens of thousands of CIs.
 */
export async function cisById(q: Queryable, ids: readonly string[]) {
  const c = configurationItems
  if (ids.length === 0) return new Map<string, { id: string; name: string; ciClass: string; status: string }>()
  const rows = await q
    .select({ id: c.id, name: c.name, ciClass: c.ciClass, status: c.status })
    .from(c)
    .where(sql`${c.id} = any(${sqlArray(ids, 'uuid')})`)
  return new Map(rows.map(r => [r.id, r]))
}

/** Tickets naming a CI (ticket_cis), newest first; `open` keeps those neither resolved nor closed. */
export async function ticketsOfCi(
  q: Queryable,
  ciId: string,
  opts: { open: boolean; kinds?: readonly string[]; limit: number; after?: { createdAt: string; id: string } }
) {
  const t = tickets
  const where: SQL[] = [
    sql`${t.id} in (select ${ticketCis.ticketId} from ${ticketCis} where ${ticketCis.ciId} = ${ciId})`
  ]
  if (opts.open) where.push(sql`${t.resolvedAt} is null and ${t.closedAt} is null`)
  if (opts.kinds?.length) where.push(inArray(t.kind, [...opts.kinds]))
  if (opts.after)
    where.push(sql`(${t.createdAt}, ${t.id}) < (${opts.after.createdAt}::timestamptz, ${opts.after.id}::uuid)`)
  return q
    .select({
      id: t.id,
      kind: t.kind,
      number: t.number,
      title: t.title,
      status: t.status,
      priority: t.priority,
      createdAt: t.createdAt,
      resolvedAt: t.resolvedAt,
      closedAt: t.closedAt
    })
    .from(t)
    .where(sql.join(where, sql` and `))
    .orderBy(sql`${t.createdAt} desc`, sql`${t.id} desc`)
    .limit(opts.limit + 1)
}

/**
 * The first `limit + 1` tickets naming each of many CIs, newest first as `ticketsOfCi` answers one, in
 * one query (a window function over ticket_cis); each row says which CI it is for.
 */
export async function firstTicketsOfCis(
  q: Queryable,
  ciIds: readonly string[],
  opts: { open: boolean; kinds?: readonly string[]; limit: number }
) {
  const t = tickets
  const where: SQL[] = [sql`${ticketCis.ciId} = any(${sqlArray([...ciIds], 'uuid')})`]
  if (opts.open) where.push(sql`${t.resolvedAt} is null and ${t.closedAt} is null`)
  if (opts.kinds?.length) where.push(inArray(t.kind, [...opts.kinds]))
  const ranked = q
    .select({
      ciId: ticketCis.ciId,
      id: t.id,
      kind: t.kind,
      number: t.number,
      title: t.title,
      status: t.status,
      priority: t.priority,
      createdAt: t.createdAt,
      resolvedAt: t.resolvedAt,
      closedAt: t.closedAt,
      rn: sql<number>`row_number() over (partition by ${ticketCis.ciId} order by ${t.createdAt} desc, ${t.id} desc)`.as(
        'rn'
      )
    })
    .from(ticketCis)
    .innerJoin(t, sql`${t.id} = ${ticketCis.ticketId}`)
    .where(sql.join(where, sql` and `))
    .as('ranked')
  const rows = await q
    .select()
    .from(ranked)
    .where(sql`rn <= ${opts.limit + 1}`)
    .orderBy(sql`rn`)
  return rows.map(({ rn: _rn, ...row }) => row)
}
