import { eq, type SQL } from 'drizzle-orm'
import { tickets } from '../../db/schema/index.js'
import type { Ctx, Deps } from '../../lib/context.js'
import { badRequest, fieldError } from '../../lib/errors.js'
import { readReport, withoutJit } from '../../lib/freshness.js'
import type { Services } from '../../lib/ports.js'
import * as rsql from './drill-down.js'
import { createReportAccess, type ReportScope } from './report-access.js'
import {
  ageing,
  type BucketRecord,
  GROUP_FIELD,
  pastDueAges,
  resolutionTimes,
  summary
} from './ticket-reports.repository.js'
import type {
  AgeingInput,
  AgeingRowView,
  SummaryInput,
  SummaryRowView,
  TimingRowView,
  TrendBucketView,
  TrendsInput
} from './ticket-reports.schemas.js'
import { escalations, rates, timings, trendSeries } from './trends.repository.js'

const MAX_BUCKETS = 1000
const DAY_MS = 86_400_000
const round2 = (n: number | null) => (n === null ? null : Math.round(n * 100) / 100)
const percent = (part: number, whole: number) => (whole === 0 ? null : Math.round((part * 10_000) / whole) / 100)
const date = (v: Date | string) => new Date(v)

function period(input: { from: string; to: string }): { from: Date; to: Date } {
  const from = new Date(input.from)
  const to = new Date(input.to)
  if (Number.isNaN(from.getTime())) throw fieldError('from', 'not a date-time')
  if (Number.isNaN(to.getTime())) throw fieldError('to', 'not a date-time')
  if (from >= to) throw badRequest('to: must be after from', [{ field: 'to', message: 'must be after from' }])
  return { from, to }
}

function edgesOf(field: string, value: string | undefined, defaults: number[]): number[] {
  if (value === undefined) return defaults
  const edges = value.split(',').map(Number)
  if (edges.some((e, i) => e <= 0 || (i > 0 && e <= edges[i - 1]!)))
    throw badRequest(`${field}: edges must be positive and ascending`, [
      { field, message: 'edges must be positive and ascending' }
    ])
  return edges
}

function timeZoneOf(value: string | undefined): string {
  const tz = value ?? 'UTC'
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz })
  } catch {
    throw badRequest(`timeZone: "${tz}" is not an IANA time zone`, [
      { field: 'timeZone', message: 'not an IANA time zone' }
    ])
  }
  return tz
}

/** The buckets of edges as [fromDays, toDays) pairs, the last one open-ended. */
const ranges = (edges: number[]) => [0, ...edges].map((lo, i) => ({ lo, hi: edges[i] ?? null }))

