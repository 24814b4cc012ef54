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

/**
 * The graph around one CI to `depth` hops, in one recursive query. Downstream follows relationships
 * from source to target (what the CI stands on: runs on, depends on, part of, installed on);
 * upstream the other way (what stands on it, so what breaks with it). A path never visits a CI twice,
 * so cycles end; each CI is answered once per direction, at its shortest distance, with that path
 * (root first) and the type of its last hop.
 */
export async function impactOf(
  q: Queryable,
  rootId: string,
  opts: { direction: ImpactDirection; depth: number; types?: readonly string[] }
): Promise<ImpactRow[]> {
  const r = ciRelationships
  const typeFilter: SQL = opts.types?.length ? sql`and ${inArray(r.type, [...opts.types])}` : sql``
  const down = opts.direction !== 'upstream'
  const up = opts.direction !== 'downstream'
  const seeds: SQL[] = []
  if (down)
    seeds.push(
      sql`select ${rootId}::uuid as id, 'downstream'::text as dir, 0 as distance, array[${rootId}::uuid] as path, null::text as type`
    )
  if (up) seeds.push(sql`select ${rootId}::uuid, 'upstream'::text, 0, array[${rootId}::uuid], null::text`)
  const result = await q.execute(sql`
    with recursive walk(id, dir, distance, path, type) as (
      ${sql.join(seeds, sql` union all `)}
      union all
      select nxt.id, w.dir, w.distance + 1, w.path || nxt.id, nxt.type
      from walk w
      cross join lateral (
        select ${r.targetId} as id, ${r.type} as type from ${r} where w.dir = 'downstream' and ${r.sourceId} = w.id ${typeFilter}
        union all
        select ${r.sourceId}, ${r.type} from ${r} where w.dir = 'upstream' and ${r.targetId} = w.id ${typeFilter}
      ) nxt
      where w.distance < ${opts.depth} and not nxt.id = any(w.path)
    )
    select distinct on (dir, id) id, dir, distance, path, type
    from walk where distance > 0
    order by dir, id, distance, path
  `)
  const rows = (
    result as { rows: { id: string; dir: string; distance: number; path: string[] | string; type: string }[] }
  ).rows
  return rows
    .map(row => ({
      id: row.id,
      direction: row.dir as ImpactRow['direction'],
      distance: Number(row.distance),
      path: parseUuidArray(row.path),
      type: row.type
    }))
    .sort(
      (a, b) =>
        a.distance - b.distance ||
        (a.direction < b.direction ? -1 : a.direction > b.direction ? 1 : 0) ||
        (a.id < b.id ? -1 : 1)
    )
}

export interface ReachRow extends ImpactRow {
  root: string
}

/**
 * What many CIs impact and are impacted by, to `depth` hops, in one recursive query: for each root,
 * every CI downstream (what it stands on) and upstream (what stands on it), each walked in one
 * direction only, so two siblings on one host are not each other's impact. Cycle-safe like `impactOf`
 * (a path never visits a CI twice); each CI once per root and direction, at its shortest distance.
 */
export async function impactReach(
  q: Queryable,
  rootIds: readonly string[],
  opts: { depth: number; direction?: ImpactDirection; types?: readonly string[] }
): Promise<ReachRow[]> {
  const roots = [...new Set(rootIds)]
  if (roots.length === 0 || opts.depth < 1) return []
  const r = ciRelationships
  const typeFilter: SQL = opts.types?.length ? sql`and ${inArray(r.type, [...opts.types])}` : sql``
  const dirs =
    opts.direction === 'upstream'
      ? ['upstream']
      : opts.direction === 'downstream'
        ? ['downstream']
        : ['downstream', 'upstream']
  const result = await q.execute(sql`
    with recursive walk(root, id, dir, distance, path, type) as (
      select x.root, x.root, d.dir, 0, array[x.root], null::text
      from unnest(${sqlArray(roots, 'uuid')}) as x(root)
      cross join unnest(${sqlArray(dirs, 'text')}) as d(dir)
      union all
      select w.root, nxt.id, w.dir, w.distance + 1, w.path || nxt.id, nxt.type
      from walk w
      cross join lateral (
        select ${r.targetId} as id, ${r.type} as type from ${r} where w.dir = 'downstream' and ${r.sourceId} = w.id ${typeFilter}
        union all
        select ${r.sourceId}, ${r.type} from ${r} where w.dir = 'upstream' and ${r.targetId} = w.id ${typeFilter}
      ) nxt
      where w.distance < ${opts.depth} and not nxt.id = any(w.path)
    )
    select distinct on (root, dir, id) root, id, dir, distance, path, type
    from walk where distance > 0
    order by root, dir, id, distance, path
  `)
  const rows = (
    result as {
      rows: { root: string; id: string; dir: string; distance: number; path: string[] | string; type: string }[]
    }
  ).rows
  return rows.map(row => ({
    root: String(row.root),
    id: row.id,
    direction: row.dir as ImpactRow['direction'],
    distance: Number(row.distance),
    path: parseUuidArray(row.path),
    type: row.type
  }))
}

/** node-postgres and PGlite both answer uuid[] as an array; be lenient with the text form `{a,b}`. */
function parseUuidArray(v: string[] | string): string[] {
  if (Array.isArray(v)) return v
  return v
    .replace(/^\{|\}$/g, '')
    .split(',')
    .filter(Boolean)
}

/** Both readings of every relationship type, by name. */
export async function typeLabels(q: Queryable) {
  const rows = await q.select().from(ciRelationshipTypes)
  return new Map(rows.map(t => [t.name, { label: t.label, reverse: t.reverseLabel }]))
}

/** The CIs of these ids, by id. */
export async function cisById(q: Queryable, ids: string[]) {
  if (ids.length === 0) return new Map<string, typeof configurationItems.$inferSelect>()
  const rows = await q.select().from(configurationItems).where(inArray(configurationItems.id, ids))
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
