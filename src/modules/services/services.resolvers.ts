import type { Loaders, Resolvers } from '../../graphql/types.js'
import type { Args, GqlCtx } from '../../lib/graphql.js'
import { adminResolvers } from '../admin/admin-resolvers.js'
import { teamsBy } from '../identity/identity.resolvers.js'
import { KIND_INFO } from '../kinds/kinds.js'
import { CreateServiceBody, ServiceListQuery, UpdateServiceBody } from './services.schemas.js'
import { serviceKeyset } from './services.service.js'

/** GraphQL door to the service catalog: the REST schemas check the arguments, the same service acts. */
export function serviceResolvers(): Resolvers {
  return adminResolvers({
    service: services => services.serviceCatalog,
    names: { get: 'service', list: 'services', create: 'createService', update: 'updateService' },
    listQuery: ServiceListQuery,
    create: CreateServiceBody,
    patch: UpdateServiceBody,
    // An explicit null clears a team or the calendar; other nulls mean "not given"
    clearable: ['ownerTeamId', 'supportTeamId', 'hoursCalendarId', 'costCentreId'],
    cursorOf: serviceKeyset.cursorOf
  })
}

/** The service a ticket names, looked up for all tickets of a response in one batch (null when hidden). */
async function serviceOfTickets(queries: { obj: { serviceId?: unknown }; params: Args }[], { ctx, services }: GqlCtx) {
  const ids = queries.map(q => (typeof q.obj.serviceId === 'string' ? q.obj.serviceId : null))
  const found = await services.serviceCatalog.byIds(
    ctx,
    ids.filter((id): id is string => id !== null)
  )
  const byId = new Map(found.flatMap(s => (s ? [[s.id, s] as const] : [])))
  return ids.map(id => (id ? (byId.get(id) ?? null) : null))
}

/** `service` on every ticket type (the schema part extends them). */
export function serviceLoaders(): Loaders {
  return {
    ...Object.fromEntries(Object.values(KIND_INFO).map(info => [info.typeName, { service: serviceOfTickets }])),
    Service: { ownerTeam: teamsBy('ownerTeamId'), supportTeam: teamsBy('supportTeamId') }
  }
}
