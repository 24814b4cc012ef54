import { authorize, ticketScope } from '../../auth/policy.js'
import { type Ctx, type Deps, type Tx, type TxCtx, withTx } from '../../lib/context.js'
import { AppError, type FieldError, fieldError, validationFailed } from '../../lib/errors.js'
import { uuidv7 } from '../../lib/ids.js'
import { type AuditEntry, diff } from '../audit/audit.service.js'
import type { createTeamService, TeamView } from '../identity/teams.service.js'
import type { Requirement } from '../workflows/workflow.types.js'
import { allowedFor, sideOf, type Workflow, type WorkflowService } from '../workflows/workflows.service.js'
import { checkAssignments, MAX_ERRORS, type Plan, type Problems, problems, resolveCustomFields } from './bulk.checks.js'
import { type BulkColumn, type BulkWrite, isBulkColumn, lockMany } from './bulk.repository.js'
import type { BulkUpdateInput } from './bulk.schemas.js'
import { formatNumber, KIND_INFO, type TicketKind } from './kinds.js'
import { type Row, scopeConditions } from './tickets.repository.js'
import {
  type AssignmentWanted,
  assignmentPlan,
  priorityPlan,
  sharedRequirement,
  transitionPlan
} from './tickets.rules.js'
import type { TransitionInput } from './tickets.schemas.js'
import type { TicketService } from './tickets.service.js'
import type { TicketChange } from './tickets.writer.js'

export interface BulkDeps extends Deps {
  tickets: TicketService
  teams: ReturnType<typeof createTeamService>
  workflows: WorkflowService
}

const AUDITED: (keyof Row)[] = [
  'status',
  'teamId',
  'layer',
  'assigneeId',
  'impact',
  'urgency',
  'priority',
  'resolutionCode',
  'resolution',
  'resolvedAt',
  'closedAt'
]

const NEEDS_FIELD: Partial<Record<Requirement, string>> = { team: 'teamId', assignee: 'assigneeId' }

/**
 * Bulk update: up to 1,000 tickets of any kinds in one transaction, all or nothing. Each ticket meets
 * the rules of a single update, assignment and transition; everything wrong is answered at once.
 * The rows are locked by one statement, checked in memory (workflows, custom-field definitions and
 * teams looked up once each) and written by one UPDATE, one notes INSERT and one audit INSERT.
 * Moves into an approval status are refused: an approval round is per ticket, move those one at a time.
 */
