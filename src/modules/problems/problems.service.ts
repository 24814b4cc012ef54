import { and, desc, eq, inArray, type SQL, sql } from 'drizzle-orm'
import { authorize, type TicketScope, ticketScope } from '../../auth/policy.js'
import { categories, problemDetails, ticketLinks, tickets } from '../../db/schema/index.js'
import { type Ctx, type Deps, type Queryable, type TxCtx, withTx } from '../../lib/context.js'
import { type Cursor, decodeCursor, encodeCursor, pageOf } from '../../lib/cursor.js'
import { AppError, badRequest, conflict, fieldError, notFound } from '../../lib/errors.js'
import type { LinkService } from '../links/links.service.js'
import { formatNumber } from '../tickets/kinds.js'
import { type SummaryRow, scopeConditions, summaryColumns, type TicketView } from '../tickets/tickets.repository.js'
import type { CreateTicketInput, PageInput } from '../tickets/tickets.schemas.js'
import { type TicketService, visibleTo } from '../tickets/tickets.service.js'
import { CAUSED_BY, problemsOfIncidents } from './problems.hooks.js'
import type {
  KnownErrorInput,
  KnownErrorView,
  LinkIncidentsInput,
  ProblemFromIncidentInput
} from './problems.schemas.js'

type ProblemView = TicketView & Record<string, unknown>

/**
 * Problem management beyond the shared ticket core: incidents linked to a problem (each incident has
 * at most one), a problem raised from an incident, and the known-error search agents use.
 */
