import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { errorResponses, IdParams, PageOf } from '../../lib/schemas.js'
import { NotificationListQuery, NotificationStatsView, NotificationView } from './notifications.schemas.js'

const tags = ['notifications']

/** REST door to the notification outbox (admins). */
export default async function notificationRoutes(base: FastifyInstance) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>()
  const svc = app.services.notifications

  app.get(
    '/notifications',
    {
      schema: {
        tags,
        summary: 'List notifications with their deliveries, newest first (admin); state=dead lists dead letters',
        querystring: NotificationListQuery,
        response: { 200: PageOf(NotificationView), ...errorResponses(400, 403) }
      }
    },
    async request => svc.list(request.ctx(), request.query)
  )

  app.get(
    '/notifications/stats',
    {
      schema: {
        tags,
        summary: 'Outbox backlog, age of the oldest pending notification and dead letters (admin)',
        response: { 200: NotificationStatsView, ...errorResponses(403) }
      }
    },
    async request => svc.stats(request.ctx())
  )

  app.get(
    '/notifications/:id',
    {
      schema: {
        tags,
        summary: 'Get a notification with every delivery attempt (admin)',
        params: IdParams,
        response: { 200: NotificationView, ...errorResponses(403, 404) }
      }
    },
    async request => svc.get(request.ctx(), request.params.id)
  )

  app.post(
    '/notifications/:id/replay',
    {
      schema: {
        tags,
        summary: 'Send a dead or finished notification again (admin); recipients already reached are skipped',
        params: IdParams,
        response: { 200: NotificationView, ...errorResponses(403, 404, 409) }
      }
    },
    async request => svc.replay(request.ctx(), request.params.id)
  )
}
