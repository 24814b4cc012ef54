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
}

export const KIND_INFO: Record<TicketKind, KindInfo> = {
  incident: {
    field: 'incident',
    prefix: 'INC',
    sequence: 'incident_number_seq',
    collection: 'incidents',
    typeName: 'Incident',
    noun: 'incident'
  },
  request: {
    field: 'request',
    prefix: 'REQ',
    sequence: 'request_number_seq',
    collection: 'requests',
    typeName: 'ServiceRequest',
    noun: 'request'
  },
  problem: {
    field: 'problem',
    prefix: 'PRB',
    sequence: 'problem_number_seq',
    collection: 'problems',
    typeName: 'Problem',
    noun: 'problem'
  },
  change: {
    field: 'change',
    prefix: 'CHG',
    sequence: 'change_number_seq',
    collection: 'changes',
    typeName: 'Change',
    noun: 'change'
  },
  release: {
    field: 'release',
    prefix: 'REL',
    sequence: 'release_number_seq',
    collection: 'releases',
    typeName: 'Release',
    noun: 'release'
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