export function createBulkService(deps: BulkDeps) {
  const { tickets: core, teams, workflows } = deps

  function authorizeAll(ctx: Ctx, input: BulkUpdateInput) {
    const { set } = input
    authorize(ctx.actor, 'ticket.bulk')
    authorize(ctx.actor, 'ticket.read')
    if (set.status !== undefined) authorize(ctx.actor, 'ticket.transition')
    if (set.teamId !== undefined || set.layer !== undefined || set.assigneeId !== undefined) {
      authorize(ctx.actor, 'ticket.assign')
    }
    if (set.customFields !== undefined || set.impact !== undefined || set.urgency !== undefined) {
      authorize(ctx.actor, 'ticket.update')
    }
    if (input.note !== undefined) authorize(ctx.actor, 'ticket.note')
  }

  /** What can be said of the input alone, before a row is read. */
  function checkInput(ctx: Ctx, input: BulkUpdateInput) {
    const { set } = input
    const errors: FieldError[] = []
    if (Object.keys(set).length === 0 && input.note === undefined) {
      errors.push({ field: 'set', message: 'name at least one field to change, or give a note' })
    }
    if (set.teamId === undefined && (set.layer !== undefined || set.assigneeId !== undefined)) {
      errors.push({ field: 'set.teamId', message: 'required when layer or assigneeId is given' })
    }
    if (set.teamId === null && set.assigneeId) {
      errors.push({ field: 'set.assigneeId', message: 'cannot assign a person without a team' })
    }
    for (const f of ['resolution', 'resolutionCode'] as const) {
      if (input[f] !== undefined && set.status === undefined) errors.push({ field: f, message: 'only with set.status' })
    }
    if (input.note !== undefined && !ctx.actor.id)
      errors.push({ field: 'note', message: 'notes need a person as author' })
    if (errors.length) throw validationFailed(errors)
  }

  async function run(ctx: TxCtx, input: BulkUpdateInput) {
    const tx = ctx.db
    const { set: wanted } = input
    const rows = await lockMany(tx, input.ids, scopeConditions(ticketScope(ctx.actor)))
    const byId = new Map(rows.map(r => [r.id, r]))
    const missing = input.ids.filter(id => !byId.has(id))
    if (missing.length) {
      // Absent and invisible read alike: the answer never tells which tickets exist
      throw fieldError('ids', `no such tickets, or not visible to you: ${missing.slice(0, MAX_ERRORS).join(', ')}`)
    }
    const flows = new Map<TicketKind, Workflow>()
    for (const kind of new Set(rows.map(r => r.kind as TicketKind))) flows.set(kind, await workflows.get(kind, tx))

    const found = problems()
    const side = sideOf(ctx.actor)
    const now = new Date()
    const plans: Plan[] = []
    for (const [index, id] of input.ids.entries()) {
      const before = byId.get(id)!
      const wf = flows.get(before.kind as TicketKind)!
      const plan: Plan = { index, before, wf, set: {}, changes: [], transitioned: false }
      if (wf.isClosed(before.status)) {
        found.ticket(plan, `is ${before.status} and can no longer be changed`)
        continue
      }
      plans.push(plan)
      const { set } = plan
      Object.assign(set, priorityPlan(before, wanted))
      // The single assignment's rules; the status moves with the owner unless the bulk sets one itself
      if (wanted.teamId !== undefined) {
        Object.assign(set, assignmentPlan(wf, before, wanted as AssignmentWanted, wanted.status === undefined))
      }
      if (wanted.status !== undefined && wanted.status !== before.status) {
        await transition(tx, plan, wanted.status, input, side, now, found, ctx)
      }
    }
    await checkAssignments(tx, plans, wanted, found, loadTeam)
    if (wanted.customFields !== undefined) {
      await resolveCustomFields(tx, plans, wanted.customFields, found, core.ports.customFields)
    }
    found.throwIfAny(input.ids.length)

    for (const p of plans) p.changes.unshift(...diff(p.before, p.set, AUDITED))
    const changed = plans.filter(p => p.changes.length > 0)
    const touched = input.note !== undefined ? plans : changed
    const writes: BulkWrite[] = touched.map(p => ({
      after: { ...p.before, ...p.set, version: p.before.version + (p.changes.length ? 1 : 0), updatedAt: now },
      bump: p.changes.length > 0
    }))
    const columns = [...new Set(changed.flatMap(p => Object.keys(p.set)))].filter(isBulkColumn) as BulkColumn[]

    const audit: AuditEntry[] = []
    const notes = input.note !== undefined ? plans.map(p => ({ id: uuidv7(), ticketId: p.before.id })) : []
    const noteOf = new Map(notes.map(n => [n.ticketId, n.id]))
    for (const p of touched) {
      if (p.changes.length)
        audit.push({ entityType: 'ticket', entityId: p.before.id, action: 'bulk.updated', changes: p.changes })
      const note = noteOf.get(p.before.id)
      if (note)
        audit.push({
          entityType: 'ticket',
          entityId: p.before.id,
          action: 'note.public',
          changes: [{ field: 'notes', old: null, new: note }]
        })
    }
    const after = new Map(writes.map(w => [w.after.id, w.after]))
    // One change record per written ticket, as the single writes would tell it
    const records: TicketChange[] = touched.map(p => {
      const row = after.get(p.before.id)!
      const note = noteOf.get(p.before.id)
      return {
        type: p.transitioned ? 'transitioned' : p.changes.length ? 'updated' : 'noted',
        kind: row.kind as TicketKind,
        ticketId: row.id,
        before: p.before,
        after: row,
        changed: p.changes.map(c => c.field),
        changes: p.changes,
        actor: ctx.actor,
        cause: p.changes.length ? 'bulk.updated' : 'note.public',
        ...(p.transitioned ? { transition: { to: row.status, ...pick(input) } } : {}),
        ...(note ? { note: { id: note, internal: false } } : {})
      }
    })
    await core.writer.many(ctx, {
      writes,
      columns,
      now,
      audit,
      notes,
      ...(input.note !== undefined ? { noteBody: input.note } : {}),
      records
    })
    for (const p of plans.filter(x => x.transitioned)) {
      if (p.wf.status(p.before.status)?.approval && core.ports.approvals) {
        await core.ports.approvals.cancelOpen(tx, ctx, p.before.id)
      }
    }
    return {
      updated: changed.length,
      items: input.ids.map(id => {
        const row = after.get(id) ?? byId.get(id)!
        return {
          id,
          number: formatNumber(row.kind as TicketKind, row.number),
          version: row.version,
          status: row.status
        }
      })
    }
  }

  async function transition(
    tx: Tx,
    plan: Plan,
    to: string,
    input: BulkUpdateInput,
    side: ReturnType<typeof sideOf>,
    now: Date,
    found: Problems,
    ctx: Ctx
  ) {
    const { before, wf, set } = plan
    const target = wf.status(to)
    const { collection } = KIND_INFO[wf.kind]
    if (!target) {
      found.set('set.status', `"${to}" is not a status of ${collection}`)
      return
    }
    const rule = wf.rule(before.status, to, side)
    const allowed = allowedFor(ctx.actor, wf, before.status)
    if (!rule || !allowed.includes(to)) {
      found.ticket(plan, `cannot go from ${before.status} to ${to}; allowed: ${allowed.join(', ') || 'none'}`)
      return
    }
    if (target.approval) {
      found.set('set.status', `${to} starts an approval round (${collection}): move those tickets one at a time`)
      return
    }
    const after = { ...before, ...set }
    const move: TransitionInput = { to, ...pick(input) }
    for (const need of rule.requires ?? []) {
      const shared = sharedRequirement(need, after, input, to)
      if (shared !== undefined) {
        // The resolution is one for every ticket: named once; a missing team or person, per ticket
        if (shared && (need === 'resolution' || need === 'resolutionCode')) found.set(shared.field, shared.message)
        else if (shared) found.ticket(plan, `${shared.field}: ${shared.message}`)
        continue
      }
      let message: string | null = null
      if (need === 'approval') {
        message = (await core.ports.approvals?.isApproved(tx, before.id)) ? null : 'the approval rule is not met yet'
      } else {
        const hook = core.hooks.get(wf.kind)?.requirement
        message = hook ? await hook(tx, after, need, move) : null
      }
      if (message) found.ticket(plan, `${NEEDS_FIELD[need] ?? need}: ${message}`)
    }
    Object.assign(set, transitionPlan(wf, before, to, input, now).set)
    plan.transitioned = true
  }

  async function loadTeam(tx: Tx, id: string): Promise<TeamView | null> {
    try {
      return await teams.load(tx, id)
    } catch (err) {
      if (err instanceof AppError && err.status === 404) return null
      throw err
    }
  }

  return {
    async update(ctx: Ctx, input: BulkUpdateInput) {
      authorizeAll(ctx, input)
      checkInput(ctx, input)
      return withTx(ctx, (_tx, ctx) => run(ctx, input))
    }
  }
}

const pick = (input: BulkUpdateInput) => ({
  ...(input.resolution !== undefined ? { resolution: input.resolution } : {}),
  ...(input.resolutionCode !== undefined ? { resolutionCode: input.resolutionCode } : {}),
  ...(input.note !== undefined ? { note: input.note } : {})
})

export type BulkService = ReturnType<typeof createBulkService>
