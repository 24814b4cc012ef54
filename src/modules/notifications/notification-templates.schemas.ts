import { type Static, Type } from 'typebox'
import { CursorParam, DateTime, Limit, Nullable, StringEnum, Uuid } from '../../lib/schemas.js'
import { NOTIFICATION_EVENTS } from './outbox.js'
import { CHANNELS } from './rules.schemas.js'

const Locale = Type.String({ pattern: '^[a-z]{2,3}(-[A-Z]{2})?$', description: 'e.g. en, fr, de-CH' })
const placeholders =
  'Placeholders are {{name}}: number, title, status, recipient, actor, note, assignment, resolution, name, plannedStart, plannedEnd, conflicts, version.'

export const TemplateBody = Type.Object(
  {
    event: StringEnum(NOTIFICATION_EVENTS),
    locale: Locale,
    channel: StringEnum(CHANNELS),
    subject: Type.String({
      maxLength: 500,
      description: `Mail subject (the ticket number is put before it). ${placeholders}`
    }),
    text: Type.String({ minLength: 1, maxLength: 20_000, description: 'The plain-text part (the SMS body for sms)' }),
    html: Type.Optional(
      Nullable(Type.String({ maxLength: 50_000, description: 'The HTML part (mail only); values are HTML-escaped' }))
    )
  },
  { additionalProperties: false }
)
export type TemplateInput = Static<typeof TemplateBody>
export const TemplatePatch = Type.Partial(TemplateBody, { additionalProperties: false })
export type TemplatePatchInput = Static<typeof TemplatePatch>

export const TemplateListQuery = Type.Object(
  {
    event: Type.Optional(StringEnum(NOTIFICATION_EVENTS)),
    locale: Type.Optional(Locale),
    limit: Type.Optional(Limit),
    cursor: Type.Optional(CursorParam)
  },
  { additionalProperties: false }
)
export type TemplateListInput = Static<typeof TemplateListQuery>

export const TemplateView = Type.Object({
  id: Uuid,
  event: Type.String(),
  locale: Type.String(),
  channel: Type.String(),
  subject: Type.String(),
  text: Type.String(),
  html: Nullable(Type.String()),
  version: Type.Integer(),
  createdAt: DateTime,
  updatedAt: DateTime
})

export const PreviewBody = Type.Object(
  {
    event: StringEnum(NOTIFICATION_EVENTS),
    locale: Type.Optional(Locale),
    channel: StringEnum(CHANNELS),
    subject: Type.Optional(Type.String({ maxLength: 500 })),
    text: Type.Optional(Type.String({ minLength: 1, maxLength: 20_000 })),
    html: Type.Optional(Nullable(Type.String({ maxLength: 50_000 })))
  },
  {
    additionalProperties: false,
    description:
      'Parts given are previewed as written (and checked); parts left out come from the template in force for the event, locale and channel'
  }
)
export type PreviewInput = Static<typeof PreviewBody>

export const Preview = Type.Object({
  source: StringEnum(['given', 'override', 'shipped'] as const, {
    description:
      'Where the parts not given came from: an admin override (this locale, else en) or the shipped English set'
  }),
  templateId: Nullable(Uuid),
  subject: Type.String(),
  text: Type.String(),
  html: Nullable(Type.String())
})
