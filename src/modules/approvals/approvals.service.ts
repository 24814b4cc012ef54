import { and, asc, desc, eq, gt, inArray, type SQL } from 'drizzle-orm'
import { authorize, ticketScope } from '../../auth/policy.js'
import { approvalRounds, approvals, tickets, users } from '../../db/schema/index.js'
import { type Ctx, type Deps, type Queryable, type Tx, withTx } from '../../lib/context.js'
import { decodeCursor, type Page, pageOf } from '../../lib/cursor.js'
import { badRequest, conflict, fieldError, forbidden } from '../../lib/errors.js'
import { isUuid, uuidv7 } from '../../lib/ids.js'
import { type Change, recordAudit } from '../audit/audit.service.js'
import { appendOutbox } from '../notifications/outbox.js'
import { formatNumber, KIND_INFO, type TicketKind } from '../tickets/kinds.js'
import type { ApprovalOutcome, ApprovalPort } from '../tickets/tickets.ports.js'
import type { Row } from '../tickets/tickets.repository.js'
import { scopeConditions } from '../tickets/tickets.repository.js'
import type { TicketService } from '../tickets/tickets.service.js'
import { approversFor, outcomeOf, policyOfTicket } from './approvals.policy.js'
import type { ApprovalState, DecisionInput, MyApprovalsInput, RoundRule } from './approvals.schemas.js'

type RoundRow = typeof approvalRounds.$inferSelect
type ApprovalRow = typeof approvals.$inferSelect

export interface ApprovalView {
  id: string
  ticketId: string
  round: number
  approverId: string
  approverName: string
  state: ApprovalState
  comment: string | null
  decidedAt: Date | null
  createdAt: Date
}
export interface RoundView {
  ticketId: string
  round: number
  rule: RoundRule
  quorum: number | null
  state: ApprovalState
  startedAt: Date
  decidedAt: Date | null
  approvals: ApprovalView[]
}

const QUEUE_SORT = 'my-approvals'
const audit = (tx: Queryable, ctx: Ctx, ticketId: string, action: string, changes: Change[]) =>
  recordAudit(tx, ctx, { entityType: 'ticket', entityId: ticketId, action, changes })

/**
 * The rounds themselves, over the database alone: the ticket core's ApprovalPort is built from this, so
 * the port needs no ticket service (which needs the port) and the wiring stays one-directional.
 */
