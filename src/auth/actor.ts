export const ROLES = ['customer', 'technician', 'supervisor', 'manager', 'finance', 'admin'] as const
export type Role = (typeof ROLES)[number]

/** Token scopes: a token may do what both its scopes and its owner's roles allow. */
export const SCOPES = [
  'tickets:read',
  'tickets:write',
  'events:write',
  'cmdb:import',
  'cmdb:read',
  'finance:read',
  'admin'
] as const
export type Scope = (typeof SCOPES)[number]

/** Who is acting, however they signed in. Services take this and nothing from HTTP. */
export interface Actor {
  kind: 'user' | 'system'
  /** User id; null for the system actor (scheduler jobs). */
  id: string | null
  username: string
  displayName: string
  roles: ReadonlySet<Role>
  organisationId: string | null
  via: 'session' | 'token' | 'sso' | 'system'
  /** Session or token id, so logout and revocation know what to end. */
  credentialId: string | null
  /** Null for sessions: a person is limited by roles alone. */
  scopes: ReadonlySet<Scope> | null
  /** An integrator token may be pinned to one organisation. */
  tokenOrganisationId: string | null
}

/** The actor of a user row: sessions, SSO and tokens all build it here. */
export function userActor(
  user: { id: string; username: string; displayName: string; roles: string[]; organisationId: string | null },
  via: Actor['via'],
  credential: { id?: string | null; scopes?: readonly string[] | null; organisationId?: string | null } = {}
): Actor {
  return {
    kind: 'user',
    id: user.id,
    username: user.username,
    displayName: user.displayName,
    roles: new Set(user.roles as Role[]),
    organisationId: user.organisationId,
    via,
    credentialId: credential.id ?? null,
    scopes: credential.scopes ? new Set(credential.scopes as Scope[]) : null,
    tokenOrganisationId: credential.organisationId ?? null
  }
}

export const systemActor = (name = 'system'): Actor => ({
  kind: 'system',
  id: null,
  username: name,
  displayName: name,
  roles: new Set<Role>(['admin']),
  organisationId: null,
  via: 'system',
  credentialId: null,
  scopes: null,
  tokenOrganisationId: null
})