export function createProblemService(deps: Deps & { tickets: TicketService; links: LinkService }) {
  const { db } = deps

  /** The full shape of a problem read inside the transaction that changed it. */
  async function viewOf(ctx: TxCtx, id: string): Promise<ProblemView> {
    const row = await deps.tickets.visible(ctx, 'problem', id)
    return (await deps.tickets.views(ctx.db, [row]))[0] as ProblemView
  }

  /** List rows with each kind's detail, as the ticket lists answer them. */
  const summaries = (q: Queryable, rows: SummaryRow[]) => deps.tickets.summaries(q, rows)

  /** 409 naming the problem each incident is already caused by (`field`: the input that named them). */
  function conflictWithOthers(taken: { incident: string; problem: string; problemId: string }[], field?: string) {
    const list = taken.map(t => `${t.incident} is caused by ${t.problem}`).join(', ')
    const detail = `${list}; an incident has at most one problem (unlink it there first)`
    return conflict(
      detail,
      { conflicts: taken },
      field ? [{ field, message: `already linked to another problem: ${list}` }] : undefined
    )
  }

  return {
    /** Links incidents to the problem (caused_by), all or none; those already linked here are kept. */
    async linkIncidents(ctx: Ctx, problemId: string, input: LinkIncidentsInput): Promise<ProblemView> {
      const ids = [...new Set(input.incidentIds)]
      return withTx(ctx, async (tx, ctx) => {
        const problem = await deps.tickets.visible(ctx, 'problem', problemId)
        authorize(ctx.actor, 'ticket.update')
        // Locked in id order, so two requests over overlapping incidents queue instead of deadlocking
        const rows = await tx
          .select({
            id: tickets.id,
            kind: tickets.kind,
            number: tickets.number,
            organisationId: tickets.organisationId,
            requesterId: tickets.requesterId
          })
          .from(tickets)
          .where(inArray(tickets.id, ids))
          .orderBy(tickets.id)
          .for('update')
        const scope = ticketScope(ctx.actor)
        const found = new Map(rows.filter(r => r.kind === 'incident' && visibleTo(scope, r)).map(r => [r.id, r]))
        const unknown = ids.filter(id => !found.has(id))
        if (unknown.length) throw fieldError('incidentIds', `no such incident: ${unknown.join(', ')}`)
        const current = await problemsOfIncidents(tx, ids)
        const taken = ids
          .filter(id => current.has(id) && current.get(id)!.problemId !== problem.id)
          .map(id => ({
            incidentId: id,
            incident: formatNumber('incident', found.get(id)!.number),
            problemId: current.get(id)!.problemId,
            problem: formatNumber('problem', current.get(id)!.number)
          }))
        if (taken.length) throw conflictWithOthers(taken, 'incidentIds')
        for (const id of ids) {
          if (!current.has(id)) await deps.links.addLink(ctx, id, problem.id, CAUSED_BY)
        }
        return viewOf(ctx, problem.id)
      })
    },

    async unlinkIncident(ctx: Ctx, problemId: string, incidentId: string): Promise<ProblemView> {
      return withTx(ctx, async (_tx, ctx) => {
        const problem = await deps.tickets.visible(ctx, 'problem', problemId)
        authorize(ctx.actor, 'ticket.update')
        const incident = await deps.tickets.visible(ctx, 'incident', incidentId).catch(err => {
          if (err instanceof AppError && err.status === 404) return null
          throw err
        })
        if (!incident || !(await deps.links.removeLink(ctx, incidentId, problem.id, CAUSED_BY))) {
          throw notFound('incident linked to this problem')
        }
        return viewOf(ctx, problem.id)
      })
    },

    /** The incidents caused by the problem, newest first (keyset on createdAt, id). */
    async incidents(ctx: Ctx, problemId: string, page: PageInput) {
      await deps.tickets.visible(ctx, 'problem', problemId)
      const limit = page.limit ?? 50
      const cursor = page.cursor ? decodeCursor(page.cursor, 'problemIncidents') : null
      if (cursor && typeof cursor.value !== 'string') {
        throw badRequest('invalid cursor', [{ field: 'cursor', message: 'not a cursor from this API' }])
      }
      const where: SQL[] = [
        eq(ticketLinks.toId, problemId),
        eq(ticketLinks.type, CAUSED_BY),
        eq(tickets.kind, 'incident'),
        ...scopeConditions(ticketScope(ctx.actor))
      ]
      if (cursor) {
        where.push(sql`(${tickets.createdAt}, ${tickets.id}) < (${cursor.value}::timestamptz, ${cursor.id}::uuid)`)
      }
      const rows = await db
        .select(summaryColumns)
        .from(ticketLinks)
        .innerJoin(tickets, eq(tickets.id, ticketLinks.fromId))
        .where(and(...where))
        .orderBy(desc(tickets.createdAt), desc(tickets.id))
        .limit(limit + 1)
      const at = (r: SummaryRow) => ({ sort: 'problemIncidents', value: r.createdAt.toISOString(), id: r.id })
      const result = pageOf(rows, limit, at)
      return {
        // They are this problem's incidents: say so, as a single read of each would
        items: (await summaries(db, result.items)).map(i => ({ ...i, problemId })),
        nextCursor: result.nextCursor,
        cursors: result.items.map(r => encodeCursor(at(r)))
      }
    },

    /**
     * Raises a problem from an incident and links them, in one transaction. Title, description, impact,
     * urgency, category and team come from the incident unless the input says otherwise; category trees
     * are per kind, so the problem is filed under the problem category of the same path when there is one.
     */
    async createFromIncident(ctx: Ctx, incidentId: string, input: ProblemFromIncidentInput): Promise<ProblemView> {
      return withTx(ctx, async (tx, ctx) => {
        const incident = await deps.tickets.visible(ctx, 'incident', incidentId)
        authorize(ctx.actor, 'ticket.create')
        authorize(ctx.actor, 'ticket.update')
        const current = (await problemsOfIncidents(tx, [incident.id])).get(incident.id)
        if (current) {
          throw conflictWithOthers([
            {
              incident: formatNumber('incident', incident.number),
              problem: formatNumber('problem', current.number),
              problemId: current.problemId
            }
          ])
        }
        const categoryId = incident.category ? await problemCategory(tx, deps.tickets, incident.category) : null
        const create: CreateTicketInput = {
          title: input.title ?? incident.title,
          description: input.description ?? incident.description,
          impact: input.impact ?? incident.impact,
          urgency: input.urgency ?? incident.urgency,
          ...(categoryId ? { categoryId } : { category: incident.category }),
          ...(incident.teamId ? { teamId: incident.teamId } : {}),
          ...(input.rootCause !== undefined ? { rootCause: input.rootCause } : {}),
          ...(input.workaround !== undefined ? { workaround: input.workaround } : {})
        }
        const problem = (await deps.tickets.create(ctx, 'problem', create)).body
        await deps.links.addLink(ctx, incident.id, problem.id, CAUSED_BY)
        return viewOf(ctx, problem.id)
      })
    },

    /** Known errors for agents handling incidents: staff only (a workaround is internal know-how). */
    async knownErrors(ctx: Ctx, input: KnownErrorInput) {
      authorize(ctx.actor, 'ticket.readInternal')
      const limit = input.limit ?? 50
      const cursor = input.cursor ? decodeCursor(input.cursor, 'knownErrors') : null
      if (cursor && typeof cursor.value !== 'string') {
        throw badRequest('invalid cursor', [{ field: 'cursor', message: 'not a cursor from this API' }])
      }
      const rows = await knownErrorQuery(db, input.q ?? null, ticketScope(ctx.actor), cursor, limit)
      const at = (r: { id: string; knownErrorAt: Date | null }) => ({
        sort: 'knownErrors',
        value: (r.knownErrorAt ?? new Date(0)).toISOString(),
        id: r.id
      })
      const result = pageOf(rows, limit, at)
      return {
        // The problem hook's detail completes each row to the known-error shape
        items: (await summaries(db, result.items)) as unknown as KnownErrorView[],
        nextCursor: result.nextCursor,
        cursors: result.items.map(r => encodeCursor(at(r)))
      }
    }
  }
}

