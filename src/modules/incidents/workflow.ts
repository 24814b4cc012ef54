/**
 * The default incident workflow, held as data so it can move to an admin-editable table without
 * changing the service: statuses, who may take each transition, and what a transition requires.
 */
export const INCIDENT_STATUSES = ['new', 'assigned', 'in_progress', 'pending', 'resolved', 'closed'] as const
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number]

export interface Transition {
  from: IncidentStatus
  to: IncidentStatus
  /** staff: technicians and up; requester: the customer side (accept or reject a resolution). */
  by: 'staff' | 'requester'
  /** Fields the transition needs in its body, or conditions on the ticket. */
  requires?: ('resolution' | 'team')[]
}

export interface Workflow {
  initial: IncidentStatus
  statuses: readonly IncidentStatus[]
  /** Statuses in which SLA clocks stop. */
  pausing: readonly IncidentStatus[]
  /** Statuses in which the ticket can no longer be edited. */
  final: readonly IncidentStatus[]
  transitions: Transition[]
}

const staff = (from: IncidentStatus, to: IncidentStatus[], requires?: Transition['requires']): Transition[] =>
  to.map(t => ({ from, to: t, by: 'staff', ...(requires ? { requires } : {}) }))

export const incidentWorkflow: Workflow = {
  initial: 'new',
  statuses: INCIDENT_STATUSES,
  pausing: ['pending', 'resolved'],
  final: ['closed'],
  transitions: [
    ...staff('new', ['assigned'], ['team']),
    ...staff('new', ['in_progress', 'pending']),
    ...staff('new', ['resolved'], ['resolution']),
    ...staff('assigned', ['new', 'in_progress', 'pending']),
    ...staff('assigned', ['resolved'], ['resolution']),
    ...staff('in_progress', ['assigned'], ['team']),
    ...staff('in_progress', ['pending']),
    ...staff('in_progress', ['resolved'], ['resolution']),
    ...staff('pending', ['in_progress']),
    ...staff('pending', ['assigned'], ['team']),
    ...staff('pending', ['resolved'], ['resolution']),
    // reopen: the requester rejects the resolution, or staff take it back up
    ...staff('resolved', ['in_progress', 'closed']),
    { from: 'resolved', to: 'in_progress', by: 'requester' },
    { from: 'resolved', to: 'closed', by: 'requester' }
  ]
}

/**
 * ITIL priority from impact and urgency (1 high, 2 medium, 3 low): priority 1 (critical) to 5 (planning).
 */
const MATRIX: readonly (readonly number[])[] = [
  [1, 2, 3],
  [2, 3, 4],
  [3, 4, 5]
]

export const priorityOf = (impact: number, urgency: number): number => MATRIX[impact - 1]![urgency - 1]!

export const TICKET_PREFIX = { incident: 'INC' } as const
export type TicketKind = keyof typeof TICKET_PREFIX

export const formatNumber = (kind: TicketKind, n: number) => `${TICKET_PREFIX[kind]}-${String(n).padStart(6, '0')}`

export function parseNumber(ref: string): { kind: TicketKind; number: number } | null {
  const m = /^([A-Z]{3})-(\d{1,10})$/.exec(ref.toUpperCase())
  if (!m) return null
  const kind = (Object.keys(TICKET_PREFIX) as TicketKind[]).find(k => TICKET_PREFIX[k] === m[1])
  const number = Number(m[2])
  return kind && number > 0 && number <= 2_147_483_647 ? { kind, number } : null
}
