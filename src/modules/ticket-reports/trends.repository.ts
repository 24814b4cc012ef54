import { type SQL, sql } from 'drizzle-orm'
import { tickets } from '../../db/schema/index.js'
import type { Queryable } from '../../lib/context.js'
import { doneAt, isOpen } from './ticket-reports.repository.js'

const rowsOf = <T>(result: unknown) => (result as { rows: T[] }).rows
const where = (conds: SQL[]) => (conds.length ? sql.join(conds, sql` and `) : sql`true`)

export const INTERVALS = ['day', 'week', 'month'] as const
export type Interval = (typeof INTERVALS)[number]
// Fixed fragments per interval: the unit never comes from the input as text
const UNIT: Record<Interval, { trunc: SQL; step: SQL }> = {
  day: { trunc: sql`'day'`, step: sql`interval '1 day'` },
  week: { trunc: sql`'week'`, step: sql`interval '1 week'` },
  month: { trunc: sql`'month'`, step: sql`interval '1 month'` }
}

export interface TrendRecord {
  label: string
  start_at: Date | string
  end_at: Date | string
  created: number
  resolved: number
  backlog: number
}

/**
 * Local calendar buckets (in `timeZone`, date_trunc at time zone) from the one holding `from` to the one
 * holding the last instant before `to`, whole: tickets created and done in each, and the backlog (open:
 * created before, not done before) at each bucket's end, as the backlog at the first start plus the
 * running sums (done is never before created). Each bucket counts the tickets in its [start, end)
 * instants (a range count over `tickets_created_idx` / `tickets_done_report_idx` per bucket, index-only
 * with no filter; no per-row time-zone arithmetic); the first backlog is the open tickets created
 * before it (`tickets_open_idx`) and the done ones created before it and done after.
 */
export async function trendSeries(
  q: Queryable,
  p: { from: Date; to: Date; interval: Interval; timeZone: string },
  conds: SQL[]
): Promise<TrendRecord[]> {
  const u = UNIT[p.interval]
  const tz = p.timeZone
  const local = (at: SQL) => sql`date_trunc(${u.trunc}, (${at}) at time zone ${tz}::text)`
  const result = await q.execute(sql`
    with b as materialized (
      select s as local_start, s at time zone ${tz}::text as start_at, (s + ${u.step}) at time zone ${tz}::text as end_at
      from generate_series(${local(sql`${p.from}::timestamptz`)}, ${local(sql`${p.to}::timestamptz - interval '1 millisecond'`)}, ${u.step}) s
    ),
    span as (select min(start_at) as first_at from b),
    base as (
      select (select count(*) from tickets, span
              where ${isOpen} and ${tickets.createdAt} < span.first_at and ${where(conds)})
           + (select count(*) from tickets, span
              where ${doneAt} >= span.first_at and ${tickets.createdAt} < span.first_at and ${where(conds)}) as n
    )
    select to_char(b.local_start, 'YYYY-MM-DD') as label, b.start_at, b.end_at,
           c.n as created, r.n as resolved,
           ((select n from base) + sum(c.n - r.n) over (order by b.local_start))::int as backlog
    from b
    cross join lateral (
      select count(*)::int as n from tickets
      where ${tickets.createdAt} >= b.start_at and ${tickets.createdAt} < b.end_at and ${where(conds)}
    ) c
    cross join lateral (
      select count(*)::int as n from tickets
      where ${doneAt} >= b.start_at and ${doneAt} < b.end_at and ${where(conds)}
    ) r
    order by b.local_start`)
  return rowsOf<TrendRecord>(result)
}

export interface TimingRecord {
  team_id: string | null
  team_name: string | null
  priority: number
  tickets: number
  responded: number
  response_mean: number | null
  response_median: number | null
  response_business: number
  resolved: number
  resolve_mean: number | null
  resolve_median: number | null
  resolve_business: number
}

/**
 * Time to first response and to resolve, in minutes, of the tickets created in [from, to), per team
 * and priority. Business minutes of the SLA clock where the ticket has one (a stopped clock: met or
 * breached, its elapsed minutes); else wall time: to the first public note by someone other than the
 * requester, and to the resolution (or closing).
 */
