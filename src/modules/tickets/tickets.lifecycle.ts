import { canSeeInternal } from '../../auth/policy.js'
import type { Ctx, Queryable, Tx } from '../../lib/context.js'
import { type FieldError, forbidden, validationFailed } from '../../lib/errors.js'
import { type Change, diff } from '../audit/audit.service.js'
import type { Workflow, WorkflowService } from '../workflows/workflows.service.js'
import type { TicketKind } from './kinds.js'
import type { ApprovalPort, KindHooks } from './tickets.ports.js'
import type { Row, TicketQueries } from './tickets.repository.js'
import type { NoteInput, TransitionInput } from './tickets.schemas.js'

export interface LifecycleDeps {
  workflows: WorkflowService
  queries: TicketQueries
  hooks: ReadonlyMap<TicketKind, KindHooks>
  ports: { approvals?: ApprovalPort }
  write: (q: Queryable, ctx: Ctx, before: Row, set: Partial<Row>, changes: Change[], action: string) => Promise<Row>
  addNote: (q: Queryable, ctx: Ctx, row: Pick<Row, 'id'>, input: NoteInput) => Promise<unknown>
}

/**
 * How a ticket moves through its workflow: requirements, phase stamps, the kind's follow-up, and
 * approval rounds opened on entry and followed to their outcome.
 */
export function createTicketLifecycle(deps: LifecycleDeps) {
  const { hooks, ports, write, queries } = deps

  /** Checks a transition's requirements; every unmet one is named at once (422). */
  async function checkRequirements(q: Queryable, wf: Workflow, row: Row, to: string, input: TransitionInput) {
    const rule =
      wf.rule(row.status, to, 'staff') ?? wf.rule(row.status, to, 'requester') ?? wf.rule(row.status, to, 'system')
    const missing: FieldError[] = []
    for (const need of rule?.requires ?? []) {
      let message: string | null = null
      if (need === 'resolution' && !input.resolution) message = 'required to move to ' + to
      else if (need === 'resolutionCode' && !input.resolutionCode) message = 'required to move to ' + to
      else if (need === 'team' && !row.teamId) message = 'assign a team first'
      else if (need === 'assignee' && !row.assigneeId) message = 'assign a person first'
      else if (need === 'approval') {
        if (!(await ports.approvals?.isApproved(q, row.id))) message = 'the approval rule is not met yet'
      } else {
        const hook = hooks.get(row.kind as TicketKind)?.requirement
        message = hook ? await hook(q, row, need, input) : null
      }
      if (message) {
        const field = need === 'team' ? 'teamId' : need === 'assignee' ? 'assigneeId' : need
        missing.push({ field, message })
      }
    }
    if (missing.length) throw validationFailed(missing)
  }

  /**
   * Moves a ticket (the rule was found and checked by the caller), stamps phase times, runs the kind's
   * follow-up and, on entering an approval status, starts the round (which may decide at once).
   */
  async function move(
    tx: Tx,
    ctx: Ctx,
    wf: Workflow,
    before: Row,
    to: string,
    input: TransitionInput,
    action?: string
  ) {
    if (input.note && input.noteInternal && !canSeeInternal(ctx.actor)) {
      throw forbidden('internal notes are for staff only', { action: 'ticket.noteInternal' })
    }
    const target = wf.status(to)!
    const from = wf.status(before.status)
    const set: Partial<Row> = { status: to }
    const now = new Date()
    if (target.phase === 'resolved') {
      Object.assign(set, {
        resolvedAt: now,
        ...(input.resolution !== undefined ? { resolution: input.resolution } : {}),
        ...(input.resolutionCode !== undefined ? { resolutionCode: input.resolutionCode } : {})
      })
    }
    if (target.phase === 'closed') {
      set.closedAt = now
      if (input.resolution !== undefined) set.resolution = input.resolution
      if (input.resolutionCode !== undefined) set.resolutionCode = input.resolutionCode
    }
    if (from?.phase === 'resolved' && target.phase === 'open') set.resolvedAt = null
    const changes = diff(before, set, ['status', 'resolutionCode', 'resolution', 'resolvedAt', 'closedAt'])
    const reopened = from?.phase === 'resolved' && target.phase === 'open'
    const row = await write(tx, ctx, before, set, changes, action ?? (reopened ? 'reopened' : 'transitioned'))
    if (input.note) await deps.addNote(tx, ctx, row, { body: input.note, internal: input.noteInternal ?? false })
    if (from?.approval && ports.approvals) await ports.approvals.cancelOpen(tx, ctx, row.id)
    await hooks.get(row.kind as TicketKind)?.afterTransition?.(tx, ctx, before, row, input)
    return enterApproval(tx, ctx, wf, row)
  }

  /** When `row` sits in an approval status, opens a round and follows an immediate outcome. */
  async function enterApproval(tx: Tx, ctx: Ctx, wf: Workflow, row: Row): Promise<Row> {
    const status = wf.status(row.status)
    if (!status?.approval || !ports.approvals) return row
    const outcome = await ports.approvals.start(tx, ctx, row, status)
    if (outcome === 'pending') return row
    return decide(tx, ctx, row.id, outcome)
  }

  /** The approval of a ticket was decided: the system moves it on (approved) or back (rejected). */
  async function decide(tx: Tx, ctx: Ctx, ticketId: string, outcome: 'approved' | 'rejected'): Promise<Row> {
    const row = (await queries.lockById(tx, ticketId))!
    const wf = await deps.workflows.get(row.kind as TicketKind, tx)
    const status = wf.status(row.status)
    if (!status?.approval) return row
    const to = status.approval[outcome]
    const rule = wf.rule(row.status, to, 'system')
    if (!rule || !wf.status(to)) return row
    const input: TransitionInput = { to }
    await checkRequirements(tx, wf, row, to, input)
    return move(tx, ctx, wf, row, to, input, outcome === 'approved' ? 'approval.approved' : 'approval.rejected')
  }

  return { checkRequirements, move, enterApproval, decide }
}
