import type { FastifyInstance } from 'fastify'
import { adminRoutes } from '../admin/admin-routes.js'
import { CreateServiceBody, Service, ServiceListQuery, UpdateServiceBody } from './services.schemas.js'

/** REST door to the service catalog. No delete: tickets and offerings name services; retire one instead. */
export default async function serviceRoutes(app: FastifyInstance) {
  adminRoutes(app, {
    path: '/services',
    tags: ['services'],
    view: Service,
    listQuery: ServiceListQuery,
    create: CreateServiceBody,
    patch: UpdateServiceBody,
    summary: {
      list: 'List services by name (customers see the customer-visible ones their organisation subscribes to)',
      create: 'Create a service: owner and support teams, hours of cover, status, subscribers (admin)',
      get: 'Get a service',
      update: 'Update a service; null clears a team or the calendar, organisationIds replaces the list (admin)'
    },
    description: {
      list: 'The offerings under a service: GET /api/v1/catalog/offerings?serviceId=…',
      update: 'A retired service keeps its tickets but takes no new ones.'
    },
    service: app => app.services.serviceCatalog
  })
}
