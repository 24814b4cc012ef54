import type { Ctx, Deps } from '../../lib/context.js'
import type { Page } from '../../lib/cursor.js'
import { badRequest } from '../../lib/errors.js'
import { type Freshness, readReport } from '../../lib/freshness.js'
import { formatNumber, type TicketKind } from '../kinds/kinds.js'
import type { ReportAccess, ReportScope } from '../ticket-reports/report-access.js'
import {
  type BreachRecord,
  breaches,
  breachKeyset,
  compliance,
  type GroupBy,
  type Period
} from './sla-reports.repository.js'
import type { BreachesInput, BreachView, ComplianceInput, ComplianceRowView } from './sla-reports.schemas.js'

/** The period and the organisation the actor's reports are narrowed to (README: access). */
function periodOf(scope: ReportScope, input: { from: string; to: string; agreement?: 'sla' | 'ola' }): Period {
  const from = new Date(input.from)
  const to = new Date(input.to)
  if (Number.isNaN(from.getTime()))
    throw badRequest('from: not a date-time', [{ field: 'from', message: 'not a date-time' }])
  if (Number.isNaN(to.getTime())) throw badRequest('to: not a date-time', [{ field: 'to', message: 'not a date-time' }])
  if (from >= to) throw badRequest('to: must be after from', [{ field: 'to', message: 'must be after from' }])
  return { from, to, agreement: input.agreement ?? 'sla', organisationId: scope.organisationId }
}

type Figure = 'met' | 'breached' | 'inProgress'
const TARGETS = ['response', 'resolution'] as const

/**
 * The ticket-list RSQL for one figure (README: period rule), per target on the ticket's one SLA clock of
 * it, so the conditions of a target hold on the same clock: met (stopped in time, in the period),
 * breached (in the period), in progress (running or paused, started before to).
 */
function figureFilter(p: Period, figure: Figure, target?: 'response' | 'resolution'): string {
  const from = p.from.toISOString()
  const to = p.to.toISOString()
  const one = (t: string) => {
    switch (figure) {
      case 'met':
        return `sla.${t}State==met;sla.${t}StoppedAt=ge=${from};sla.${t}StoppedAt=lt=${to}`
      case 'breached':
        return `sla.${t}BreachedAt=ge=${from};sla.${t}BreachedAt=lt=${to}`
      case 'inProgress':
        return `sla.${t}State=in=(running,paused);sla.${t}StartedAt=lt=${to}`
    }
  }
  return target ? `(${one(target)})` : `(${TARGETS.map(t => `(${one(t)})`).join(',')})`
}

const GROUP_FIELD: Record<GroupBy, string> = {
  service: 'serviceId',
  team: 'teamId',
  organisation: 'organisationId',
  priority: 'priority'
}

/** The ticket list of a filter: GET /api/v1/tickets?filter=… */
const ticketList = (filter: string) => `/api/v1/tickets?filter=${encodeURIComponent(filter)}`

/**
 * The ticket lists behind a compliance row's figures: tickets with at least one such clock (a ticket
 * whose two clocks both count is one ticket, two clocks). SLA clocks only: the ticket list has no OLA
 * fields, so OLA rows answer null. Priority is the ticket's (the clock's, but for a re-target in flight).
 */
function rowLinks(p: Period, groupBy: GroupBy, key: string | null) {
  if (p.agreement !== 'sla') return null
  const field = GROUP_FIELD[groupBy]
  const group = key === null ? `${field}=isnull=true` : `${field}==${key}`
  const link = (figure: Figure) => ticketList(`${group};${figureFilter(p, figure)}`)
  return { met: link('met'), breached: link('breached'), inProgress: link('inProgress') }
}

/** The tickets of a breaches list (its filters, any page): null for OLA clocks. */
function breachesLink(p: Period, input: BreachesInput): string | null {
  if (p.agreement !== 'sla') return null
  const parts = [
    input.serviceId ? `serviceId==${input.serviceId}` : null,
    input.teamId ? `teamId==${input.teamId}` : null,
    input.organisationId ? `organisationId==${input.organisationId}` : null,
    input.priority !== undefined ? `priority==${input.priority}` : null,
    figureFilter(p, 'breached', input.target as 'response' | 'resolution' | undefined)
  ]
  return ticketList(parts.filter(Boolean).join(';'))
}

const percent = (met: number, total: number) => (total === 0 ? null : Math.round((met * 10_000) / total) / 100)

function breachView(r: BreachRecord): BreachView {
  const date = (v: Date | string | null) => (v === null ? null : new Date(v))
  return {
    id: r.id,
    ticketId: r.ticket_id,
    ticketNumber: formatNumber(r.kind as TicketKind, Number(r.number)),
    kind: r.kind,
    title: r.title,
    agreement: r.agreement,
    target: r.target,
    priority: Number(r.priority),
    serviceId: r.service_id,
    teamId: r.team_id,
    organisationId: r.organisation_id,
    dueAt: date(r.due_at),
    breachedAt: new Date(r.breached_at),
    stoppedAt: date(r.stopped_at),
    overdueMinutes: Number(r.overdue_minutes)
  }
}

/**
 * SLA/OLA compliance reports, computed on read from the clocks' current rows, through the read replica
 * when there is one; each answer says how fresh it is (asOf, replicaLagSeconds).
 */
export function createSlaReportService(deps: Pick<Deps, 'db' | 'readDb'>, access: Pick<ReportAccess, 'scope'>) {
  return {
    async compliance(ctx: Ctx, input: ComplianceInput) {
      // Customers may read compliance (their organisation's) when an admin shares reports with them
      const p = periodOf(await access.scope(ctx, true), input)
      return readReport(deps, ctx, async q => {
        const records = await compliance(q, p, input.groupBy)
        const rows: ComplianceRowView[] = records.map(r => {
          const total = r.met + r.breached
          return {
            key: r.key,
            name: r.name,
            met: r.met,
            breached: r.breached,
            total,
            percentMet: percent(r.met, total),
            inProgress: r.in_progress,
            tickets: rowLinks(p, input.groupBy, r.key)
          }
        })
        return { from: p.from, to: p.to, agreement: p.agreement, groupBy: input.groupBy, rows }
      })
    },

    /** A page of breaches and `tickets`, the ticket list behind the whole list (every page). */
    async breaches(ctx: Ctx, input: BreachesInput): Promise<Page<BreachView> & Freshness & { tickets: string | null }> {
      const p = periodOf(await access.scope(ctx, false), input)
      const limit = input.limit ?? 50
      return readReport(deps, ctx, async q => {
        const rows = await breaches(q, p, input, { limit, after: breachKeyset.after(input.cursor) })
        return { ...breachKeyset.page(rows.map(breachView), limit), tickets: breachesLink(p, input) }
      })
    },

    breachCursorOf: (b: BreachView) => breachKeyset.cursorOf(b)
  }
}
