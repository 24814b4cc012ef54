import { and, asc, eq, inArray, sql } from 'drizzle-orm'
import { ticketScope } from '../../auth/policy.js'
import type { Db } from '../../db/client.js'
import { problemDetails, ticketLinks, tickets } from '../../db/schema/index.js'
import type { Ctx, Queryable, Tx } from '../../lib/context.js'
import { fieldError } from '../../lib/errors.js'
import { type Change, diff, recordAudit } from '../audit/audit.service.js'
import { formatNumber } from '../tickets/kinds.js'
import type { KindHooks } from '../tickets/tickets.ports.js'
import { fullColumns, type Row, scopeConditions } from '../tickets/tickets.repository.js'
import type { TransitionInput } from '../tickets/tickets.schemas.js'
import type { TicketService } from '../tickets/tickets.service.js'
import type { TicketSubscriber } from '../tickets/tickets.writer.js'
import type { WorkflowService } from '../workflows/workflows.service.js'

/** The stored link type of "incident is caused by problem". */
export const CAUSED_BY = 'caused_by'

const AUDITED = ['rootCause', 'workaround', 'knownError', 'knownErrorAt'] as const

type Detail = {
  rootCause: string | null
  workaround: string | null
  knownError: boolean
  knownErrorAt: Date | null
}
const EMPTY: Detail = { rootCause: null, workaround: null, knownError: false, knownErrorAt: null }

const detailColumns = {
  ticketId: problemDetails.ticketId,
  rootCause: problemDetails.rootCause,
  workaround: problemDetails.workaround,
  knownError: problemDetails.knownError,
  knownErrorAt: problemDetails.knownErrorAt
}

const filled = (v: unknown): v is string => typeof v === 'string' && v.trim() !== ''
const text = (v: unknown) => (typeof v === 'string' || v === null ? v : undefined)

/** The problem an incident is caused by, if any, as an SQL expression over the outer `tickets` row. */
const problemOfIncident = sql`(select l.to_id from ${ticketLinks} l join ${tickets} p on p.id = l.to_id
  where l.from_id = ${tickets.id} and l.type = ${CAUSED_BY} and p.kind = 'problem' limit 1)`

/** Incidents linked to each problem, counted in one query. */
export async function incidentCounts(q: Queryable, problemIds: readonly string[]): Promise<Map<string, number>> {
  if (problemIds.length === 0) return new Map()
  const rows = await q
    .select({ id: ticketLinks.toId, n: sql<number>`count(*)::int` })
    .from(ticketLinks)
    .innerJoin(tickets, eq(tickets.id, ticketLinks.fromId))
    .where(
      and(inArray(ticketLinks.toId, [...problemIds]), eq(ticketLinks.type, CAUSED_BY), eq(tickets.kind, 'incident'))
    )
    .groupBy(ticketLinks.toId)
  return new Map(rows.map(r => [r.id, Number(r.n)]))
}

/** The problem each incident is caused by (at most one each). */
export async function problemsOfIncidents(
  q: Queryable,
  incidentIds: readonly string[]
): Promise<Map<string, { problemId: string; number: number }>> {
  if (incidentIds.length === 0) return new Map()
  const rows = await q
    .select({ incidentId: ticketLinks.fromId, problemId: ticketLinks.toId, number: tickets.number })
    .from(ticketLinks)
    .innerJoin(tickets, eq(tickets.id, ticketLinks.toId))
    .where(
      and(inArray(ticketLinks.fromId, [...incidentIds]), eq(ticketLinks.type, CAUSED_BY), eq(tickets.kind, 'problem'))
    )
  return new Map(rows.map(r => [r.incidentId, { problemId: r.problemId, number: r.number }]))
}

interface HookDeps {
  db: Db
  tickets: TicketService
  workflows: WorkflowService
}

/** What problems add to the ticket core: root cause, workaround, known error, the incident cascade. */
export function problemHooks(deps: HookDeps): KindHooks {
  return problemModule(deps).hooks
}

