import type { IResolvers, MercuriusLoaders } from 'mercurius'
import { ticketLoaders, ticketResolvers } from '../tickets/tickets.resolvers.js'
import { incidentSchemas } from './incidents.schemas.js'

/** GraphQL door to incidents: the shared ticket resolvers. */
export const incidentResolvers = (): IResolvers =>
  ticketResolvers('incident', incidentSchemas.create, incidentSchemas.update)

export const incidentLoaders = (): MercuriusLoaders => ticketLoaders('Incident')
