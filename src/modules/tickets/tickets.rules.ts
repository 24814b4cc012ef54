import type { Requirement } from '../workflows/workflow.types.js'
import type { Workflow } from '../workflows/workflows.service.js'
import { priorityOf } from './priority.js'
import type { Row } from './tickets.repository.js'

/**
 * The pure ticket rules, one place for the single writes and the bulk write alike: no I/O, a plan of
 * what to set from what is asked and what the ticket is now. Checks that need the database (team
 * membership, kind requirements, approvals) stay with the callers, which batch them as they can.
 */

export { priorityOf }

/** Impact and urgency asked for, and the priority that follows from them. */
export function priorityPlan(before: Pick<Row, 'impact' | 'urgency'>, wanted: { impact?: number; urgency?: number }) {
  const set: Partial<Pick<Row, 'impact' | 'urgency' | 'priority'>> = {}
  if (wanted.impact !== undefined) set.impact = wanted.impact
  if (wanted.urgency !== undefined) set.urgency = wanted.urgency
  if (set.impact !== undefined || set.urgency !== undefined) {
    set.priority = priorityOf(set.impact ?? before.impact, set.urgency ?? before.urgency)
  }
  return set
}

export interface AssignmentWanted {
  teamId: string | null
  layer?: number | undefined
  assigneeId?: string | null | undefined
}

/**
 * Team, layer and person after an assignment: a new team starts at layer 1 without a person unless
 * told otherwise; the same team and layer keep the person. With `moveStatus`, giving a new ticket an
 * owner moves it on and taking the team away from an assigned one moves it back.
 */
export function assignmentPlan(
  wf: Workflow,
  before: Pick<Row, 'teamId' | 'layer' | 'assigneeId' | 'status'>,
  wanted: AssignmentWanted,
  moveStatus = true
): Partial<Pick<Row, 'teamId' | 'layer' | 'assigneeId' | 'status'>> {
  const set: Partial<Pick<Row, 'teamId' | 'layer' | 'assigneeId' | 'status'>> = {}
  if (wanted.teamId === null) {
    Object.assign(set, { teamId: null, layer: null, assigneeId: null })
  } else {
    const teamId = wanted.teamId
    const layer = wanted.layer ?? (teamId === before.teamId && before.layer ? before.layer : 1)
    const keep = teamId === before.teamId && layer === before.layer
    const assigneeId = wanted.assigneeId !== undefined ? wanted.assigneeId : keep ? before.assigneeId : null
    Object.assign(set, { teamId, layer, assigneeId })
  }
  // The status the workflow flags as the one an owner moves a ticket to (onAssign), if it has one
  const assigned = wf.assigned
  if (moveStatus && assigned) {
    if (set.assigneeId && before.status === wf.initial) set.status = assigned
    if (!set.teamId && before.status === assigned) set.status = wf.initial
  }
  return set
}

/** The status a new ticket starts in: the workflow's onAssign status when it is created with a person. */
export const initialStatus = (wf: Workflow, assigneeId: string | null | undefined) =>
  (assigneeId && wf.assigned) || wf.initial

export interface Resolution {
  resolution?: string | undefined
  resolutionCode?: string | undefined
}

/** What a move to `to` sets: the status, resolved/closed stamps and the resolution given with it. */
export function transitionPlan(wf: Workflow, before: Pick<Row, 'status'>, to: string, input: Resolution, now: Date) {
  const target = wf.status(to)!
  const from = wf.status(before.status)
  const set: Partial<Row> = { status: to }
  if (target.phase === 'resolved' || target.phase === 'closed') {
    if (target.phase === 'resolved') set.resolvedAt = now
    else set.closedAt = now
    if (input.resolution !== undefined) set.resolution = input.resolution
    if (input.resolutionCode !== undefined) set.resolutionCode = input.resolutionCode
  }
  const reopened = from?.phase === 'resolved' && target.phase === 'open'
  if (reopened) set.resolvedAt = null
  return { set, reopened }
}

/** The requirements every kind shares; null when `need` is a kind's own (or an approval) or holds. */
export function sharedRequirement(
  need: Requirement,
  row: Pick<Row, 'teamId' | 'assigneeId'>,
  input: Resolution,
  to: string
): { field: string; message: string } | null | undefined {
  if (need === 'resolution' || need === 'resolutionCode') {
    return input[need] ? null : { field: need, message: `required to move to ${to}` }
  }
  if (need === 'team') return row.teamId ? null : { field: 'teamId', message: 'assign a team first' }
  if (need === 'assignee') return row.assigneeId ? null : { field: 'assigneeId', message: 'assign a person first' }
  return undefined
}