/**
 * The problem kind's hooks and its ticket subscriber: a problem resolved with resolveLinkedIncidents
 * resolves its open incidents in the same transaction (single transitions and bulk alike).
 */
export function problemModule(deps: HookDeps): { hooks: KindHooks; subscriber: TicketSubscriber } {
  const subscriber: TicketSubscriber = {
    name: 'problems.resolve-linked-incidents',
    kinds: ['problem'],
    types: ['transitioned'],
    async onChange(ctx, change) {
      const input = change.transition
      // checkTransition refused the flag on any move but into a resolved status
      if (!input?.resolveLinkedIncidents) return
      await resolveLinkedIncidents(ctx.db, ctx, change.after, input)
    }
  }
  return { hooks: problemKindHooks(), subscriber }

  function problemKindHooks(): KindHooks {
    async function detailOf(q: Queryable, id: string): Promise<Detail> {
      const [row] = await q.select(detailColumns).from(problemDetails).where(eq(problemDetails.ticketId, id))
      return row ?? EMPTY
    }

    return {
      async prepareCreate(_q, _ctx, input) {
        const rootCause = text(input.rootCause) ?? null
        const workaround = text(input.workaround) ?? null
        const knownError = input.knownError === true
        if (knownError && !filled(workaround)) throw fieldError('workaround', 'a known error needs a workaround')
        const values: Detail = { rootCause, workaround, knownError, knownErrorAt: knownError ? new Date() : null }
        return {
          changes: diff(EMPTY, values, [...AUDITED]),
          write: async (tx: Tx, row: Row) => {
            await tx.insert(problemDetails).values({ ticketId: row.id, ...values })
          }
        }
      },

      async update(tx, _ctx, before, input): Promise<Change[]> {
        const rootCause = text(input.rootCause)
        const workaround = text(input.workaround)
        const knownError = typeof input.knownError === 'boolean' ? input.knownError : undefined
        if (rootCause === undefined && workaround === undefined && knownError === undefined) return []
        const old = await detailOf(tx, before.id)
        const next: Detail = {
          rootCause: rootCause === undefined ? old.rootCause : rootCause,
          workaround: workaround === undefined ? old.workaround : workaround,
          knownError: knownError ?? old.knownError,
          knownErrorAt: old.knownErrorAt
        }
        if (next.knownError && !filled(next.workaround)) {
          throw fieldError(
            'workaround',
            knownError
              ? 'a known error needs a workaround'
              : 'a known error keeps its workaround (set knownError false first)'
          )
        }
        if (!next.knownError) next.knownErrorAt = null
        else if (!old.knownError) next.knownErrorAt = new Date()
        const changes = diff(old, next, [...AUDITED])
        if (changes.length === 0) return []
        await tx
          .insert(problemDetails)
          .values({ ticketId: before.id, ...next })
          .onConflictDoUpdate({ target: problemDetails.ticketId, set: next })
        return changes
      },

      /** Two queries per page, whatever its size: the detail rows and the incident counts. */
      async details(q, ids) {
        const rows = await q
          .select(detailColumns)
          .from(problemDetails)
          .where(inArray(problemDetails.ticketId, [...ids]))
        const counts = await incidentCounts(q, ids)
        const byId = new Map(rows.map(r => [r.ticketId, r]))
        return new Map(
          ids.map(id => {
            const { ticketId: _id, ...d } = byId.get(id) ?? { ticketId: id, ...EMPTY }
            return [id, { ...d, incidentCount: counts.get(id) ?? 0 }]
          })
        )
      },

      async checkTransition(_q, target, _row, input) {
        if (input.resolveLinkedIncidents && target.phase !== 'resolved') {
          throw fieldError('resolveLinkedIncidents', `only when the problem is resolved (${target.key} is not)`)
        }
      },

      async requirement(q, row, need) {
        if (need !== 'rootCause' && need !== 'workaround') return null
        const d = await detailOf(q, row.id)
        if (need === 'rootCause') return filled(d.rootCause) ? null : 'record the root cause first'
        return filled(d.workaround) ? null : 'record a workaround first'
      },

      async remove(tx, ticketId) {
        await tx.delete(problemDetails).where(eq(problemDetails.ticketId, ticketId))
      },

      filterFields: {
        knownError: {
          sql: sql`coalesce((select ${problemDetails.knownError} from ${problemDetails} where ${problemDetails.ticketId} = ${tickets.id}), false)`,
          type: 'boolean'
        },
        rootCause: {
          sql: sql`(select ${problemDetails.rootCause} from ${problemDetails} where ${problemDetails.ticketId} = ${tickets.id})`,
          type: 'text',
          nullable: true
        }
      }
    }
  }

  /**
   * The problem was resolved with resolveLinkedIncidents: every linked incident still open moves to the
   * incident workflow's first resolved status, with the problem's resolution and a note naming it.
   */
  async function resolveLinkedIncidents(tx: Tx, ctx: Ctx, problem: Row, input: TransitionInput) {
    const incidentWf = await deps.workflows.get('incident', tx)
    const target = incidentWf.definition.statuses.find(s => s.phase === 'resolved')
    if (!target) throw fieldError('resolveLinkedIncidents', 'the incident workflow has no resolved status')
    const number = formatNumber('problem', problem.number)
    const resolution = input.resolution ?? problem.resolution ?? `Resolved with problem ${number}`
    const linked = await tx
      .select(fullColumns)
      .from(tickets)
      .innerJoin(ticketLinks, eq(ticketLinks.fromId, tickets.id))
      .where(
        and(
          eq(ticketLinks.toId, problem.id),
          eq(ticketLinks.type, CAUSED_BY),
          eq(tickets.kind, 'incident'),
          ...scopeConditions(ticketScope(ctx.actor))
        )
      )
      .orderBy(asc(tickets.id))
      .for('update', { of: tickets })
    const resolved: string[] = []
    for (const incident of linked) {
      if (incidentWf.status(incident.status)?.phase !== 'open') continue
      const moved = await deps.tickets.systemMove(ctx, incident, target.key, {
        resolution,
        note: `Resolved with problem ${number}: ${resolution}`
      })
      if (moved) resolved.push(formatNumber('incident', incident.number))
    }
    await recordAudit(tx, ctx, {
      entityType: 'ticket',
      entityId: problem.id,
      action: 'incidents.resolved',
      changes: [
        { field: 'resolvedIncidentCount', old: null, new: resolved.length },
        { field: 'resolvedIncidents', old: null, new: resolved }
      ]
    })
  }
}

