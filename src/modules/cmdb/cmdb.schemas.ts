import { type Static, Type } from 'typebox'
import { CursorParam, DateTime, Nullable, StringEnum, Uuid } from '../../lib/schemas.js'

/** Lifecycle of a configuration item. The full CMDB may widen this list; it never narrows it. */
export const CI_STATUSES = ['planned', 'active', 'maintenance', 'retired'] as const
export const CI_RELATIONSHIP_TYPES = ['runs_on', 'depends_on', 'connects_to', 'part_of'] as const
export type CiRelationshipType = (typeof CI_RELATIONSHIP_TYPES)[number]

const Name = Type.String({ minLength: 1, maxLength: 200 })
const CiClass = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$',
  description: 'A class name such as server, switch, database (letters, digits, _ . -)'
})
// One or more DNS labels; stored lower-case without a trailing dot
const Label = '[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?'
const HostName = Type.String({
  minLength: 1,
  maxLength: 253,
  pattern: `^${Label}(?:\\.${Label})*\\.?$`,
  description: 'Host name (stored lower-case)'
})
const Fqdn = Type.String({
  minLength: 1,
  maxLength: 254,
  pattern: `^${Label}(?:\\.${Label})+\\.?$`,
  description: 'Fully qualified domain name, at least two labels (stored lower-case, without a trailing dot)'
})
const Serial = Type.String({
  minLength: 1,
  maxLength: 200,
  pattern: '^[^\\x00-\\x1f\\x7f]+$',
  description: 'Stored trimmed and upper-case; placeholders such as "To be filled by O.E.M." or "0" are stored as null'
})
const MacAddress = Type.String({
  minLength: 12,
  maxLength: 17,
  pattern:
    '^(?:[0-9A-Fa-f]{2}(?:[:-][0-9A-Fa-f]{2}){5}|[0-9A-Fa-f]{4}\\.[0-9A-Fa-f]{4}\\.[0-9A-Fa-f]{4}|[0-9A-Fa-f]{12})$',
  description: 'aa:bb:cc:dd:ee:ff, AA-BB-CC-DD-EE-FF, aabb.ccdd.eeff or bare hex; stored as lower-case colon pairs'
})
const SystemUuid = Type.String({
  minLength: 32,
  maxLength: 47,
  pattern: '^(?:urn:uuid:)?\\{?[0-9A-Fa-f-]{32,36}\\}?$',
  description: 'SMBIOS system UUID (with or without dashes or braces); stored lower-case with dashes'
})
const Status = StringEnum(CI_STATUSES)

export const Ci = Type.Object({
  id: Uuid,
  name: Type.String(),
  class: Type.String(),
  hostname: Nullable(Type.String()),
  fqdn: Nullable(Type.String()),
  serial: Nullable(Type.String()),
  macAddress: Nullable(Type.String()),
  systemUuid: Nullable(Type.String()),
  status: Type.String(),
  supportTeamId: Nullable(Uuid),
  version: Type.Integer({ description: 'Row version: the ETag; send it back (If-Match or `version`) to edit' }),
  createdAt: DateTime,
  updatedAt: DateTime
})

export const CreateCiBody = Type.Object(
  {
    name: Name,
    class: Type.Optional(CiClass),
    hostname: Type.Optional(Nullable(HostName)),
    fqdn: Type.Optional(Nullable(Fqdn)),
    serial: Type.Optional(Nullable(Serial)),
    macAddress: Type.Optional(Nullable(MacAddress)),
    systemUuid: Type.Optional(Nullable(SystemUuid)),
    status: Type.Optional(Status),
    supportTeamId: Type.Optional(Nullable(Uuid))
  },
  { additionalProperties: false }
)
export type CreateCiInput = Static<typeof CreateCiBody>

export const UpdateCiBody = Type.Object(
  {
    name: Type.Optional(Name),
    class: Type.Optional(CiClass),
    hostname: Type.Optional(Nullable(HostName)),
    fqdn: Type.Optional(Nullable(Fqdn)),
    serial: Type.Optional(Nullable(Serial)),
    macAddress: Type.Optional(Nullable(MacAddress)),
    systemUuid: Type.Optional(Nullable(SystemUuid)),
    status: Type.Optional(Status),
    supportTeamId: Type.Optional(Nullable(Uuid))
  },
  { additionalProperties: false, minProperties: 1 }
)
export type UpdateCiInput = Static<typeof UpdateCiBody>

export const CiListQuery = Type.Object(
  {
    q: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Part of the name, host name or FQDN' })),
    class: Type.Optional(CiClass),
    status: Type.Optional(Status),
    hostname: Type.Optional(HostName),
    fqdn: Type.Optional(Fqdn),
    serial: Type.Optional(Serial),
    macAddress: Type.Optional(MacAddress),
    systemUuid: Type.Optional(SystemUuid),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
    cursor: Type.Optional(CursorParam)
  },
  { additionalProperties: false }
)
export type CiListInput = Static<typeof CiListQuery>

export const RelateBody = Type.Object(
  {
    targetId: Uuid,
    type: StringEnum(CI_RELATIONSHIP_TYPES, { description: 'This CI <type> the target: a web server runs_on a VM' })
  },
  { additionalProperties: false }
)
export type RelateInput = Static<typeof RelateBody>

export const CiRelationship = Type.Object({
  id: Uuid,
  type: StringEnum(CI_RELATIONSHIP_TYPES),
  sourceId: Uuid,
  targetId: Uuid,
  direction: StringEnum(['outgoing', 'incoming'] as const, {
    description: 'outgoing: this CI is the source; incoming: it is the target'
  }),
  relatedCiId: Uuid,
  relatedCi: Ci,
  createdAt: DateTime
})

export const RelationshipListQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
    cursor: Type.Optional(CursorParam)
  },
  { additionalProperties: false }
)
export type RelationshipListInput = Static<typeof RelationshipListQuery>

export const RelationshipParams = Type.Object({ id: Uuid, relationshipId: Uuid }, { additionalProperties: false })
