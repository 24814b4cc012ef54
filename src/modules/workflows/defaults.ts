import type { TicketKind } from '../kinds/kinds.js'
import type { Requirement, StatusDef, TransitionActor, TransitionDef, WorkflowDefinition } from './workflow.types.js'

/**
 * The ITIL workflows a fresh install starts with. A kind without a row in `workflows` uses these;
 * an admin's PUT stores a row that replaces them.
 */
const status = (key: string, label: string, phase: StatusDef['phase'] = 'open', pausesSla = false): StatusDef => ({
  key,
  label,
  phase,
  pausesSla
})

const go = (from: string, to: string[], requires?: Requirement[], by: TransitionActor[] = ['staff']): TransitionDef[] =>
  to.map(t => ({ from, to: t, by, ...(requires ? { requires } : {}) }))

const incident: WorkflowDefinition = {
  initial: 'new',
  statuses: [
    status('new', 'New'),
    { ...status('assigned', 'Assigned'), onAssign: true },
    status('in_progress', 'In progress'),
    status('pending', 'Pending', 'open', true),
    status('resolved', 'Resolved', 'resolved', true),
    status('closed', 'Closed', 'closed', true)
  ],
  transitions: [
    ...go('new', ['assigned'], ['team']),
    ...go('new', ['in_progress', 'pending']),
    ...go('new', ['resolved'], ['resolution']),
    ...go('assigned', ['new', 'in_progress', 'pending']),
    ...go('assigned', ['resolved'], ['resolution']),
    ...go('in_progress', ['assigned'], ['team']),
    ...go('in_progress', ['pending']),
    ...go('in_progress', ['resolved'], ['resolution']),
    ...go('pending', ['in_progress']),
    ...go('pending', ['assigned'], ['team']),
    ...go('pending', ['resolved'], ['resolution']),
    // the requester accepts the resolution or rejects it (reopen); staff may do either too
    ...go('resolved', ['in_progress', 'closed'], undefined, ['staff', 'requester'])
  ]
}

const request: WorkflowDefinition = {
  initial: 'awaiting_approval',
  statuses: [
    {
      ...status('awaiting_approval', 'Awaiting approval', 'open', true),
      approval: { approved: 'in_fulfilment', rejected: 'rejected' }
    },
    status('in_fulfilment', 'In fulfilment'),
    status('pending', 'Pending', 'open', true),
    status('fulfilled', 'Fulfilled', 'resolved', true),
    status('closed', 'Closed', 'closed', true),
    status('rejected', 'Rejected', 'closed', true),
    status('cancelled', 'Cancelled', 'closed', true)
  ],
  transitions: [
    ...go('awaiting_approval', ['in_fulfilment'], ['approval'], ['system']),
    ...go('awaiting_approval', ['rejected'], undefined, ['system']),
    ...go('awaiting_approval', ['cancelled'], undefined, ['staff', 'requester']),
    ...go('in_fulfilment', ['pending']),
    ...go('in_fulfilment', ['fulfilled'], ['tasksDone']),
    ...go('in_fulfilment', ['cancelled'], undefined, ['staff', 'requester']),
    ...go('pending', ['in_fulfilment']),
    ...go('pending', ['cancelled'], undefined, ['staff', 'requester']),
    ...go('fulfilled', ['in_fulfilment', 'closed'], undefined, ['staff', 'requester'])
  ]
}

const problem: WorkflowDefinition = {
  initial: 'new',
  statuses: [
    status('new', 'New'),
    status('assessed', 'Assessed'),
    status('root_cause_analysis', 'Root cause analysis'),
    status('fix_in_progress', 'Fix in progress'),
    status('resolved', 'Resolved', 'resolved'),
    status('closed', 'Closed', 'closed')
  ],
  transitions: [
    ...go('new', ['assessed', 'root_cause_analysis']),
    ...go('assessed', ['root_cause_analysis']),
    ...go('root_cause_analysis', ['fix_in_progress'], ['rootCause']),
    ...go('fix_in_progress', ['root_cause_analysis']),
    ...go('fix_in_progress', ['resolved'], ['rootCause', 'resolution']),
    ...go('assessed', ['closed'], ['resolution']),
    ...go('resolved', ['fix_in_progress', 'closed'])
  ]
}

const change: WorkflowDefinition = {
  initial: 'new',
  statuses: [
    status('new', 'New'),
    status('assess', 'Assess'),
    { ...status('authorize', 'Authorize', 'open', true), approval: { approved: 'scheduled', rejected: 'rejected' } },
    status('scheduled', 'Scheduled'),
    status('implement', 'Implement'),
    status('review', 'Review', 'resolved'),
    status('closed', 'Closed', 'closed'),
    status('rejected', 'Rejected', 'open', true),
    status('cancelled', 'Cancelled', 'closed')
  ],
  transitions: [
    ...go('new', ['assess']),
    ...go('assess', ['new']),
    ...go('assess', ['authorize'], ['plannedWindow']),
    ...go('authorize', ['scheduled'], ['approval'], ['system']),
    ...go('authorize', ['rejected'], undefined, ['system']),
    ...go('scheduled', ['implement'], ['plannedWindow']),
    ...go('scheduled', ['assess']),
    ...go('implement', ['review'], ['resolution']),
    ...go('review', ['closed']),
    ...go('review', ['implement']),
    // a rejected change is reworked and goes to approval again in a new round
    ...go('rejected', ['assess']),
    ...['new', 'assess', 'authorize', 'scheduled', 'rejected'].flatMap(from => go(from, ['cancelled']))
  ]
}

const release: WorkflowDefinition = {
  initial: 'planning',
  statuses: [
    status('planning', 'Planning'),
    status('build', 'Build'),
    status('test', 'Test'),
    status('deploy', 'Deploy'),
    status('review', 'Review', 'resolved'),
    status('closed', 'Closed', 'closed'),
    status('cancelled', 'Cancelled', 'closed')
  ],
  transitions: [
    ...go('planning', ['build']),
    ...go('build', ['planning', 'test']),
    ...go('test', ['build']),
    ...go('test', ['deploy'], ['changesReady']),
    ...go('deploy', ['test', 'review']),
    ...go('review', ['deploy', 'closed']),
    ...['planning', 'build', 'test'].flatMap(from => go(from, ['cancelled']))
  ]
}

export const DEFAULT_WORKFLOWS: Record<TicketKind, WorkflowDefinition> = { incident, request, problem, change, release }
