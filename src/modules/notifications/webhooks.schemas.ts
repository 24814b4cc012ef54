import { type Static, Type } from 'typebox'
import { CursorParam, DateTime, Limit, Nullable, StringEnum, Uuid } from '../../lib/schemas.js'
import { NOTIFICATION_EVENTS } from './outbox.js'

const Name = Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' })
const Url = Type.String({ minLength: 1, maxLength: 2000, description: 'http(s) URL on a public address' })
const Events = Type.Array(StringEnum(NOTIFICATION_EVENTS), { minItems: 1, maxItems: 50 })
const Filter = Type.String({
  minLength: 1,
  maxLength: 2000,
  description: 'RSQL over the ticket: priority==1;kind==incident'
})

export const WebhookBody = Type.Object(
  {
    name: Name,
    url: Url,
    events: Events,
    filter: Type.Optional(Nullable(Filter)),
    enabled: Type.Optional(Type.Boolean())
  },
  { additionalProperties: false }
)
export type WebhookInput = Static<typeof WebhookBody>

export const WebhookPatch = Type.Partial(WebhookBody, { additionalProperties: false })
export type WebhookPatchInput = Static<typeof WebhookPatch>

export const WebhookListQuery = Type.Object(
  { limit: Type.Optional(Limit), cursor: Type.Optional(CursorParam) },
  { additionalProperties: false }
)
export type WebhookListInput = Static<typeof WebhookListQuery>

export const WebhookView = Type.Object({
  id: Uuid,
  name: Type.String(),
  url: Type.String(),
  events: Type.Array(Type.String()),
  filter: Nullable(Type.String()),
  enabled: Type.Boolean(),
  failingSince: Nullable(DateTime),
  disabledAt: Nullable(DateTime),
  ownerId: Nullable(Uuid),
  secret: Type.Optional(Type.String({ description: 'only in the answers of create and rotate: keep it' })),
  version: Type.Integer(),
  createdAt: DateTime,
  updatedAt: DateTime
})
