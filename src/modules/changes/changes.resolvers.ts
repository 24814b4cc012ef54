import type { IResolvers, MercuriusLoaders } from 'mercurius'
import { ticketLoaders, ticketResolvers } from '../tickets/tickets.resolvers.js'
import { changeSchemas } from './changes.schemas.js'

/** GraphQL door to changes: the shared ticket resolvers. */
export const changeResolvers = (): IResolvers => ticketResolvers('change', changeSchemas.create, changeSchemas.update)

export const changeLoaders = (): MercuriusLoaders => ticketLoaders('Change')
