import type { FastifyInstance } from 'fastify'
import { adminRoutes } from '../admin/admin-routes.js'
import { CreateOfferingBody, Offering, OfferingListQuery, UpdateOfferingBody } from './catalog.schemas.js'

/** REST door to the service catalog's offerings. No delete: retire an offering with active=false. */
export default async function catalogRoutes(app: FastifyInstance) {
  adminRoutes(app, {
    path: '/catalog/offerings',
    tags: ['catalog'],
    view: Offering,
    listQuery: OfferingListQuery,
    create: CreateOfferingBody,
    patch: UpdateOfferingBody,
    summary: {
      list: 'List catalog offerings by name, or those under a service (customers see active ones only)',
      create: 'Create a catalog offering with its approval rule and fulfilment tasks (admin)',
      get: 'Get a catalog offering',
      update: 'Update a catalog offering; null clears teamId, serviceId or approval (admin)'
    },
    service: app => app.services.catalog
  })
}
