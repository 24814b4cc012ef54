import type { Loaders, Resolvers } from '../../graphql/types.js'
import type { Args, GqlCtx } from '../../lib/graphql.js'
import { adminResolvers } from '../admin/admin-resolvers.js'
import { CreateOfferingBody, OfferingListQuery, UpdateOfferingBody } from './catalog.schemas.js'
import { offeringKeyset } from './catalog.service.js'

/** GraphQL door to catalog offerings: the REST schemas check the arguments, the same service acts. */
export function catalogResolvers(): Resolvers {
  return adminResolvers({
    service: services => services.catalog,
    names: {
      get: 'catalogOffering',
      list: 'catalogOfferings',
      create: 'createCatalogOffering',
      update: 'updateCatalogOffering'
    },
    listQuery: OfferingListQuery,
    create: CreateOfferingBody,
    patch: UpdateOfferingBody,
    // An explicit null clears teamId or approval; other nulls mean "not given"
    clearable: ['teamId', 'serviceId', 'approval'],
    cursorOf: offeringKeyset.cursorOf
  })
}

/** Service.offerings: the offerings under every service of a response in one query. */
export function catalogLoaders(): Loaders {
  return {
    Service: {
      offerings: async (queries: { obj: { id?: string }; params: Args }[], { ctx, services }: GqlCtx) => {
        const ids = queries.map(q => String(q.obj.id))
        const found = await services.catalog.underServices(ctx, ids)
        return ids.map(id => found.get(id) ?? [])
      }
    }
  }
}
