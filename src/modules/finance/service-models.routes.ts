import type { FastifyInstance } from 'fastify'
import { adminRoutes } from '../admin/admin-routes.js'
import {
  CreateServiceConsumerBody,
  CreateServiceCostWeightBody,
  CreateServicePriceBody,
  ServiceConsumer,
  ServiceConsumerListQuery,
  ServiceCostWeight,
  ServiceCostWeightListQuery,
  ServicePrice,
  ServicePriceListQuery,
  UpdateServiceConsumerBody,
  UpdateServiceCostWeightBody,
  UpdateServicePriceBody
} from './service-models.schemas.js'

/** REST door to the service cost model: weights, prices and consumers of service CIs (finance, admin). */
export default async function serviceModelRoutes(app: FastifyInstance) {
  const tags = ['finance']
  adminRoutes(app, {
    path: '/service-cost-weights',
    tags,
    view: ServiceCostWeight,
    listQuery: ServiceCostWeightListQuery,
    create: CreateServiceCostWeightBody,
    patch: UpdateServiceCostWeightBody,
    summary: {
      list: 'Explicit weights service CIs bear of the CIs beneath them (finance, admin)',
      create: "Set a service CI's weight of a CI beneath it, for cost-per-service split=weights (finance, admin)",
      get: 'Get a service cost weight',
      update: 'Change a weight',
      remove: 'Delete a weight'
    },
    description: {
      create:
        'weight is an exact decimal string above 0 (422 naming weight otherwise). With split=weights a CI splits its cost over the services reaching it by their weights over the sum of them; a reaching service without a weight bears none of it while another has one; a CI no reaching service weights splits evenly.'
    },
    service: app => app.services.serviceModels.weights
  })

  adminRoutes(app, {
    path: '/service-prices',
    tags,
    view: ServicePrice,
    listQuery: ServicePriceListQuery,
    create: CreateServicePriceBody,
    patch: UpdateServicePriceBody,
    summary: {
      list: 'Service prices (finance, admin)',
      create: 'Price a service CI per month: flat, per user or per unit, from validFrom to validTo',
      get: 'Get a service price',
      update: 'Change a service price',
      remove: 'Delete a service price'
    },
    description: {
      create:
        "amount is per month; per_user and per_unit multiply it by the service CI's numeric attribute quantityAttribute (0 when the CI lacks it). currency defaults to the reporting currency. validFrom and validTo (inclusive days; null or left out: since always, open-ended) bound when it is in force; a service has at most one price in force on any day (409 naming validFrom on an overlap, 422 when validTo is before validFrom). A month with a change of price counts each price for the share of the month's days it is in force."
    },
    service: app => app.services.serviceModels.prices
  })

  adminRoutes(app, {
    path: '/service-consumers',
    tags,
    view: ServiceConsumer,
    listQuery: ServiceConsumerListQuery,
    create: CreateServiceConsumerBody,
    patch: UpdateServiceConsumerBody,
    summary: {
      list: 'Organisations consuming service CIs, for chargeback (finance, admin)',
      create: 'Record that an organisation consumes a service CI, with its units of usage',
      get: 'Get a service consumer',
      update: "Change a consumer's units",
      remove: 'Delete a service consumer'
    },
    description: { create: 'units is an exact decimal string above 0 (default 1); chargeback by=usage splits by it.' },
    service: app => app.services.serviceModels.consumers
  })
}
