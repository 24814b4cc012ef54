import type { Resolvers } from '../../graphql/types.js'
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
    clearable: ['teamId', 'approval'],
    cursorOf: offeringKeyset.cursorOf
  })
}
