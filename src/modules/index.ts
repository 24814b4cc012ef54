import { approvalsManifest } from './approvals/approvals.manifest.js'
import { calendarsManifest } from './calendars/calendars.manifest.js'
import { catalogManifest } from './catalog/catalog.manifest.js'
import { categoriesManifest } from './categories/categories.manifest.js'
import { changesManifest } from './changes/changes.manifest.js'
import { cmdbManifest } from './cmdb/cmdb.manifest.js'
import { customFieldsManifest } from './custom-fields/custom-fields.manifest.js'
import { eventsManifest } from './events/events.manifest.js'
import { financeManifest } from './finance/finance.manifest.js'
import { identityManifest } from './identity/identity.manifest.js'
import { incidentsManifest } from './incidents/incidents.manifest.js'
import { linksManifest } from './links/links.manifest.js'
import type { ModuleManifest } from './manifest.js'
import { notificationsManifest } from './notifications/notifications.manifest.js'
import { problemsManifest } from './problems/problems.manifest.js'
import { releasesManifest } from './releases/releases.manifest.js'
import { requestsManifest } from './requests/requests.manifest.js'
import { servicesManifest } from './services/services.manifest.js'
import { slaClocksManifest } from './sla-clocks/sla-clocks.manifest.js'
import { slaEscalationsManifest } from './sla-escalations/sla-escalations.manifest.js'
import { slaReportsManifest } from './sla-reports/sla-reports.manifest.js'
import { templatesManifest } from './templates/templates.manifest.js'
import { ticketReportsManifest } from './ticket-reports/ticket-reports.manifest.js'
import { ticketsManifest } from './tickets/tickets.manifest.js'
import { workflowsManifest } from './workflows/workflows.manifest.js'

/**
 * Every module, the one place that names them. Order is the order of REST routes (and so of
 * openapi.yaml), GraphQL merging and jobs; services are built in dependency order whatever it is.
 * Modules without runtime parts (kinds, audit, admin) are libraries of the others and have no manifest.
 */
export const modules: readonly ModuleManifest[] = [
  identityManifest,
  incidentsManifest,
  requestsManifest,
  problemsManifest,
  changesManifest,
  approvalsManifest,
  releasesManifest,
  ticketsManifest,
  linksManifest,
  workflowsManifest,
  cmdbManifest,
  customFieldsManifest,
  categoriesManifest,
  templatesManifest,
  servicesManifest,
  catalogManifest,
  calendarsManifest,
  slaClocksManifest,
  eventsManifest,
  notificationsManifest,
  financeManifest,
  slaEscalationsManifest,
  slaReportsManifest,
  ticketReportsManifest
]