/**
 * Known errors matching `text` (all of them when null), newest known error first. The bare column
 * matches the partial index's predicate (a bound `= true` would not); the text match is a UNION of two
 * full-text index scans, so no plan reads every problem.
 */
export function knownErrorQuery(
  q: Queryable,
  text: string | null,
  scope: TicketScope | null,
  cursor: Cursor | null,
  limit: number
) {
  const where: SQL[] = [sql`${problemDetails.knownError}`, eq(tickets.kind, 'problem'), ...scopeConditions(scope)]
  if (text) {
    const query = sql`websearch_to_tsquery('simple', ${text})`
    where.push(
      sql`${problemDetails.ticketId} in (select ${tickets.id} from ${tickets} where ${tickets.search} @@ ${query}
        union select ${problemDetails.ticketId} from ${problemDetails} where ${problemDetails.search} @@ ${query})`
    )
  }
  if (cursor) {
    where.push(
      sql`(${problemDetails.knownErrorAt}, ${problemDetails.ticketId}) < (${cursor.value}::timestamptz, ${cursor.id}::uuid)`
    )
  }
  return q
    .select({ ...summaryColumns, knownErrorAt: problemDetails.knownErrorAt })
    .from(problemDetails)
    .innerJoin(tickets, eq(tickets.id, problemDetails.ticketId))
    .where(and(...where))
    .orderBy(desc(problemDetails.knownErrorAt), desc(problemDetails.ticketId))
    .limit(limit + 1)
}

/** The usable problem category with the same path as the incident's, if the problem tree has one. */
async function problemCategory(q: Queryable, core: TicketService, path: string): Promise<string | null> {
  const [row] = await q
    .select({ id: categories.id })
    .from(categories)
    .where(and(eq(categories.kind, 'problem'), eq(categories.path, path), eq(categories.active, true)))
    .limit(1)
  if (!row || !core.ports.categories) return null
  // Under an inactive parent it cannot be used: the problem keeps the path as plain text instead
  const usable = await core.ports.categories.resolve(q, 'problem', row.id).catch(() => null)
  return usable?.id ?? null
}

export type ProblemService = ReturnType<typeof createProblemService>
