import { canSeeInternal } from '../../auth/policy.js'
import type { Ctx, Queryable, TxCtx } from '../../lib/context.js'
import { type FieldError, forbidden, validationFailed } from '../../lib/errors.js'
import { diff } from '../audit/audit.service.js'
import type { Workflow, WorkflowService } from '../workflows/workflows.service.js'
import type { TicketKind } from './kinds.js'
import type { ApprovalPort, KindHooks } from './tickets.ports.js'
import type { Row, TicketQueries } from './tickets.repository.js'
import { sharedRequirement, transitionPlan } from './tickets.rules.js'
import type { TransitionInput } from './tickets.schemas.js'
import type { UpdateSpec } from './tickets.writer.js'

export interface LifecycleDeps {
  workflows: WorkflowService
  queries: TicketQueries
  hooks: ReadonlyMap<TicketKind, KindHooks>
  ports: { approvals?: ApprovalPort }
  write: (ctx: Ctx, spec: UpdateSpec) => Promise<Row>
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
      const shared = sharedRequirement(need, row, input, to)
      if (shared !== undefined) {
        if (shared) missing.push(shared)
        continue
      }
      let message: string | null = null
      if (need === 'approval') {
        if (!(await ports.approvals?.isApproved(q, row.id))) message = 'the approval rule is not met yet'
      } else {
        const hook = hooks.get(row.kind as TicketKind)?.requirement
        message = hook ? await hook(q, row, need, input) : null
      }
      if (message) missing.push({ field: need, message })
    }
    if (missing.length) throw validationFailed(missing)
  }

  /**
   * Moves a ticket (the rule was found and checked by the caller), stamps phase times, runs the kind's
   * follow-up and, on entering an approval status, starts the round (which may decide at once).
   */
  async function move(ctx: TxCtx, wf: Workflow, before: Row, to: string, input: TransitionInput, action?: string) {
    if (input.note && input.noteInternal && !canSeeInternal(ctx.actor)) {
      throw forbidden('internal notes are for staff only', { action: 'ticket.noteInternal' })
    }
    const from = wf.status(before.status)
    const { set, reopened } = transitionPlan(wf, before, to, input, new Date())
    const changes = diff(before, set, ['status', 'resolutionCode', 'resolution', 'resolvedAt', 'closedAt'])
    // The kind's follow-up (a problem resolving its incidents) is a subscriber of this change
    const row = await write(ctx, {
      before,
      set,
      changes,
      type: 'transitioned',
      cause: action ?? (reopened ? 'reopened' : 'transitioned'),
      transition: input,
      ...(input.note ? { note: { body: input.note, internal: input.noteInternal ?? false } } : {})
    })
    if (from?.approval && ports.approvals) await ports.approvals.cancelOpen(ctx.db, ctx, row.id)
    return enterApproval(ctx, wf, row)
  }

  /** When `row` sits in an approval status, opens a round and follows an immediate outcome. */
  async function enterApproval(ctx: TxCtx, wf: Workflow, row: Row): Promise<Row> {
    const status = wf.status(row.status)
    if (!status?.approval || !ports.approvals) return row
    const outcome = await ports.approvals.start(ctx.db, ctx, row, status)
    if (outcome === 'pending') return row
    return decide(ctx, row.id, outcome)
  }

  /** The approval of a ticket was decided: the system moves it on (approved) or back (rejected). */
  async function decide(ctx: TxCtx, ticketId: string, outcome: 'approved' | 'rejected'): Promise<Row> {
    const tx = ctx.db
    const row = (await queries.lockById(tx, ticketId))!
    const wf = await deps.workflows.get(row.kind as TicketKind, tx)
    const status = wf.status(row.status)
    if (!status?.approval) return row
    const to = status.approval[outcome]
    const rule = wf.rule(row.status, to, 'system')
    if (!rule || !wf.status(to)) return row
    const input: TransitionInput = { to }
    await checkRequirements(tx, wf, row, to, input)
    return move(ctx, wf, row, to, input, outcome === 'approved' ? 'approval.approved' : 'approval.rejected')
  }

  return { checkRequirements, move, enterApproval, decide }
}
