import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { errorResponses } from '../../lib/schemas.js'
import { adminRoutes } from '../admin/admin-routes.js'
import {
  CreateOlaBody,
  CreateSlaBody,
  Ola,
  OlaListQuery,
  SimulateBody,
  Simulation,
  Sla,
  SlaListQuery,
  UpdateOlaBody,
  UpdateSlaBody
} from './slas.schemas.js'

/** REST doors to SLAs and OLAs, and the simulation of which a described ticket would get. */
export default async function slaRoutes(base: FastifyInstance) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>()
  app.post(
    '/slas/simulate',
    {
      schema: {
        tags: ['services'],
        summary: 'Which SLA and OLA a described ticket would get, and when each falls due (creates nothing)',
        body: SimulateBody,
        response: { 200: Simulation, ...errorResponses(403, 404, 422) }
      }
    },
    async request => base.services.slas.simulate(request.ctx(), request.body)
  )
  adminRoutes(base, {
    path: '/slas',
    tags: ['services'],
    view: Sla,
    listQuery: SlaListQuery,
    create: CreateSlaBody,
    patch: UpdateSlaBody,
    summary: {
      list: 'List SLAs by order',
      create: 'Create an SLA: calendar, matching conditions, order, per-priority targets (admin); answers warnings',
      get: 'Get an SLA with the warnings of the OLAs underpinning it',
      update: 'Update an SLA (admin); answers warnings when its OLAs do not fit inside it',
      remove: 'Delete an SLA no OLA underpins and no ticket clock names (admin)'
    },
    service: app => app.services.slas.slas
  })
  adminRoutes(base, {
    path: '/olas',
    tags: ['services'],
    view: Ola,
    listQuery: OlaListQuery,
    create: CreateOlaBody,
    patch: UpdateOlaBody,
    summary: {
      list: 'List OLAs by name',
      create: 'Create an OLA: team, calendar, per-priority targets, the SLAs it underpins (admin); answers warnings',
      get: 'Get an OLA with its warnings',
      update: 'Update an OLA (admin); answers warnings when it does not fit inside its SLAs',
      remove: 'Delete an OLA no ticket clock names (admin)'
    },
    service: app => app.services.slas.olas
  })
}
