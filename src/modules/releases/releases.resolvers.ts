import type { IResolvers, MercuriusLoaders } from 'mercurius'
import { ticketLoaders, ticketResolvers } from '../tickets/tickets.resolvers.js'
import { releaseSchemas } from './releases.schemas.js'

/** GraphQL door to releases: the shared ticket resolvers. */
export const releaseResolvers = (): IResolvers =>
  ticketResolvers('release', releaseSchemas.create, releaseSchemas.update)

export const releaseLoaders = (): MercuriusLoaders => ticketLoaders('Release')
