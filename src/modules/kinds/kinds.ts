/**
 * The ticket kinds and what tells them apart at the core: the number prefix, the number sequence,
 * the REST collection and the GraphQL type. Everything else a kind has lives in its own module.
 */
export const TICKET_KINDS = ['incident', 'request', 'problem', 'change', 'release'] as const
export type TicketKind = (typeof TICKET_KINDS)[number]

export interface KindInfo {
  prefix: string
  /** The PostgreSQL sequence numbering this kind (a constant, never user input). */
  sequence: string
  /** REST collection under /api/v1. */
  collection: string
  /** GraphQL object type (one of those implementing Ticket). */
  typeName: 'Incident' | 'ServiceRequest' | 'Problem' | 'Change' | 'Release'
  /** GraphQL field and mutation stem: incident / incidents / createIncident. */
  field: string
  /** What an error calls one of them. */
  noun: string
  /** Whether customers raise tickets of this kind (incidents, requests); otherwise only staff create them. */
  customerRaised: boolean
}

export const KIND_INFO: Record<TicketKind, KindInfo> = {
  incident: {
    field: 'incident',
    prefix: 'INC',
    sequence: 'incident_number_seq',
    collection: 'incidents',
    typeName: 'Incident',
    noun: 'incident',
    customerRaised: true
  },
  request: {
    field: 'request',
    prefix: 'REQ',
    sequence: 'request_number_seq',
    collection: 'requests',
    typeName: 'ServiceRequest',
    noun: 'request',
    customerRaised: true
  },
  problem: {
    field: 'problem',
    prefix: 'PRB',
    sequence: 'problem_number_seq',
    collection: 'problems',
    typeName: 'Problem',
    noun: 'problem',
    customerRaised: false
  },
  change: {
    field: 'change',
    prefix: 'CHG',
    sequence: 'change_number_seq',
    collection: 'changes',
    typeName: 'Change',
    noun: 'change',
    customerRaised: false
  },
  release: {
    field: 'release',
    prefix: 'REL',
    sequence: 'release_number_seq',
    collection: 'releases',
    typeName: 'Release',
    noun: 'release',
    customerRaised: false
  }
}

export const isTicketKind = (v: unknown): v is TicketKind => TICKET_KINDS.includes(v as TicketKind)

export const formatNumber = (kind: TicketKind, n: number) => `${KIND_INFO[kind].prefix}-${String(n).padStart(6, '0')}`

export function parseNumber(ref: string): { kind: TicketKind; number: number } | null {
  const m = /^([A-Z]{3})-(\d{1,10})$/.exec(ref.toUpperCase())
  if (!m) return null
  const kind = TICKET_KINDS.find(k => KIND_INFO[k].prefix === m[1])
  const number = Number(m[2])
  return kind && number > 0 && number <= 2_147_483_647 ? { kind, number } : null
}

/**
 * Transition options that belong to one kind. Every collection's transition body names them (one
 * contract for all kinds); the core refuses them on a ticket of another kind (422 naming the option),
 * and the owning kind checks and acts on them (its `checkTransition` hook and ticket subscribers).
 */
export const KIND_TRANSITION_OPTIONS = {
  resolveLinkedIncidents: {
    kind: 'problem',
    description:
      'Problems only: on resolving the problem, also resolve every linked incident that is still open (with the problem’s resolution)'
  }
} as const satisfies Record<string, { kind: TicketKind; description: string }>
export type KindTransitionOption = keyof typeof KIND_TRANSITION_OPTIONS
