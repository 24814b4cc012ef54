import type { Loaders, Resolvers } from '../../graphql/types.js'
import { ticketLoaders, ticketResolvers } from '../tickets/tickets.resolvers.js'
import { incidentSchemas } from './incidents.schemas.js'

// Shared GraphQL helpers moved to src/lib/graphql.ts; re-exported for modules that still import them here
export { defined, type GqlCtx, pageArgs, paged } from '../../lib/graphql.js'

/** GraphQL door to incidents: the shared ticket resolvers. */
export const incidentResolvers = (): Resolvers =>
  ticketResolvers('incident', incidentSchemas.create, incidentSchemas.update)

export const incidentLoaders = (): Loaders => ticketLoaders('Incident')