function createApprovalRounds(maxAttempts?: number) {
  async function latestRound(q: Queryable, ticketId: string): Promise<RoundRow | undefined> {
    const [round] = await q
      .select()
      .from(approvalRounds)
      .where(eq(approvalRounds.ticketId, ticketId))
      .orderBy(desc(approvalRounds.round))
      .limit(1)
    return round
  }

  async function rowsOf(q: Queryable, ticketId: string, round: number): Promise<ApprovalRow[]> {
    return q
      .select()
      .from(approvals)
      .where(and(eq(approvals.ticketId, ticketId), eq(approvals.round, round)))
  }

  /** Opens a round's rows for these approvers and records who they are. */
  async function seat(tx: Tx, ctx: Ctx, row: Row, round: number, approverIds: string[], change: Change[]) {
    await tx
      .insert(approvals)
      .values(approverIds.map(approverId => ({ id: uuidv7(), ticketId: row.id, round, approverId })))
    await audit(tx, ctx, row.id, 'approval.started', [
      { field: 'approvalRound', old: null, new: round },
      ...change,
      { field: 'approverIds', old: null, new: approverIds }
    ])
    // The approvers hear of it in this transaction (the shipped rule: approvers by mail)
    await appendOutbox(
      tx,
      [{ event: 'approval.requested', ticketId: row.id, actorId: ctx.actor.id, payload: { round, approverIds } }],
      maxAttempts
    )
  }

  /** Ends an open round: its state, the time, and every undecided row cancelled. */
  async function close(tx: Tx, ticketId: string, round: number, state: 'approved' | 'rejected' | 'cancelled') {
    const now = new Date()
    await tx
      .update(approvalRounds)
      .set({ state, decidedAt: now })
      .where(and(eq(approvalRounds.ticketId, ticketId), eq(approvalRounds.round, round)))
    await tx
      .update(approvals)
      .set({ state: 'cancelled', decidedAt: now })
      .where(and(eq(approvals.ticketId, ticketId), eq(approvals.round, round), eq(approvals.state, 'pending')))
  }

  const port: ApprovalPort = {
    async start(tx, ctx, row, _status): Promise<ApprovalOutcome> {
      const policy = await policyOfTicket(tx, row)
      const round = ((await latestRound(tx, row.id))?.round ?? 0) + 1
      if (policy.need === 'none') {
        const now = new Date()
        await tx.insert(approvalRounds).values({
          ticketId: row.id,
          round,
          rule: 'none',
          quorum: null,
          state: 'approved',
          startedAt: now,
          decidedAt: now
        })
        await audit(tx, ctx, row.id, 'approval.started', [
          { field: 'approvalRound', old: null, new: round },
          { field: 'approvalRule', old: null, new: 'none' },
          { field: 'note', old: null, new: `approved without a decision: ${policy.why}` }
        ])
        return 'approved'
      }
      const rule = policy.need === 'rule' ? policy.rule : 'all'
      const quorum = policy.need === 'rule' && policy.rule === 'quorum' ? policy.quorum : null
      await tx.insert(approvalRounds).values({ ticketId: row.id, round, rule, quorum, state: 'pending' })
      const seats = policy.need === 'rule' ? await approversFor(tx, policy) : null
      if (policy.need === 'rule' && seats?.reachable) {
        await seat(tx, ctx, row, round, seats.approvers, [
          { field: 'approvalRule', old: null, new: rule },
          ...(quorum !== null ? [{ field: 'approvalQuorum', old: null, new: quorum }] : [])
        ])
        return 'pending'
      }
      // Nobody can approve: the round waits, empty, until an admin fixes the policy (the next decision
      // attempt seats the approvers named then). Never approved by default.
      const why =
        policy.need === 'rule'
          ? `${policy.source} names ${seats?.approvers.length ?? 0} active staff approver(s)` +
            (quorum !== null ? ` for a quorum of ${quorum}` : '')
          : policy.why
      await audit(tx, ctx, row.id, 'approval.blocked', [
        { field: 'approvalRound', old: null, new: round },
        { field: 'approvalRule', old: null, new: rule },
        { field: 'note', old: null, new: `waiting: nobody can approve yet (${why}); an admin must name approvers` }
      ])
      return 'pending'
    },

    async isApproved(q, ticketId) {
      return (await latestRound(q, ticketId))?.state === 'approved'
    },

    async cancelOpen(tx, ctx, ticketId) {
      const round = await latestRound(tx, ticketId)
      if (round?.state !== 'pending') return
      await close(tx, ticketId, round.round, 'cancelled')
      await audit(tx, ctx, ticketId, 'approval.cancelled', [
        { field: 'approvalRound', old: null, new: round.round },
        { field: 'roundState', old: 'pending', new: 'cancelled' }
      ])
    }
  }

  /**
   * A round opened while nobody could approve gets its approvers from the policy in force now (an
   * admin fixed it since). Answers the seated rows, or the outcome when no approval is needed any more.
   */
  async function reseat(tx: Tx, ctx: Ctx, row: Row, round: RoundRow): Promise<ApprovalRow[] | 'approved'> {
    const policy = await policyOfTicket(tx, row)
    if (policy.need === 'none') return 'approved'
    if (policy.need !== 'rule') return []
    const seats = await approversFor(tx, policy)
    if (!seats.reachable) return []
    const quorum = policy.rule === 'quorum' ? policy.quorum : null
    await tx
      .update(approvalRounds)
      .set({ rule: policy.rule, quorum })
      .where(and(eq(approvalRounds.ticketId, row.id), eq(approvalRounds.round, round.round)))
    await seat(tx, ctx, row, round.round, seats.approvers, [
      { field: 'approvalRule', old: round.rule, new: policy.rule },
      ...(quorum !== null ? [{ field: 'approvalQuorum', old: round.quorum, new: quorum }] : [])
    ])
    round.rule = policy.rule
    round.quorum = quorum
    return rowsOf(tx, row.id, round.round)
  }

  /** Rounds of several tickets with their decisions: two queries whatever the count. */
  async function roundsOf(q: Queryable, ticketIds: readonly string[]): Promise<Map<string, RoundView[]>> {
    const out = new Map<string, RoundView[]>(ticketIds.map(id => [id, []]))
    if (ticketIds.length === 0) return out
    const ids = [...new Set(ticketIds)]
    const [rounds, rows] = await Promise.all([
      q
        .select()
        .from(approvalRounds)
        .where(inArray(approvalRounds.ticketId, ids))
        .orderBy(asc(approvalRounds.ticketId), asc(approvalRounds.round)),
      q
        .select({ approval: approvals, approverName: users.displayName })
        .from(approvals)
        .innerJoin(users, eq(users.id, approvals.approverId))
        .where(inArray(approvals.ticketId, ids))
        .orderBy(asc(approvals.round), asc(approvals.id))
    ])
    const views = new Map<string, RoundView>()
    for (const r of rounds) {
      const view: RoundView = {
        ticketId: r.ticketId,
        round: r.round,
        rule: r.rule as RoundRule,
        quorum: r.quorum,
        state: r.state as ApprovalState,
        startedAt: r.startedAt,
        decidedAt: r.decidedAt,
        approvals: []
      }
      views.set(`${r.ticketId}:${r.round}`, view)
      out.get(r.ticketId)?.push(view)
    }
    for (const { approval: a, approverName } of rows) {
      views.get(`${a.ticketId}:${a.round}`)?.approvals.push({
        id: a.id,
        ticketId: a.ticketId,
        round: a.round,
        approverId: a.approverId,
        approverName,
        state: a.state as ApprovalState,
        comment: a.comment,
        decidedAt: a.decidedAt,
        createdAt: a.createdAt
      })
    }
    return out
  }

  const roundView = async (q: Queryable, ticketId: string, round: number) =>
    (await roundsOf(q, [ticketId])).get(ticketId)!.find(r => r.round === round)!

  return { latestRound, rowsOf, seat, close, port, reseat, roundsOf, roundView }
}

