import type { FastifyInstance } from 'fastify'
import { adminSettingsRoutes } from '../admin/admin-routes.js'
import { PreferencesBody, PreferencesView, UserIdParams } from './preferences.schemas.js'

/** REST door to a user's notification preferences (the keyed-settings door, keyed by the user). */
export default async function preferenceRoutes(app: FastifyInstance) {
  adminSettingsRoutes(app, {
    path: '/users',
    key: { name: 'id', params: UserIdParams },
    suffix: '/notification-preferences',
    tags: ['notifications'],
    view: PreferencesView,
    body: PreferencesBody,
    summary: {
      get: 'A user’s notification preferences (the user themselves or a user admin)',
      set: 'Set a user’s notification preferences: channels overall and per event or group, quiet hours, locale'
    },
    description: {
      set: 'Fields left out keep their value. Quiet hours hold back the quietChannels (SMS by default) until they end, in the user’s time zone; nothing is dropped.'
    },
    service: app => ({
      get: (ctx, id: string) => app.services.notificationPreferences.get(ctx, id),
      set: (ctx, id: string, input, version) => app.services.notificationPreferences.set(ctx, id, input, version)
    })
  })
}
