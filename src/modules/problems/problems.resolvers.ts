import type { IResolvers, MercuriusLoaders } from 'mercurius'
import { ticketLoaders, ticketResolvers } from '../tickets/tickets.resolvers.js'
import { problemSchemas } from './problems.schemas.js'

/** GraphQL door to problems: the shared ticket resolvers. */
export const problemResolvers = (): IResolvers =>
  ticketResolvers('problem', problemSchemas.create, problemSchemas.update)

export const problemLoaders = (): MercuriusLoaders => ticketLoaders('Problem')
