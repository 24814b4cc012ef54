import { type SQL, sql } from 'drizzle-orm'
import { tickets } from '../../db/schema/index.js'
import type { Queryable } from '../../lib/context.js'
import { REPORT_FIELDS } from '../tickets/tickets.listing.js'

const rowsOf = <T>(result: unknown) => (result as { rows: T[] }).rows

export const GROUP_BY = ['team', 'organisation', 'service', 'priority', 'category', 'assignee'] as const
export type GroupBy = (typeof GROUP_BY)[number]

/** The list filter field a group is, for drill-down links. */
export const GROUP_FIELD: Record<GroupBy, string> = {
  team: 'teamId',
  organisation: 'organisationId',
  service: 'serviceId',
  priority: 'priority',
  category: 'categoryId',
  assignee: 'assigneeId'
}

/** The group's key and name expressions and the join naming it (tickets is never aliased: the filter names it). */
function grouping(groupBy: GroupBy | undefined): { key: SQL; name: SQL; join: SQL } {
  switch (groupBy) {
    case undefined:
      return { key: sql`null::text`, name: sql`null::text`, join: sql`` }
    case 'team':
      return {
        key: sql`${tickets.teamId}`,
        name: sql`g.name`,
        join: sql`left join teams g on g.id = ${tickets.teamId}`
      }
    case 'organisation':
      return {
        key: sql`${tickets.organisationId}`,
        name: sql`g.name`,
        join: sql`left join organisations g on g.id = ${tickets.organisationId}`
      }
    case 'service':
      return {
        key: sql`${tickets.serviceId}`,
        name: sql`g.name`,
        join: sql`left join services g on g.id = ${tickets.serviceId}`
      }
    case 'priority':
      return { key: sql`${tickets.priority}`, name: sql`null::text`, join: sql`` }
    case 'category':
      return {
        key: sql`${tickets.categoryId}`,
        name: sql`g.path`,
        join: sql`left join categories g on g.id = ${tickets.categoryId}`
      }
    case 'assignee':
      return {
        key: sql`${tickets.assigneeId}`,
        name: sql`g.display_name`,
        join: sql`left join users g on g.id = ${tickets.assigneeId}`
      }
  }
}

const where = (conds: SQL[]) => (conds.length ? sql.join(conds, sql` and `) : sql`true`)
export const isOpen = sql`(${tickets.resolvedAt} is null and ${tickets.closedAt} is null)`
export const doneAt = sql`coalesce(${tickets.resolvedAt}, ${tickets.closedAt})`
const dueAt = REPORT_FIELDS.resolutionDueAt.sql

export interface SummaryRecord {
  kind: string
  key: string | null
  name: string | null
  total: number
  open: number
  closed: number
  past_due: number
}

/** Tickets created in [from, to) per kind and group: open and done now, past due now. One GROUP BY. */
export async function summary(
  q: Queryable,
  p: { from: Date; to: Date; now: Date },
  groupBy: GroupBy | undefined,
  conds: SQL[]
): Promise<SummaryRecord[]> {
  const g = grouping(groupBy)
  const result = await q.execute(sql`
    select ${tickets.kind} as kind, ${g.key}::text as key, ${g.name} as name,
           count(*)::int as total,
           (count(*) filter (where ${isOpen}))::int as open,
           (count(*) filter (where not ${isOpen}))::int as closed,
           (count(*) filter (where ${isOpen} and ${dueAt} < ${p.now}))::int as past_due
    from tickets
    ${g.join}
    where ${tickets.createdAt} >= ${p.from} and ${tickets.createdAt} < ${p.to} and ${where(conds)}
    group by 1, 2, 3
    order by 1, 3 nulls last, 2 nulls last`)
  return rowsOf<SummaryRecord>(result)
}

export interface BucketRecord {
  bucket: number
  a: number
  b: number
  c: number
}

/**
 * One pass counting rows into buckets without grouping: `within[i]` holds for the rows of buckets 0..i
 * (each implies the next), so `count(*) filter (where within[i])` per edge and `count(*)` are cumulative
 * counts and the buckets their differences (bucketsOf). An aggregate without GROUP BY runs in parallel
 * and compares each row with constants only (a `case` per row and a hash aggregate cost 3x as much).
 */
