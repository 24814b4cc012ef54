import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { errorResponses, IdParams, PageOf } from '../../lib/schemas.js'
import { ticketRoutes } from '../tickets/tickets.routes.js'
import { CalendarEntry, CalendarQuery, ChangeConflicts, ConflictsQuery, changeSchemas } from './changes.schemas.js'

const sharedRoutes = ticketRoutes('change', changeSchemas)

/** REST door to changes: the shared ticket routes under /changes, and the change calendar. */
export default async function changeRoutes(parent: FastifyInstance) {
  await sharedRoutes(parent)
  const app = parent.withTypeProvider<TypeBoxTypeProvider>()

  app.get(
    '/changes/calendar',
    {
      schema: {
        tags: ['changes'],
        summary:
          'Changes planned in [from, to) (at most 366 days), by start, with conflicts: same CI, related CI, freeze (staff only)',
        querystring: CalendarQuery,
        response: { 200: PageOf(CalendarEntry), ...errorResponses(403, 422) }
      }
    },
    async request => {
      const { items, nextCursor } = await app.services.changes.calendar(request.ctx(), request.query)
      return { items, nextCursor }
    }
  )

  app.get(
    '/changes/:id/conflicts',
    {
      schema: {
        tags: ['changes'],
        summary:
          'What this change collides with in its planned window: live changes on the same CI or on CIs it impacts or is impacted by (to depth hops of the CI graph), and freezes (staff only)',
        params: IdParams,
        querystring: ConflictsQuery,
        response: { 200: ChangeConflicts, ...errorResponses(403, 404) }
      }
    },
    async request => app.services.changes.conflicts(request.ctx(), request.params.id, request.query)
  )
}
