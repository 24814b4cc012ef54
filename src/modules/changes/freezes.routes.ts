import type { FastifyInstance } from 'fastify'
import { adminRoutes } from '../admin/admin-routes.js'
import { ChangeFreeze, CreateFreezeBody, FreezeListQuery, UpdateFreezeBody } from './freezes.schemas.js'

/** REST door to change freeze periods (staff read, admins write). */
export default async function freezeRoutes(app: FastifyInstance) {
  adminRoutes(app, {
    path: '/change-freezes',
    tags: ['changes'],
    view: ChangeFreeze,
    listQuery: FreezeListQuery,
    create: CreateFreezeBody,
    patch: UpdateFreezeBody,
    summary: {
      list: 'Change freezes overlapping a window (by start time, keyset pagination)',
      create: 'Declare a change freeze (admin)',
      get: 'Get a change freeze',
      update: 'Update a change freeze (admin)',
      remove: 'Delete a change freeze (admin)'
    },
    service: app => app.services.changeFreezes
  })
}
