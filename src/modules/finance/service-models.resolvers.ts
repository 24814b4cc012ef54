import type { Resolvers } from '../../graphql/types.js'
import { adminResolvers, mergeResolvers } from '../admin/admin-resolvers.js'
import {
  CreateServiceConsumerBody,
  CreateServiceCostWeightBody,
  CreateServicePriceBody,
  ServiceConsumerListQuery,
  ServiceCostWeightListQuery,
  ServicePriceListQuery,
  UpdateServiceConsumerBody,
  UpdateServiceCostWeightBody,
  UpdateServicePriceBody
} from './service-models.schemas.js'
import { consumerKeyset, priceKeyset, weightKeyset } from './service-models.service.js'

/** GraphQL door to the service cost model: the admin-resource door, the same services as REST. */
export function serviceModelResolvers(): Resolvers {
  return mergeResolvers(
    adminResolvers({
      service: services => services.serviceModels.weights,
      names: {
        get: 'serviceCostWeight',
        list: 'serviceCostWeights',
        create: 'createServiceCostWeight',
        update: 'updateServiceCostWeight',
        remove: 'deleteServiceCostWeight'
      },
      listQuery: ServiceCostWeightListQuery,
      create: CreateServiceCostWeightBody,
      patch: UpdateServiceCostWeightBody,
      cursorOf: weightKeyset.cursorOf
    }),
    adminResolvers({
      service: services => services.serviceModels.prices,
      names: {
        get: 'servicePrice',
        list: 'servicePrices',
        create: 'createServicePrice',
        update: 'updateServicePrice',
        remove: 'deleteServicePrice'
      },
      listQuery: ServicePriceListQuery,
      create: CreateServicePriceBody,
      patch: UpdateServicePriceBody,
      clearable: ['quantityAttribute'],
      cursorOf: priceKeyset.cursorOf
    }),
    adminResolvers({
      service: services => services.serviceModels.consumers,
      names: {
        get: 'serviceConsumer',
        list: 'serviceConsumers',
        create: 'createServiceConsumer',
        update: 'updateServiceConsumer',
        remove: 'deleteServiceConsumer'
      },
      listQuery: ServiceConsumerListQuery,
      create: CreateServiceConsumerBody,
      patch: UpdateServiceConsumerBody,
      cursorOf: consumerKeyset.cursorOf
    })
  )
}
