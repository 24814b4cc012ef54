import type { IResolvers, MercuriusLoaders } from 'mercurius'
import { ticketLoaders, ticketResolvers } from '../tickets/tickets.resolvers.js'
import { requestSchemas } from './requests.schemas.js'

/** GraphQL door to requests: the shared ticket resolvers. */
export const requestResolvers = (): IResolvers =>
  ticketResolvers('request', requestSchemas.create, requestSchemas.update)

export const requestLoaders = (): MercuriusLoaders => ticketLoaders('ServiceRequest')
