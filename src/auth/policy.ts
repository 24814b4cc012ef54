import { forbidden } from '../lib/errors.js'
import type { Actor, Role, Scope } from './actor.js'

/**
 * The one place that decides what an actor may do. Services call `authorize` before they act and
 * `ticketScope` to narrow every ticket read; routes and resolvers never decide.
 */
export type Action =
  | 'ticket.read'
  | 'ticket.readInternal'
  | 'ticket.create'
  | 'ticket.createForOthers'
  | 'ticket.update'
  | 'ticket.assign'
  | 'ticket.transition'
  | 'ticket.note'
  | 'ticket.noteInternal'
  | 'ticket.approve'
  | 'ticket.bulk'
  | 'config.read'
  | 'config.manage'
  | 'ci.read'
  | 'ci.manage'
  | 'directory.read'
  | 'user.manage'
  | 'organisation.manage'
  | 'team.manage'
  | 'token.manageOwn'
  | 'token.manageAll'
  | 'audit.read'
  | 'event.ingest'
  | 'event.read'
  | 'finance.read'
  | 'finance.manage'
  | 'report.read'

const STAFF_TICKETS: Action[] = [
  'ticket.read',
  'ticket.readInternal',
  'ticket.create',
  'ticket.createForOthers',
  'ticket.update',
  'ticket.assign',
  'ticket.transition',
  'ticket.note',
  'ticket.noteInternal',
  'ticket.approve',
  'ticket.bulk',
  'config.read',
  'ci.read',
  'directory.read',
  'token.manageOwn',
  'event.ingest',
  'event.read',
  'report.read'
]

const ROLE_ACTIONS: Record<Role, ReadonlySet<Action>> = {
  customer: new Set(['ticket.read', 'ticket.create', 'ticket.transition', 'ticket.note', 'config.read']),
  technician: new Set(STAFF_TICKETS),
  supervisor: new Set(STAFF_TICKETS),
  manager: new Set(STAFF_TICKETS),
  finance: new Set(['directory.read', 'token.manageOwn', 'config.read', 'ci.read', 'finance.read', 'finance.manage']),
  admin: new Set([
    ...STAFF_TICKETS,
    'user.manage',
    'organisation.manage',
    'team.manage',
    'token.manageAll',
    'audit.read',
    'config.manage',
    'ci.manage',
    'finance.read',
    'finance.manage'
  ])
}

/** Which scope a token needs for an action. */
const ACTION_SCOPE: Record<Action, Scope> = {
  'ticket.read': 'tickets:read',
  'ticket.readInternal': 'tickets:read',
  'ticket.create': 'tickets:write',
  'ticket.createForOthers': 'tickets:write',
  'ticket.update': 'tickets:write',
  'ticket.assign': 'tickets:write',
  'ticket.transition': 'tickets:write',
  'ticket.note': 'tickets:write',
  'ticket.noteInternal': 'tickets:write',
  'ticket.approve': 'tickets:write',
  'ticket.bulk': 'tickets:write',
  'config.read': 'tickets:read',
  'config.manage': 'admin',
  'ci.read': 'cmdb:read',
  'ci.manage': 'cmdb:import',
  'directory.read': 'tickets:read',
  'user.manage': 'admin',
  'organisation.manage': 'admin',
  'team.manage': 'admin',
  'token.manageOwn': 'admin',
  'token.manageAll': 'admin',
  'audit.read': 'admin',
  'event.ingest': 'events:write',
  'event.read': 'tickets:read',
  'finance.read': 'finance:read',
  'finance.manage': 'admin',
  'report.read': 'tickets:read'
}

const STAFF_ROLES: Role[] = ['technician', 'supervisor', 'manager', 'admin']

export const isStaff = (actor: Actor): boolean => STAFF_ROLES.some(r => actor.roles.has(r))

function roleAllows(actor: Actor, action: Action): boolean {
  for (const role of actor.roles) if (ROLE_ACTIONS[role].has(action)) return true
  return false
}

export function can(actor: Actor, action: Action): boolean {
  if (actor.kind === 'system') return true
  if (!roleAllows(actor, action)) return false
  return actor.scopes === null || actor.scopes.has(ACTION_SCOPE[action])
}

/** Throws 403 naming what is missing: the token scope, or the role. */
export function authorize(actor: Actor, action: Action): void {
  if (actor.kind === 'system') return
  if (!roleAllows(actor, action)) throw forbidden(`your roles do not allow ${action}`, { action })
  if (actor.scopes !== null && !actor.scopes.has(ACTION_SCOPE[action])) {
    const scope = ACTION_SCOPE[action]
    throw forbidden(`this token lacks the scope ${scope}`, { missingScope: scope, action })
  }
}

/** Narrowing applied to every ticket read and write. Null: the actor sees every ticket. */
export interface TicketScope {
  organisationId?: string
  requesterId?: string
}

const NOBODY = '00000000-0000-0000-0000-000000000000'

export function ticketScope(actor: Actor): TicketScope | null {
  if (actor.kind === 'system') return null
  const pin = actor.tokenOrganisationId
  if (isStaff(actor)) return pin ? { organisationId: pin } : null
  // Customers see their organisation's tickets; one without an organisation sees only their own
  const own: TicketScope = actor.organisationId
    ? { organisationId: actor.organisationId }
    : { requesterId: actor.id ?? NOBODY }
  // A token's pin narrows what its owner sees, never widens it: pinned elsewhere, both must hold
  if (!pin || own.organisationId === pin) return own
  return { organisationId: pin, requesterId: own.requesterId ?? NOBODY }
}

/**
 * The organisation every read of directory records (users, organisations, auth events) is narrowed
 * to: a token's pin, or a customer's own organisation; null: not narrowed. Records outside it answer
 * 404 on single reads and are absent from lists, as tickets are.
 */
export function organisationPin(actor: Actor): string | null {
  if (actor.kind === 'system') return null
  if (actor.tokenOrganisationId) return actor.tokenOrganisationId
  const customerOnly = actor.roles.size > 0 && [...actor.roles].every(r => r === 'customer')
  return customerOnly ? (actor.organisationId ?? NOBODY) : null
}

/**
 * Whether a user may be the requester of a ticket this actor creates or edits: only someone the
 * actor's own ticket scope covers, so no write (create, update, bulk, template, either door) can move
 * a ticket into an organisation the actor cannot see. The one tenancy rule for requesters.
 */
export function requesterAllowed(actor: Actor, requester: { id: string; organisationId: string | null }): boolean {
  const scope = ticketScope(actor)
  if (!scope) return true
  if (scope.organisationId && requester.organisationId !== scope.organisationId) return false
  return !scope.requesterId || requester.id === scope.requesterId
}

/** The organisation a requester must belong to for this actor (create checks it in its one INSERT). */
export const requiredRequesterOrganisation = (actor: Actor): string | null => ticketScope(actor)?.organisationId ?? null

export function canSeeInternal(actor: Actor): boolean {
  return can(actor, 'ticket.readInternal') && ticketScope(actor) === null
}
