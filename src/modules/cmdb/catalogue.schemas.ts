import { type Static, Type } from 'typebox'
import { CursorParam, DateTime, Nullable, StringEnum, Uuid } from '../../lib/schemas.js'

export const ATTRIBUTE_TYPES = ['text', 'number', 'boolean', 'date', 'enum', 'ci'] as const
const Key = (description: string) =>
  Type.String({ minLength: 1, maxLength: 63, pattern: '^[a-z][a-z0-9_]*$', description })
const Label = Type.String({ minLength: 1, maxLength: 200 })
const Description = Type.String({ maxLength: 2000 })
const Limit = Type.Optional(Type.Integer({ minimum: 1, maximum: 500 }))

export const AttributeDefinition = Type.Object(
  {
    name: Key('Attribute name: lower-case letters, digits and _'),
    type: StringEnum(ATTRIBUTE_TYPES, { description: 'ci: the id of another configuration item' }),
    label: Type.Optional(Label),
    required: Type.Optional(Type.Boolean()),
    unique: Type.Optional(Type.Boolean({ description: 'One value per CI across the class and its subclasses' })),
    default: Type.Optional(Type.Unknown({ description: 'Filled in on create when no value is given' })),
    values: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { minItems: 1, maxItems: 200, uniqueItems: true })
    )
  },
  { additionalProperties: false }
)
const Attributes = Type.Array(AttributeDefinition, { maxItems: 200 })

// ---- classes
export const CiClass = Type.Object({
  id: Uuid,
  name: Type.String(),
  label: Type.String(),
  description: Type.String(),
  parentId: Nullable(Uuid),
  attributes: Type.Array(AttributeDefinition, { description: 'Defined by this class' }),
  effectiveAttributes: Type.Array(AttributeDefinition, { description: 'Its own and those it inherits' }),
  builtin: Type.Boolean(),
  version: Type.Integer(),
  createdAt: DateTime,
  updatedAt: DateTime
})

export const CreateCiClassBody = Type.Object(
  {
    name: Key('Class name, as CIs name it (lower-case letters, digits and _); fixed once created'),
    label: Label,
    description: Type.Optional(Description),
    parentId: Type.Optional(Nullable(Uuid)),
    attributes: Type.Optional(Attributes)
  },
  { additionalProperties: false }
)
export type CreateCiClassInput = Static<typeof CreateCiClassBody>

export const UpdateCiClassBody = Type.Object(
  {
    label: Type.Optional(Label),
    description: Type.Optional(Description),
    parentId: Type.Optional(Nullable(Uuid)),
    attributes: Type.Optional(Attributes)
  },
  { additionalProperties: false, minProperties: 1 }
)
export type UpdateCiClassInput = Static<typeof UpdateCiClassBody>

export const CiClassListQuery = Type.Object(
  { parentId: Type.Optional(Uuid), limit: Limit, cursor: Type.Optional(CursorParam) },
  { additionalProperties: false }
)
export type CiClassListInput = Static<typeof CiClassListQuery>

// ---- relationship types
export const RelationshipType = Type.Object({
  id: Uuid,
  name: Type.String(),
  label: Type.String({ description: 'Read from the source: "runs on"' }),
  reverseLabel: Type.String({ description: 'Read from the target: "hosts"' }),
  builtin: Type.Boolean(),
  version: Type.Integer(),
  createdAt: DateTime,
  updatedAt: DateTime
})
export const CreateRelationshipTypeBody = Type.Object(
  { name: Key('Type name relationships carry'), label: Label, reverseLabel: Label },
  { additionalProperties: false }
)
export type CreateRelationshipTypeInput = Static<typeof CreateRelationshipTypeBody>
export const UpdateRelationshipTypeBody = Type.Object(
  { label: Type.Optional(Label), reverseLabel: Type.Optional(Label) },
  { additionalProperties: false, minProperties: 1 }
)
export type UpdateRelationshipTypeInput = Static<typeof UpdateRelationshipTypeBody>
export const NamedListQuery = Type.Object(
  { limit: Limit, cursor: Type.Optional(CursorParam) },
  { additionalProperties: false }
)
export type NamedListInput = Static<typeof NamedListQuery>

// ---- discovery sources
export const DiscoverySource = Type.Object({
  id: Uuid,
  name: Type.String(),
  description: Type.String(),
  precedence: Type.Integer({ description: 'Overwrites fields last written by sources of lower or equal precedence' }),
  overridesManual: Type.Boolean({ description: 'Whether it overwrites manual edits too' }),
  missingAfterDays: Nullable(Type.Integer({ description: 'CIs it has not seen for this long are marked missing' })),
  version: Type.Integer(),
  createdAt: DateTime,
  updatedAt: DateTime
})
const Precedence = Type.Integer({ minimum: 0, maximum: 1000 })
const MissingAfter = Nullable(Type.Integer({ minimum: 1, maximum: 3650 }))
export const CreateDiscoverySourceBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]*$' }),
    description: Type.Optional(Description),
    precedence: Type.Optional(Precedence),
    overridesManual: Type.Optional(Type.Boolean()),
    missingAfterDays: Type.Optional(MissingAfter)
  },
  { additionalProperties: false }
)
export type CreateDiscoverySourceInput = Static<typeof CreateDiscoverySourceBody>
export const UpdateDiscoverySourceBody = Type.Object(
  {
    description: Type.Optional(Description),
    precedence: Type.Optional(Precedence),
    overridesManual: Type.Optional(Type.Boolean()),
    missingAfterDays: Type.Optional(MissingAfter)
  },
  { additionalProperties: false, minProperties: 1 }
)
export type UpdateDiscoverySourceInput = Static<typeof UpdateDiscoverySourceBody>
