import { createAuthenticator } from './auth/authenticate.js'
import { createLdapDirectory } from './auth/ldap.js'
import type { Deps } from './lib/context.js'
import { createRateCounter } from './lib/rate-counter.js'
import { createApprovalService } from './modules/approvals/approvals.service.js'
import { createCatalogService } from './modules/catalog/catalog.service.js'
import { categoryPort, createCategoryService } from './modules/categories/categories.service.js'
import { changeHooks } from './modules/changes/changes.hooks.js'
import { createChangeService } from './modules/changes/changes.service.js'
import { createFreezeService } from './modules/changes/freezes.service.js'
import { createPolicyService } from './modules/changes/policies.service.js'
import { createCiService } from './modules/cmdb/cis.service.js'
import { createCustomFieldService } from './modules/custom-fields/custom-fields.service.js'
import { createEventSettingsService } from './modules/events/event-settings.service.js'
import { createEventService } from './modules/events/events.service.js'
import { createProblemRuleService } from './modules/events/problem-rules.service.js'
import { createRoutingRuleService } from './modules/events/routing-rules.service.js'
import { createAuthEventService } from './modules/identity/auth-events.service.js'
import { createDirectorySyncService } from './modules/identity/directory-sync.service.js'
import { createOrganisationService } from './modules/identity/organisations.service.js'
import { createSessionService } from './modules/identity/sessions.service.js'
import { createSsoService } from './modules/identity/sso.service.js'
import { createTeamService } from './modules/identity/teams.service.js'
import { createTokenService } from './modules/identity/tokens.service.js'
import { createUserService } from './modules/identity/users.service.js'
import { createLinkService } from './modules/links/links.service.js'
import { incidentProblemHooks, problemModule } from './modules/problems/problems.hooks.js'
import { createProblemService } from './modules/problems/problems.service.js'
import { createDeploymentService } from './modules/releases/deployments.service.js'
import { releaseHooks } from './modules/releases/releases.hooks.js'
import { createReleaseService } from './modules/releases/releases.service.js'
import { requestHooks, requestTasksSubscriber } from './modules/requests/requests.hooks.js'
import { createRequestService } from './modules/requests/requests.service.js'
import { createTemplateService, templatePort } from './modules/templates/templates.service.js'
import { createBulkService } from './modules/tickets/bulk.service.js'
import { createTicketService } from './modules/tickets/tickets.service.js'
import { createWorkflowService } from './modules/workflows/workflows.service.js'

/** Every service, built from plain dependencies: the API and the scheduler build the same set. */
export function createServices(deps: Deps) {
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
  const teams = createTeamService(deps)
  const workflows = createWorkflowService(deps)
  const tickets = createTicketService({ ...deps, teams, workflows })
  const customFields = createCustomFieldService(deps)
  tickets.ports.customFields = customFields.values
  tickets.ports.categories = categoryPort
  tickets.ports.templates = templatePort
  tickets.register('request', requestHooks())
  tickets.subscribe(requestTasksSubscriber)
  tickets.register('release', releaseHooks())
  const problemKind = problemModule({ db: deps.db, tickets, workflows })
  tickets.register('problem', problemKind.hooks)
  tickets.subscribe(problemKind.subscriber)
  // Incidents show the problem they are caused by (one indexed query per page)
  tickets.register('incident', incidentProblemHooks(deps.db))
  const links = createLinkService({ ...deps, tickets })
  tickets.register('change', changeHooks())
  const approvals = createApprovalService({ ...deps, tickets })
  tickets.ports.approvals = approvals.port
  const eventSettings = createEventSettingsService(deps)
  const eventRoutingRules = createRoutingRuleService(deps)
  const events = createEventService({
    ...deps,
    tickets,
    links,
    workflows,
    settings: eventSettings,
    routing: eventRoutingRules
  })
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
    teams,
    customFields,
    tokens: createTokenService(withAuth),
    cis: createCiService(deps),
    changeFreezes: createFreezeService(deps),
    changePolicies: createPolicyService(deps),
    categories: createCategoryService(deps),
    templates: createTemplateService(deps),
    catalog: createCatalogService(deps),
    workflows,
    tickets,
    ticketBulk: createBulkService({ ...deps, tickets, teams, workflows }),
    links,
    problems: createProblemService({ ...deps, tickets, links }),
    requests: createRequestService({ ...deps, tickets, teams, workflows }),
    releases: createReleaseService({ ...deps, tickets, workflows }),
    deployments: createDeploymentService({ ...deps, tickets, workflows }),
    changes: createChangeService({ ...deps, tickets, links, workflows }),
    approvals,
    eventSettings,
    eventRoutingRules,
    events,
    problemRules: createProblemRuleService({ ...deps, tickets, links, workflows })
  }
}

export type Services = ReturnType<typeof createServices>
