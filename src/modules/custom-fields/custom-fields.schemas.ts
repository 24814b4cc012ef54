import { type Static, Type } from 'typebox'
import { CursorParam, DateTime, Limit, StringEnum, Uuid } from '../../lib/schemas.js'
import { TICKET_KINDS } from '../tickets/kinds.js'
import { CUSTOM_FIELD_TYPES } from './custom-fields.types.js'

export const MAX_OPTIONS = 200
export const MAX_OPTION_LENGTH = 200

export const TicketKindParam = StringEnum(TICKET_KINDS, { description: 'Ticket kind' })
const Key = Type.String({
  pattern: '^[a-z][a-zA-Z0-9_]{0,62}$',
  description: 'Name of the value in a ticket\u2019s customFields: a lower-case letter, then letters, digits or _'
})
const Label = Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' })
const Options = Type.Array(Type.String({ minLength: 1, maxLength: MAX_OPTION_LENGTH }), {
  maxItems: MAX_OPTIONS,
  uniqueItems: true,
  description: 'Allowed values of choice and multichoice fields (required for those, refused for others)'
})
const Position = Type.Integer({ minimum: 0, maximum: 1_000_000, description: 'Order in forms (ascending)' })
const DefaultValue = Type.Unknown({
  description: 'A valid value of the field\u2019s type used when a ticket is created without one; null for none'
})

export const CustomFieldDefinition = Type.Object(
  {
    id: Uuid,
    kind: TicketKindParam,
    key: Type.String(),
    label: Type.String(),
    type: StringEnum(CUSTOM_FIELD_TYPES),
    required: Type.Boolean(),
    defaultValue: DefaultValue,
    options: Type.Array(Type.String()),
    position: Type.Integer(),
    active: Type.Boolean(),
    version: Type.Integer(),
    createdAt: DateTime,
    updatedAt: DateTime
  },
  {}
)

export const CreateCustomFieldBody = Type.Object(
  {
    kind: TicketKindParam,
    key: Key,
    label: Label,
    type: StringEnum(CUSTOM_FIELD_TYPES),
    required: Type.Optional(Type.Boolean()),
    defaultValue: Type.Optional(DefaultValue),
    options: Type.Optional(Options),
    position: Type.Optional(Position),
    active: Type.Optional(Type.Boolean())
  },
  { additionalProperties: false }
)
export type CreateCustomFieldInput = Static<typeof CreateCustomFieldBody>

/** kind, key and type are fixed once created: values already stored depend on them. */
export const UpdateCustomFieldBody = Type.Object(
  {
    label: Type.Optional(Label),
    required: Type.Optional(Type.Boolean()),
    defaultValue: Type.Optional(DefaultValue),
    options: Type.Optional(Options),
    position: Type.Optional(Position),
    active: Type.Optional(Type.Boolean())
  },
  { additionalProperties: false, minProperties: 1 }
)
export type UpdateCustomFieldInput = Static<typeof UpdateCustomFieldBody>

export const CustomFieldListQuery = Type.Object(
  {
    kind: Type.Optional(TicketKindParam),
    active: Type.Optional(Type.Boolean()),
    limit: Type.Optional(Limit),
    cursor: Type.Optional(CursorParam)
  },
  { additionalProperties: false }
)
export type CustomFieldListInput = Static<typeof CustomFieldListQuery>
