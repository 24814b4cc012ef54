import { type Static, Type } from 'typebox'
import { CursorParam, DateTime, Limit, Nullable, StringEnum, Uuid } from '../../lib/schemas.js'
import { NOTIFICATION_EVENTS } from './outbox.js'

export const NOTIFICATION_STATES = ['pending', 'sent', 'dead'] as const

export const NotificationListQuery = Type.Object(
  {
    state: Type.Optional(StringEnum(NOTIFICATION_STATES, { description: 'pending, sent or dead (dead letters)' })),
    ticketId: Type.Optional(Uuid),
    event: Type.Optional(StringEnum(NOTIFICATION_EVENTS)),
    limit: Type.Optional(Limit),
    cursor: Type.Optional(CursorParam)
  },
  { additionalProperties: false }
)
export type NotificationListInput = Static<typeof NotificationListQuery>

export const DeliveryView = Type.Object({
  id: Uuid,
  channel: Type.String({ description: 'mail or sms' }),
  recipient: Type.String({ description: 'the address or E.164 number it went to' }),
  userId: Nullable(Uuid),
  status: Type.String({
    description:
      'sent, failed (permanent), retry (transient; tried again) or deferred (held by quiet hours for a row of its own)'
  }),
  attempt: Type.Integer(),
  messageId: Nullable(Type.String({ description: 'our Message-ID: the same on every attempt' })),
  providerMessageId: Nullable(Type.String()),
  error: Nullable(Type.String()),
  createdAt: DateTime
})

export const NotificationView = Type.Object({
  id: Uuid,
  event: Type.String(),
  ticketId: Nullable(Uuid),
  actorId: Nullable(Uuid),
  state: StringEnum(NOTIFICATION_STATES),
  attempts: Type.Integer(),
  maxAttempts: Type.Integer(),
  availableAt: DateTime,
  lastError: Nullable(Type.String()),
  sentAt: Nullable(DateTime),
  deadAt: Nullable(DateTime),
  createdAt: DateTime,
  deliveries: Type.Array(DeliveryView)
})

export const NotificationStatsView = Type.Object({
  pending: Type.Integer({ description: 'outbox rows not yet sent (the backlog)' }),
  oldestPendingSeconds: Nullable(Type.Integer({ description: 'age of the oldest pending row' })),
  dead: Type.Integer({ description: 'dead letters' })
})