function cumulative(within: SQL[]): SQL {
  const counts = [...within.map(w => sql`count(*) filter (where ${w})`), sql`count(*)`]
  return sql`json_build_array(${sql.join(counts, sql`, `)})`
}

function bucketsOf(cumulated: unknown): number[] {
  const c = (typeof cumulated === 'string' ? JSON.parse(cumulated) : cumulated) as (number | string)[]
  return c.map((v, i) => Number(v) - (i === 0 ? 0 : Number(c[i - 1])))
}

/** Rows of buckets 0..i, by days from `at` to `now` below edge i: `at` after the edge's moment. */
const youngerThan = (at: SQL, now: Date, edges: readonly number[]) =>
  edges.map(e => sql`${at} > ${new Date(now.getTime() - e * 86_400_000)}::timestamptz`)

/**
 * Per age bucket (days since creation at `now`): tickets issued, still open, done (issued − open).
 * Issued and open are counted apart: with no filter the first is an index-only pass over
 * `tickets_created_idx` and the second one over the partial `tickets_open_idx`, never the table.
 */
export async function ageing(q: Queryable, now: Date, edges: readonly number[], conds: SQL[]): Promise<BucketRecord[]> {
  const counts = cumulative(youngerThan(sql`${tickets.createdAt}`, now, edges))
  const result = await q.execute(sql`
    select (select ${counts} from tickets where ${tickets.createdAt} <= ${now} and ${where(conds)}) as issued,
           (select ${counts} from tickets where ${isOpen} and ${tickets.createdAt} <= ${now} and ${where(conds)}) as open`)
  const row = rowsOf<{ issued: unknown; open: unknown }>(result)[0]!
  const issued = bucketsOf(row.issued)
  const open = bucketsOf(row.open)
  return issued.map((a, i) => ({ bucket: i, a, b: open[i]!, c: a - open[i]! }))
}

/**
 * Done tickets (done in [from, to) when given) per bucket of days from creation to done (the list's
 * `resolutionDays`, compared as intervals: no per-row epoch arithmetic): with no filter an index-only
 * pass over `tickets_done_report_idx`.
 */
export async function resolutionTimes(
  q: Queryable,
  period: { from: Date; to: Date } | null,
  edges: readonly number[],
  conds: SQL[]
): Promise<BucketRecord[]> {
  const inPeriod = period ? sql`${doneAt} >= ${period.from} and ${doneAt} < ${period.to}` : sql`${doneAt} is not null`
  const span = sql`(${doneAt} - ${tickets.createdAt})`
  const result = await q.execute(sql`
    select ${cumulative(edges.map(e => sql`${span} < ${e}::float8 * interval '1 day'`))} as counts
    from tickets
    where ${inPeriod} and ${where(conds)}`)
  return bucketsOf(rowsOf<{ counts: unknown }>(result)[0]!.counts).map((a, i) => ({ bucket: i, a, b: 0, c: 0 }))
}

/**
 * Open past-due tickets per bucket of days since their resolution clock breached (or fell due): the
 * list's `resolutionDueAt` (the SLA resolution clock not stopped, at most one a ticket) as a join, so
 * the open tickets (`tickets_open_idx`) and the running clocks (`sla_clocks_running_resolution_idx`)
 * meet in one hash join instead of a probe per ticket.
 */
export async function pastDueAges(
  q: Queryable,
  now: Date,
  edges: readonly number[],
  conds: SQL[]
): Promise<BucketRecord[]> {
  const due = sql`coalesce(rc.breached_at, rc.due_at)`
  const result = await q.execute(sql`
    select ${cumulative(youngerThan(due, now, edges))} as counts
    from tickets
    join sla_clocks rc on rc.ticket_id = ${tickets.id} and rc.agreement = 'sla' and rc.target = 'resolution'
      and rc.state <> 'stopped'
    where ${isOpen} and ${due} < ${now} and ${where(conds)}`)
  return bucketsOf(rowsOf<{ counts: unknown }>(result)[0]!.counts).map((a, i) => ({ bucket: i, a, b: 0, c: 0 }))
}
