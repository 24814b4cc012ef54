import { type Static, Type } from 'typebox'
import { DateTime, Nullable, StringEnum, Uuid } from '../../lib/schemas.js'
import { CHANNELS } from './rules.schemas.js'

const Channels = Type.Array(StringEnum(CHANNELS), { maxItems: 2, uniqueItems: true })
const Clock = Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$', description: 'local time, HH:MM' })

export const QuietHours = Type.Object(
  { from: Clock, until: Clock },
  { additionalProperties: false, description: 'In the user’s time zone; `from` after `until` spans midnight' }
)

export const PreferencesBody = Type.Object(
  {
    channels: Type.Optional(Channels),
    eventChannels: Type.Optional(
      Type.Record(Type.String({ maxLength: 64 }), Channels, {
        description:
          'Per event (`ticket.assigned`) or event group (`ticket`, `approval`, `change`, `release`, `sla`, `webhook`): the channels wanted instead of `channels`; [] is none. The event’s own entry wins over its group’s.'
      })
    ),
    locale: Type.Optional(Type.String({ pattern: '^[a-z]{2,3}(-[A-Z]{2})?$', description: 'e.g. en, fr, de-CH' })),
    timeZone: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'IANA zone, e.g. Europe/Paris' })),
    quietHours: Type.Optional(Nullable(QuietHours)),
    quietChannels: Type.Optional(Channels),
    ownChanges: Type.Optional(Type.Boolean({ description: 'Be told of your own changes too' }))
  },
  { additionalProperties: false }
)
export type PreferencesInput = Static<typeof PreferencesBody>

export const PreferencesView = Type.Object({
  userId: Uuid,
  channels: Type.Array(Type.String(), { description: 'The channels taken when no event entry says otherwise' }),
  eventChannels: Type.Record(Type.String(), Type.Array(Type.String())),
  locale: Type.String(),
  timeZone: Type.String(),
  quietHours: Nullable(QuietHours),
  quietChannels: Type.Array(Type.String(), { description: 'What quiet hours hold back until they end' }),
  ownChanges: Type.Boolean(),
  isDefault: Type.Boolean({ description: 'Nothing was set: the defaults apply' }),
  version: Type.Integer({ description: '0 while the defaults apply; send it back to change them' }),
  updatedAt: Nullable(DateTime)
})

export const UserIdParams = Type.Object({ id: Uuid }, { additionalProperties: false })
