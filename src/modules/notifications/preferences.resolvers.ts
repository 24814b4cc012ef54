import type { Resolvers } from '../../graphql/types.js'
import { nullsKept } from '../../lib/graphql.js'
import { Uuid } from '../../lib/schemas.js'
import { adminSettingsResolvers } from '../admin/admin-resolvers.js'
import { PreferencesBody } from './preferences.schemas.js'

/** GraphQL door to notification preferences: the keyed-settings door, same schemas and service as REST. */
export function preferenceResolvers(): Resolvers {
  return adminSettingsResolvers({
    service: services => services.notificationPreferences,
    names: { get: 'notificationPreferences', set: 'setNotificationPreferences' },
    key: { arg: 'userId', schema: Uuid },
    body: PreferencesBody,
    input: raw => nullsKept(raw, ['quietHours'])
  })
}