/** Ticket summary, ageing and trend reports: aggregate SQL over the ticket list's own conditions. */
export function createTicketReportService(deps: Deps & Pick<Services, 'tickets' | 'slaClocks'>) {
  const access = createReportAccess(deps.db)
  const now = () => deps.slaClocks.clock.now()

  /** The list's conditions for the report's filter, narrowed to the scope; and the filter's RSQL part. */
  async function selection(ctx: Ctx, scope: ReportScope, filter: string | undefined) {
    const conds: SQL[] = await deps.tickets.listConditions(ctx, null, filter ? { filter } : {})
    if (scope.organisationId) conds.push(eq(tickets.organisationId, scope.organisationId))
    const base = rsql.all(filter, scope.organisationId ? rsql.equals('organisationId', scope.organisationId) : null)
    const link = (...parts: (string | null)[]) => rsql.ticketsUrl(rsql.all(base, ...parts))
    return { conds, link }
  }

  return {
    access,

    async summary(ctx: Ctx, input: SummaryInput) {
      const scope = await access.scope(ctx, true)
      const p = period(input)
      const { conds, link } = await selection(ctx, scope, input.filter)
      return readReport(
        deps,
        ctx,
        async (db, { asOf }) => {
          const records = await withoutJit(db, q => summary(q, { ...p, now: asOf }, input.groupBy, conds))
          const created = rsql.between('createdAt', p.from, p.to)
          const rows: SummaryRowView[] = records.map(r => {
            const key = input.groupBy === 'priority' && r.key !== null ? Number(r.key) : r.key
            const group = input.groupBy ? rsql.equals(GROUP_FIELD[input.groupBy], key) : null
            const row = (extra: string | null) => link(`kind==${r.kind}`, created, group, extra)
            return {
              kind: r.kind,
              key: r.key,
              name: r.name,
              total: r.total,
              open: r.open,
              closed: r.closed,
              pastDue: r.past_due,
              tickets: row(null),
              openTickets: row(rsql.OPEN),
              closedTickets: row(rsql.DONE),
              pastDueTickets: row(rsql.pastDue(asOf))
            }
          })
          return { ...p, groupBy: input.groupBy ?? null, rows }
        },
        now
      )
    },

    async ageing(ctx: Ctx, input: AgeingInput) {
      const scope = await access.scope(ctx, false)
      const age = edgesOf('edges', input.edges, [30, 60, 90])
      const resolution = edgesOf('resolutionEdges', input.resolutionEdges, [2, 7, 30, 60])
      const overdue = edgesOf('pastDueEdges', input.pastDueEdges, [1, 7, 30])
      if ((input.from === undefined) !== (input.to === undefined))
        throw fieldError(input.from === undefined ? 'from' : 'to', 'from and to go together')
      const done = input.from && input.to ? period({ from: input.from, to: input.to }) : null
      const { conds, link } = await selection(ctx, scope, input.filter)
      return readReport(
        deps,
        ctx,
        async (db, { asOf }) => {
          const [ages, resolutions, pastDues] = await Promise.all([
            withoutJit(db, q => ageing(q, asOf, age, conds)),
            withoutJit(db, q => resolutionTimes(q, done, resolution, conds)),
            withoutJit(db, q => pastDueAges(q, asOf, overdue, conds))
          ])
          const at = (records: BucketRecord[], i: number) => records.find(r => Number(r.bucket) === i)
          const rows: AgeingRowView[] = [
            ...ranges(age).map(({ lo, hi }, i) => ({
              section: 'age' as const,
              fromDays: lo,
              toDays: hi,
              count: at(ages, i)?.b ?? 0,
              issued: at(ages, i)?.a ?? 0,
              closed: at(ages, i)?.c ?? 0,
              tickets: link(rsql.ageBetween('createdAt', asOf, lo, hi), rsql.OPEN)
            })),
            ...ranges(resolution).map(({ lo, hi }, i) => ({
              section: 'resolution' as const,
              fromDays: lo,
              toDays: hi,
              count: at(resolutions, i)?.a ?? 0,
              issued: null,
              closed: null,
              tickets: link(
                done ? rsql.doneBetween(done.from, done.to) : rsql.DONE,
                `resolutionDays=ge=${lo}${hi === null ? '' : `;resolutionDays=lt=${hi}`}`
              )
            })),
            ...ranges(overdue).map(({ lo, hi }, i) => ({
              section: 'pastDue' as const,
              fromDays: lo,
              toDays: hi,
              count: at(pastDues, i)?.a ?? 0,
              issued: null,
              closed: null,
              tickets: link(rsql.pastDue(asOf), rsql.ageBetween('resolutionDueAt', asOf, lo, hi))
            }))
          ]
          return { rows }
        },
        now
      )
    },

    async trends(ctx: Ctx, input: TrendsInput) {
      const scope = await access.scope(ctx, false)
      const p = period(input)
      const interval = input.interval ?? 'day'
      const timeZone = timeZoneOf(input.timeZone)
      const unitDays = { day: 1, week: 7, month: 28 }[interval]
      if ((p.to.getTime() - p.from.getTime()) / DAY_MS / unitDays > MAX_BUCKETS)
        throw badRequest(`to: at most ${MAX_BUCKETS} ${interval}s a report`, [
          { field: 'to', message: `at most ${MAX_BUCKETS} ${interval}s a report` }
        ])
      const { conds, link } = await selection(ctx, scope, input.filter)
      return readReport(
        deps,
        ctx,
        async db => {
          const [series, timed, rated, escalated] = await Promise.all([
            withoutJit(db, q => trendSeries(q, { ...p, interval, timeZone }, conds)),
            withoutJit(db, q => timings(q, p, conds)),
            withoutJit(db, q => rates(q, p, conds)),
            withoutJit(db, q => escalations(q, p, conds))
          ])
          const buckets: TrendBucketView[] = series.map(b => {
            const start = date(b.start_at)
            const end = date(b.end_at)
            return {
              label: b.label,
              start,
              end,
              created: b.created,
              resolved: b.resolved,
              backlog: b.backlog,
              tickets: link(rsql.between('createdAt', start, end)),
              resolvedTickets: link(rsql.doneBetween(start, end)),
              backlogTickets: link(rsql.openAt(end))
            }
          })
          const created = rsql.between('createdAt', p.from, p.to)
          const timingRows: TimingRowView[] = timed.map(r => ({
            teamId: r.team_id,
            teamName: r.team_name,
            priority: r.priority,
            count: r.tickets,
            responded: r.responded,
            responseMeanMinutes: round2(r.response_mean),
            responseMedianMinutes: round2(r.response_median),
            responseBusinessTime: r.response_business,
            resolved: r.resolved,
            resolveMeanMinutes: round2(r.resolve_mean),
            resolveMedianMinutes: round2(r.resolve_median),
            resolveBusinessTime: r.resolve_business,
            tickets: link(created, rsql.equals('teamId', r.team_id), rsql.equals('priority', r.priority))
          }))
          return {
            ...p,
            interval,
            timeZone,
            buckets,
            timings: timingRows,
            rates: {
              resolved: rated.resolved,
              firstContact: rated.first_contact,
              firstContactRate: percent(rated.first_contact, rated.resolved),
              reopened: rated.reopened,
              reopenRate: percent(rated.reopened, rated.resolved),
              tickets: link(rsql.doneBetween(p.from, p.to))
            },
            escalations: escalated
          }
        },
        now
      )
    }
  }
}