/** What incidents show of problems: the one they are caused by (one indexed query per page). */
export function incidentProblemHooks(db: Db): KindHooks {
  // The single read (GET /incidents/:id) is a hot path: a named prepared statement for it
  const one = db
    .select({ problemId: ticketLinks.toId })
    .from(ticketLinks)
    .innerJoin(tickets, eq(tickets.id, ticketLinks.toId))
    .where(
      and(eq(ticketLinks.fromId, sql.placeholder('id')), eq(ticketLinks.type, CAUSED_BY), eq(tickets.kind, 'problem'))
    )
    .limit(1)
    .prepare('incident_problem_by_id')
  return {
    async details(q, ids, full) {
      // List rows stay one query: GraphQL fills problemId in for them when a query asks for it
      if (!full) return new Map()
      if (ids.length === 1 && q === db) {
        const [row] = await one.execute({ id: ids[0] })
        return new Map([[ids[0]!, { problemId: row?.problemId ?? null }]])
      }
      const found = await problemsOfIncidents(q, ids)
      return new Map(ids.map(id => [id, { problemId: found.get(id)?.problemId ?? null }]))
    },
    // GET /incidents/:id reads problemId with the row: one round trip on the hot path
    singleRead: { problemId: sql<string | null>`${problemOfIncident}` },
    filterFields: {
      problemId: { sql: problemOfIncident, type: 'uuid', nullable: true }
    }
  }
}
