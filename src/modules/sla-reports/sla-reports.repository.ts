import { type SQL, sql } from 'drizzle-orm'
import { slaClocks } from '../../db/schema/index.js'
import type { Queryable } from '../../lib/context.js'
import { columnKeyset, timeValue } from '../../lib/keyset.js'
import type { BreachView } from './sla-reports.schemas.js'

const rowsOf = <T>(result: unknown) => (result as { rows: T[] }).rows

export type GroupBy = 'service' | 'team' | 'organisation' | 'priority'

export interface Period {
  from: Date
  to: Date
  agreement: 'sla' | 'ola'
  /** Tickets narrowed to one organisation (customers, pinned tokens). */
  organisationId: string | null
}

/** The group's key and name expressions and the join naming it. */
function grouping(groupBy: GroupBy, agreement: 'sla' | 'ola'): { key: SQL; name: SQL; join: SQL } {
  switch (groupBy) {
    case 'service':
      return { key: sql`t.service_id`, name: sql`g.name`, join: sql`left join services g on g.id = t.service_id` }
    case 'organisation':
      return {
        key: sql`t.organisation_id`,
        name: sql`g.name`,
        join: sql`left join organisations g on g.id = t.organisation_id`
      }
    case 'team': {
      // An OLA clock counts for its own team; an SLA clock for the ticket's
      const key = agreement === 'ola' ? sql`c.team_id` : sql`t.team_id`
      return { key, name: sql`g.name`, join: sql`left join teams g on g.id = ${key}` }
    }
    case 'priority':
      return { key: sql`c.priority`, name: sql`null::text`, join: sql`` }
  }
}

// A clock counts in the period it was decided (README): breached by breached_at, met by stopped_at
const breachedIn = (p: Period) => sql`(c.breached_at >= ${p.from} and c.breached_at < ${p.to})`
const metIn = (p: Period) =>
  sql`(c.breached_at is null and c.state = 'stopped' and c.stopped_at >= ${p.from} and c.stopped_at < ${p.to})`
const openAt = (p: Period) => sql`(c.breached_at is null and c.state <> 'stopped' and c.started_at < ${p.to})`
const scoped = (p: Period) => (p.organisationId ? sql`and t.organisation_id = ${p.organisationId}` : sql``)

export interface ComplianceRecord {
  key: string | null
  name: string | null
  met: number
  breached: number
  in_progress: number
}

/** Met, breached and in-progress clocks per group, counted by the database in one GROUP BY. */
export async function compliance(q: Queryable, p: Period, groupBy: GroupBy): Promise<ComplianceRecord[]> {
  const g = grouping(groupBy, p.agreement)
  const result = await q.execute(sql`
    select ${g.key}::text as key, ${g.name} as name,
           (count(*) filter (where ${metIn(p)}))::int as met,
           (count(*) filter (where ${breachedIn(p)}))::int as breached,
           (count(*) filter (where ${openAt(p)}))::int as in_progress
    from sla_clocks c
    join tickets t on t.id = c.ticket_id
    ${g.join}
    where c.agreement = ${p.agreement} ${scoped(p)}
      and (${breachedIn(p)} or ${metIn(p)} or ${openAt(p)})
    group by 1, 2
    order by 2 nulls last, 1 nulls last`)
  return rowsOf<ComplianceRecord>(result)
}

export interface BreachRecord {
  id: string
  ticket_id: string
  kind: string
  number: number
  title: string
  agreement: 'sla' | 'ola'
  target: string
  priority: number
  service_id: string | null
  team_id: string | null
  organisation_id: string | null
  due_at: Date | string | null
  breached_at: Date | string
  stopped_at: Date | string | null
  overdue_minutes: number
}

/** Keyset of the breaches list (over the API shape: its rows' breachedAt and id). */
export const breachKeyset = columnKeyset<BreachView, string>(
  'breachedAt',
  slaClocks.breachedAt,
  slaClocks.id,
  row => new Date(row.breachedAt).toISOString(),
  timeValue
)

export interface BreachFilter {
  serviceId?: string
  teamId?: string
  organisationId?: string
  priority?: number
  target?: string
}

/** Clocks breached in the period, oldest breach first, one keyset page (limit + 1 rows). */
export async function breaches(
  q: Queryable,
  p: Period,
  filter: BreachFilter,
  page: { limit: number; after?: SQL }
): Promise<BreachRecord[]> {
  const teamKey = p.agreement === 'ola' ? sql`sla_clocks.team_id` : sql`t.team_id`
  const conds: SQL[] = [
    sql`sla_clocks.agreement = ${p.agreement}`,
    sql`sla_clocks.breached_at >= ${p.from}`,
    sql`sla_clocks.breached_at < ${p.to}`
  ]
  if (p.organisationId) conds.push(sql`t.organisation_id = ${p.organisationId}`)
  if (filter.serviceId) conds.push(sql`t.service_id = ${filter.serviceId}`)
  if (filter.teamId) conds.push(sql`${teamKey} = ${filter.teamId}`)
  if (filter.organisationId) conds.push(sql`t.organisation_id = ${filter.organisationId}`)
  if (filter.priority !== undefined) conds.push(sql`sla_clocks.priority = ${filter.priority}`)
  if (filter.target) conds.push(sql`sla_clocks.target = ${filter.target}`)
  if (page.after) conds.push(page.after)
  const result = await q.execute(sql`
    select sla_clocks.id, sla_clocks.ticket_id, t.kind, t.number, t.title, sla_clocks.agreement, sla_clocks.target,
           sla_clocks.priority, t.service_id, ${teamKey} as team_id, t.organisation_id, sla_clocks.due_at,
           sla_clocks.breached_at, sla_clocks.stopped_at,
           floor(extract(epoch from (coalesce(sla_clocks.stopped_at, now()) - sla_clocks.breached_at)) / 60)::int
             as overdue_minutes
    from sla_clocks
    join tickets t on t.id = sla_clocks.ticket_id
    where ${sql.join(conds, sql` and `)}
    order by ${sql.join(breachKeyset.orderBy, sql`, `)}
    limit ${page.limit + 1}`)
  return rowsOf<BreachRecord>(result)
}
