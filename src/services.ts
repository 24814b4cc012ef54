import { createAuthenticator } from './auth/authenticate.js'
import type { Deps } from './lib/context.js'
import { createAuthEventService } from './modules/identity/auth-events.service.js'
import { createOrganisationService } from './modules/identity/organisations.service.js'
import { createSessionService } from './modules/identity/sessions.service.js'
import { createTeamService } from './modules/identity/teams.service.js'
import { createTokenService } from './modules/identity/tokens.service.js'
import { createUserService } from './modules/identity/users.service.js'
import { createIncidentService } from './modules/incidents/incidents.service.js'

/** Every service, built from plain dependencies: the API and the scheduler build the same set. */
export function createServices(deps: Deps) {
  const authenticator = createAuthenticator({ db: deps.db, log: deps.log, cacheTtlMs: deps.config.AUTH_CACHE_TTL_MS })
  const withAuth = { ...deps, authenticator }
  const teams = createTeamService(deps)
  const authEvents = createAuthEventService(deps)
  return {
    authenticator,
    authEvents,
    sessions: createSessionService({ ...withAuth, authEvents, directory: null }),
    users: createUserService(withAuth),
    organisations: createOrganisationService(deps),
    teams,
    tokens: createTokenService(withAuth),
    incidents: createIncidentService({ ...deps, teams })
  }
}

export type Services = ReturnType<typeof createServices>
