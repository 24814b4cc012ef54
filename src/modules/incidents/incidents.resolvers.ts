import type { Loaders, Resolvers } from '../../graphql/types.js'
import { ticketLoaders, ticketResolvers } from '../tickets/tickets.resolvers.js'
import { incidentSchemas } from './incidents.schemas.js'

/** GraphQL door to incidents: the shared ticket resolvers. */
export const incidentResolvers = (): Resolvers =>
  ticketResolvers('incident', incidentSchemas.create, incidentSchemas.update)

export const incidentLoaders = (): Loaders => ticketLoaders('Incident')