export async function timings(q: Queryable, p: { from: Date; to: Date }, conds: SQL[]): Promise<TimingRecord[]> {
  // First responses set-wise (the notes of the period's tickets, joined as the planner sees fit), not a
  // probe of ticket_notes per ticket; materialized: each ticket's figures are found once, not per aggregate
  const result = await q.execute(sql`
    with fr as (
      select n.ticket_id, min(n.created_at) as at
      from ticket_notes n
      join tickets on ${tickets.id} = n.ticket_id
      where not n.internal and n.author_id <> ${tickets.requesterId}
        and ${tickets.createdAt} >= ${p.from} and ${tickets.createdAt} < ${p.to} and ${where(conds)}
      group by 1
    ),
    x as materialized (
      select ${tickets.teamId} as team_id, ${tickets.priority} as priority,
             case when rc.id is not null then (case when rc.state = 'stopped' then rc.elapsed_minutes end)
                  else extract(epoch from (fr.at - ${tickets.createdAt})) / 60 end as response,
             rc.id is not null and rc.state = 'stopped' as response_business,
             case when ${isOpen} then null
                  when xc.id is not null then (case when xc.state = 'stopped' then xc.elapsed_minutes end)
                  else extract(epoch from (${doneAt} - ${tickets.createdAt})) / 60 end as resolve,
             not ${isOpen} and xc.id is not null and xc.state = 'stopped' as resolve_business
      from tickets
      left join sla_clocks rc on rc.ticket_id = ${tickets.id} and rc.agreement = 'sla' and rc.target = 'response'
      left join sla_clocks xc on xc.ticket_id = ${tickets.id} and xc.agreement = 'sla' and xc.target = 'resolution'
      left join fr on fr.ticket_id = ${tickets.id}
      where ${tickets.createdAt} >= ${p.from} and ${tickets.createdAt} < ${p.to} and ${where(conds)}
    )
    select x.team_id::text as team_id, g.name as team_name, x.priority::int as priority,
           count(*)::int as tickets,
           count(x.response)::int as responded,
           avg(x.response)::float8 as response_mean,
           percentile_cont(0.5) within group (order by x.response)::float8 as response_median,
           (count(*) filter (where x.response_business))::int as response_business,
           count(x.resolve)::int as resolved,
           avg(x.resolve)::float8 as resolve_mean,
           percentile_cont(0.5) within group (order by x.resolve)::float8 as resolve_median,
           (count(*) filter (where x.resolve_business))::int as resolve_business
    from x
    left join teams g on g.id = x.team_id
    group by x.team_id, g.name, x.priority
    order by g.name nulls last, x.team_id nulls last, x.priority`)
  return rowsOf<TimingRecord>(result)
}

export interface RateRecord {
  resolved: number
  first_contact: number
  reopened: number
}

/**
 * Of the tickets done in [from, to): those resolved at first contact (never handed to another team or
 * layer after the first assignment, never reopened) and those reopened at least once (an audit change
 * clearing resolvedAt).
 */
export async function rates(q: Queryable, p: { from: Date; to: Date }, conds: SQL[]): Promise<RateRecord> {
  const reopened = sql`exists (
    select 1 from audit_log a, jsonb_array_elements(a.changes) e
    where a.entity_type = 'ticket' and a.entity_id = ${tickets.id} and e->>'field' = 'resolvedAt'
      and jsonb_typeof(e->'old') = 'string' and (e->'new' is null or jsonb_typeof(e->'new') = 'null'))`
  const handedOff = sql`exists (
    select 1 from audit_log a, jsonb_array_elements(a.changes) e
    where a.entity_type = 'ticket' and a.entity_id = ${tickets.id} and e->>'field' in ('teamId', 'layer')
      and e->'old' is not null and jsonb_typeof(e->'old') <> 'null')`
  const result = await q.execute(sql`
    select count(*)::int as resolved,
           (count(*) filter (where not ${handedOff} and not ${reopened}))::int as first_contact,
           (count(*) filter (where ${reopened}))::int as reopened
    from tickets
    where ${doneAt} >= ${p.from} and ${doneAt} < ${p.to} and ${where(conds)}`)
  return rowsOf<RateRecord>(result)[0] ?? { resolved: 0, first_contact: 0, reopened: 0 }
}

export interface EscalationRecord {
  layer: number
  escalations: number
}

/** Moves to a higher layer in [from, to) (audit changes of layer, old < new), per layer moved to. */
export async function escalations(
  q: Queryable,
  p: { from: Date; to: Date },
  conds: SQL[]
): Promise<EscalationRecord[]> {
  const result = await q.execute(sql`
    select (e->>'new')::int as layer, count(*)::int as escalations
    from audit_log a
    join tickets on ${tickets.id} = a.entity_id
    cross join jsonb_array_elements(a.changes) e
    where a.entity_type = 'ticket' and a.at >= ${p.from} and a.at < ${p.to} and e->>'field' = 'layer'
      and jsonb_typeof(e->'old') = 'number' and jsonb_typeof(e->'new') = 'number'
      and (e->>'new')::int > (e->>'old')::int and ${where(conds)}
    group by 1
    order by 1`)
  return rowsOf<EscalationRecord>(result)
}
