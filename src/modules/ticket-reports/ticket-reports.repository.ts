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
const resolutionDays = REPORT_FIELDS.resolutionDays.sql

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

/** `case` giving the bucket index of a value in days against ascending edges (0 below the first edge). */
function bucketOf(days: SQL, edges: readonly number[]): SQL {
  const whens = edges.map((e, i) => sql`when ${days} < ${e}::float8 then ${i}`)
  return sql`(case ${sql.join(whens, sql` `)} else ${edges.length} end)`
}

/**
 * `case` giving the bucket index of the days from `at` to `now` against ascending edges: the same as
 * bucketOf over those days, but each row compares a timestamp with the edges' moments, computed once
 * (per-row numeric epoch arithmetic cost most of a pass over a million tickets).
 */
function ageBucketOf(at: SQL, now: Date, edges: readonly number[]): SQL {
  const whens = edges.map(
    (e, i) => sql`when ${at} > ${new Date(now.getTime() - e * 86_400_000)}::timestamptz then ${i}`
  )
  return sql`(case ${sql.join(whens, sql` `)} else ${edges.length} end)`
}

export interface BucketRecord {
  bucket: number
  a: number
  b: number
  c: number
}

/** Per age bucket (days since creation at `now`): tickets issued, still open, done. */
export async function ageing(q: Queryable, now: Date, edges: readonly number[], conds: SQL[]): Promise<BucketRecord[]> {
  const result = await q.execute(sql`
    select ${ageBucketOf(sql`${tickets.createdAt}`, now, edges)} as bucket,
           count(*)::int as a,
           (count(*) filter (where ${isOpen}))::int as b,
           (count(*) filter (where not ${isOpen}))::int as c
    from tickets
    where ${tickets.createdAt} <= ${now} and ${where(conds)}
    group by 1`)
  return rowsOf<BucketRecord>(result)
}

/** Done tickets (done in [from, to) when given) per bucket of days from creation to done. */
export async function resolutionTimes(
  q: Queryable,
  period: { from: Date; to: Date } | null,
  edges: readonly number[],
  conds: SQL[]
): Promise<BucketRecord[]> {
  const inPeriod = period ? sql`${doneAt} >= ${period.from} and ${doneAt} < ${period.to}` : sql`${doneAt} is not null`
  const result = await q.execute(sql`
    select ${bucketOf(resolutionDays, edges)} as bucket, count(*)::int as a, 0 as b, 0 as c
    from tickets
    where ${inPeriod} and ${where(conds)}
    group by 1`)
  return rowsOf<BucketRecord>(result)
}

/** Open past-due tickets per bucket of days since their resolution clock breached (or fell due). */
export async function pastDueAges(
  q: Queryable,
  now: Date,
  edges: readonly number[],
  conds: SQL[]
): Promise<BucketRecord[]> {
  const result = await q.execute(sql`
    select ${ageBucketOf(sql`d.due`, now, edges)} as bucket, count(*)::int as a, 0 as b, 0 as c
    from (select ${dueAt} as due from tickets where ${isOpen} and ${where(conds)}) d
    where d.due < ${now}
    group by 1`)
  return rowsOf<BucketRecord>(result)
}