/** The ticket core's ApprovalPort: open, check and cancel rounds as tickets move. */
export const createApprovalPort = (maxAttempts?: number): ApprovalPort => createApprovalRounds(maxAttempts).port

/**
 * The approval engine: rounds of approval for any ticket whose workflow status asks for one (changes
 * by their type's policy, service requests by their offering). It is the ticket core's ApprovalPort and
 * the use cases behind /approvals: decide, list a ticket's rounds, an approver's own queue.
 */
export function createApprovalService(deps: Deps & { tickets: TicketService }) {
  const { db } = deps
  const { latestRound, rowsOf, close, port, reseat, roundsOf, roundView } = createApprovalRounds(
    deps.config.NOTIFY_MAX_ATTEMPTS
  )

  return {
    port,

    /** Rounds of tickets the caller already reads (GraphQL loaders batch a page of tickets). */
    async roundsFor(ctx: Ctx, ticketIds: readonly string[]): Promise<Map<string, RoundView[]>> {
      authorize(ctx.actor, 'ticket.read')
      return roundsOf(db, ticketIds)
    },

    /**
     * The caller's decision in the ticket's open round. The ticket row is locked first, so decisions
     * on one ticket run one after another; the outcome moves the ticket in the same transaction.
     */
    async decide(ctx: Ctx, kind: TicketKind | null, ticketId: string, input: DecisionInput): Promise<RoundView> {
      authorize(ctx.actor, 'ticket.approve')
      const comment = input.comment?.trim() || null
      if (input.decision === 'reject' && !comment) throw fieldError('comment', 'required to reject: say why')
      return withTx(ctx, async (tx, ctx) => {
        const row = await deps.tickets.visible(ctx, kind, ticketId)
        const noun = KIND_INFO[row.kind as TicketKind].noun
        const round = await latestRound(tx, row.id)
        if (!round) throw conflict(`no approval is open on this ${noun}`)
        let rows = await rowsOf(tx, row.id, round.round)
        if (round.state !== 'pending') {
          if (!rows.some(r => r.approverId === ctx.actor.id)) throw forbidden('you are not an approver of this round')
          throw conflict(`this round is already ${round.state}`, { roundState: round.state })
        }
        if (rows.length === 0) {
          const seated = await reseat(tx, ctx, row, round)
          if (seated === 'approved') {
            await close(tx, row.id, round.round, 'approved')
            await audit(tx, ctx, row.id, 'approval.decided', [
              { field: 'approvalRound', old: null, new: round.round },
              { field: 'roundState', old: 'pending', new: 'approved' },
              { field: 'note', old: null, new: 'no approval is needed under the policy in force now' }
            ])
            await deps.tickets.decide(ctx, row.id, 'approved')
            return roundView(tx, row.id, round.round)
          }
          rows = seated
        }
        const mine = rows.find(r => r.approverId === ctx.actor.id)
        if (!mine) throw forbidden('you are not an approver of this round')
        if (mine.state !== 'pending') {
          throw conflict(`you already decided this round (${mine.state})`, { state: mine.state })
        }
        const state = input.decision === 'approve' ? 'approved' : 'rejected'
        const now = new Date()
        await tx.update(approvals).set({ state, comment, decidedAt: now }).where(eq(approvals.id, mine.id))
        const states = rows.map(r => (r.id === mine.id ? state : r.state))
        const outcome = outcomeOf(round.rule, round.quorum, states)
        if (outcome) await close(tx, row.id, round.round, outcome)
        await audit(tx, ctx, row.id, 'approval.decided', [
          { field: 'approvalRound', old: null, new: round.round },
          { field: 'decision', old: 'pending', new: state },
          { field: 'comment', old: null, new: comment },
          ...(outcome ? [{ field: 'roundState', old: 'pending', new: outcome }] : [])
        ])
        if (outcome) {
          await appendOutbox(
            tx,
            [
              {
                event: 'approval.decided',
                ticketId: row.id,
                actorId: ctx.actor.id,
                payload: { round: round.round, outcome, approverIds: rows.map(r => r.approverId) }
              }
            ],
            deps.config.NOTIFY_MAX_ATTEMPTS
          )
          await deps.tickets.decide(ctx, row.id, outcome)
        }
        return roundView(tx, row.id, round.round)
      })
    },

    /** Every round of a ticket, oldest first, with each approver's decision. */
    async rounds(ctx: Ctx, kind: TicketKind | null, ticketId: string): Promise<Page<RoundView>> {
      await deps.tickets.visible(ctx, kind, ticketId)
      return { items: (await roundsOf(db, [ticketId])).get(ticketId) ?? [], nextCursor: null }
    },

    /** The caller's own approval rows (state pending: their queue), oldest first, keyset on the row id. */
    async mine(ctx: Ctx, input: MyApprovalsInput) {
      authorize(ctx.actor, 'ticket.read')
      const limit = input.limit ?? 50
      if (!ctx.actor.id) return { items: [], nextCursor: null }
      const where: SQL[] = [eq(approvals.approverId, ctx.actor.id), ...scopeConditions(ticketScope(ctx.actor))]
      if (input.state) where.push(eq(approvals.state, input.state))
      if (input.cursor) {
        const c = decodeCursor(input.cursor, QUEUE_SORT)
        if (!isUuid(c.id))
          throw badRequest('invalid cursor', [{ field: 'cursor', message: 'not a cursor from this API' }])
        where.push(gt(approvals.id, c.id))
      }
      const rows = await db
        .select({
          approval: approvals,
          kind: tickets.kind,
          number: tickets.number,
          title: tickets.title,
          status: tickets.status
        })
        .from(approvals)
        .innerJoin(tickets, eq(tickets.id, approvals.ticketId))
        .where(and(...where))
        .orderBy(asc(approvals.id))
        .limit(limit + 1)
      return pageOf(
        rows,
        limit,
        last => ({ sort: QUEUE_SORT, value: null, id: last.approval.id }),
        r => ({
          id: r.approval.id,
          ticketId: r.approval.ticketId,
          kind: r.kind as TicketKind,
          number: formatNumber(r.kind as TicketKind, r.number),
          title: r.title,
          ticketStatus: r.status,
          round: r.approval.round,
          state: r.approval.state as ApprovalState,
          comment: r.approval.comment,
          decidedAt: r.approval.decidedAt,
          createdAt: r.approval.createdAt
        })
      )
    }
  }
}

export type ApprovalService = ReturnType<typeof createApprovalService>
export const queueCursor = (item: { id: string }) => ({ sort: QUEUE_SORT, value: null, id: item.id })
