import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { errorResponses } from '../../lib/schemas.js'

export const DirectorySyncReport = Type.Object({
  created: Type.Integer(),
  updated: Type.Integer(),
  unchanged: Type.Integer(),
  disabled: Type.Integer(),
  errors: Type.Array(Type.Object({ username: Type.String(), message: Type.String() }))
})

/** REST door to directory sync. */
export default async function directoryRoutes(base: FastifyInstance) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>()
  const { directorySync } = app.services

  app.post(
    '/directory/sync',
    {
      schema: {
        tags: ['users'],
        summary: 'Sync users from the LDAP directory now: create, update, disable (admin)',
        response: { 200: DirectorySyncReport, ...errorResponses(403, 409, 503) }
      }
    },
    async request => directorySync.sync(request.ctx())
  )
}
