import { createAuthenticator } from '../../auth/authenticate.js'
import { createLdapDirectory } from '../../auth/ldap.js'
import type { Deps } from '../../lib/context.js'
import { provide } from '../../lib/ports.js'
import { createRateCounter } from '../../lib/rate-counter.js'
import type { ModuleManifest } from '../manifest.js'
import { createAuthEventService } from './auth-events.service.js'
import { directoryResolvers } from './directory.resolvers.js'
import directoryRoutes from './directory.routes.js'
import { directorySync } from './directory-sync.job.js'
import { createDirectorySyncService } from './directory-sync.service.js'
import { identityLoaders, identityResolvers } from './identity.resolvers.js'
import identityRoutes from './identity.routes.js'
import { createOrganisationService } from './organisations.service.js'
import { purgeSessions } from './sessions.job.js'
import { createSessionService } from './sessions.service.js'
import { createSsoService } from './sso.service.js'
import type { TeamLayerView, TeamView } from './teams.service.js'
import { createTeamService } from './teams.service.js'
import { createTokenService } from './tokens.service.js'
import { createUserService } from './users.service.js'

function createIdentityServices(deps: Deps) {
  const rateCounter = createRateCounter(deps.db, deps.log)
  const authEvents = createAuthEventService({ ...deps, rateCounter })
  const authenticator = createAuthenticator({
    db: deps.db,
    log: deps.log,
    cacheTtlMs: deps.config.AUTH_CACHE_TTL_MS,
    onNewTokenAddress: (actor, ip) =>
      authEvents.record(deps.db, {
        kind: 'token.new_address',
        method: 'token',
        username: actor.username,
        userId: actor.id,
        ip,
        detail: { tokenId: actor.credentialId }
      })
  })
  const withAuth = { ...deps, authenticator }
  const directory = deps.config.LDAP_URL ? createLdapDirectory(deps.config, deps.log) : null
  const sso = createSsoService({ ...deps, authEvents, directory })
  authenticator.onForgetUser(id => sso.forgetUser(id))
  return {
    rateCounter,
    authenticator,
    authEvents,
    sso,
    sessions: createSessionService({ ...withAuth, authEvents, directory }),
    directorySync: createDirectorySyncService({ ...withAuth, directory }),
    users: createUserService(withAuth),
    organisations: createOrganisationService(deps),
    teams: createTeamService(deps),
    tokens: createTokenService(withAuth)
  }
}

type IdentityServices = ReturnType<typeof createIdentityServices>

declare module '../../graphql/mappers.js' {
  interface GraphqlRows {
    Team: TeamView
    TeamLayer: TeamLayerView
  }
}

declare module '../../lib/ports.js' {
  interface Services extends IdentityServices {}
}

/** Users, teams, organisations, sign-in (local, LDAP, SSO), sessions, tokens and the directory sync. */
export const identityManifest: ModuleManifest = {
  name: 'identity',
  provides: [
    provide(
      [
        'rateCounter',
        'authenticator',
        'authEvents',
        'sso',
        'sessions',
        'directorySync',
        'users',
        'organisations',
        'teams',
        'tokens'
      ],
      [],
      createIdentityServices
    )
  ],
  routes: [identityRoutes, directoryRoutes],
  graphql: {
    resolvers: [identityResolvers, directoryResolvers],
    loaders: [identityLoaders]
  },
  jobs: [purgeSessions, directorySync]
}
