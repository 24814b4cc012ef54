import { type Static, Type } from 'typebox'
import { CursorParam, DateTime, Nullable, StringEnum, Uuid } from '../../lib/schemas.js'

/** Lifecycle of a configuration item, in order. */
export const CI_STATUSES = ['planned', 'ordered', 'in_stock', 'live', 'maintenance', 'retired', 'disposed'] as const
/** Names a relationship type of the catalogue (`GET /api/v1/ci-relationship-types`). */
const RelationshipTypeName = Type.String({
  minLength: 1,
  maxLength: 63,
  pattern: '^[a-z][a-z0-9_]*$',
  description: 'A relationship type of the catalogue: runs_on, depends_on, connects_to, part_of, installed_on …'
})

const Name = Type.String({ minLength: 1, maxLength: 200 })
const CiClass = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: '^[a-z][a-z0-9_]*$',
  description: 'A class of the catalogue (`GET /api/v1/ci-classes`) such as server, switch, database'
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
const AssetTag = Type.String({ minLength: 1, maxLength: 100, pattern: '^[^\\x00-\\x1f\\x7f]+$' })
const Location = Type.String({ minLength: 1, maxLength: 200 })
const Attributes = Type.Record(Type.String({ maxLength: 63 }), Type.Unknown(), {
  maxProperties: 200,
  description: 'Values of the class attributes by name; on update merged into the stored ones, null removes one'
})

export const Ci = Type.Object({
  id: Uuid,
  name: Type.String(),
  class: Type.String(),
  hostname: Nullable(Type.String()),
  fqdn: Nullable(Type.String()),
  serial: Nullable(Type.String()),
  macAddress: Nullable(Type.String()),
  macAddresses: Type.Array(Type.String(), { description: 'Every MAC address, the primary one included' }),
  systemUuid: Nullable(Type.String()),
  assetTag: Nullable(Type.String()),
  status: Type.String(),
  supportTeamId: Nullable(Uuid),
  ownerTeamId: Nullable(Uuid),
  organisationId: Nullable(Uuid),
  location: Nullable(Type.String()),
  costCentreId: Nullable(Uuid),
  attributes: Type.Record(Type.String(), Type.Unknown(), { description: 'Class attributes by name' }),
  missingSince: Nullable(DateTime),
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
    macAddresses: Type.Optional(Type.Array(MacAddress, { maxItems: 64 })),
    systemUuid: Type.Optional(Nullable(SystemUuid)),
    assetTag: Type.Optional(Nullable(AssetTag)),
    status: Type.Optional(Status),
    supportTeamId: Type.Optional(Nullable(Uuid)),
    ownerTeamId: Type.Optional(Nullable(Uuid)),
    organisationId: Type.Optional(Nullable(Uuid)),
    location: Type.Optional(Nullable(Location)),
    costCentreId: Type.Optional(Nullable(Uuid)),
    attributes: Type.Optional(Attributes)
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
    macAddresses: Type.Optional(Type.Array(MacAddress, { maxItems: 64 })),
    systemUuid: Type.Optional(Nullable(SystemUuid)),
    assetTag: Type.Optional(Nullable(AssetTag)),
    status: Type.Optional(Status),
    supportTeamId: Type.Optional(Nullable(Uuid)),
    ownerTeamId: Type.Optional(Nullable(Uuid)),
    organisationId: Type.Optional(Nullable(Uuid)),
    location: Type.Optional(Nullable(Location)),
    costCentreId: Type.Optional(Nullable(Uuid)),
    attributes: Type.Optional(Attributes)
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
    assetTag: Type.Optional(AssetTag),
    filter: Type.Optional(
      Type.String({
        maxLength: 2000,
        description:
          'RSQL over name, class, status, hostname, fqdn, serial, macAddress, systemUuid, assetTag, location, team and organisation ids, createdAt, updatedAt, missing, and attributes.<name>'
      })
    ),
    includeTotal: Type.Optional(Type.Boolean({ description: 'Also answer how many CIs match (costs a count)' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
    cursor: Type.Optional(CursorParam)
  },
  { additionalProperties: false }
)
export type CiListInput = Static<typeof CiListQuery>

export const RelateBody = Type.Object(
  {
    targetId: Uuid,
    type: RelationshipTypeName
  },
  { additionalProperties: false }
)
export type RelateInput = Static<typeof RelateBody>

export const CiRelationship = Type.Object({
  id: Uuid,
  type: Type.String(),
  label: Type.String({ description: 'The type read from the CI asked about: "runs on" outgoing, "hosts" incoming' }),
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

export const CiHistoryEntry = Type.Object({
  id: Type.Integer(),
  at: DateTime,
  actorId: Nullable(Uuid),
  actor: Type.String({ description: 'Who: a user, a token, or the system' }),
  source: Nullable(Type.String({ description: 'The discovery source when an import made the change' })),
  action: Type.String(),
  changes: Type.Array(
    Type.Object(
      {
        field: Type.String({ description: 'A field, or attributes.<name>' }),
        old: Type.Unknown(),
        new: Type.Unknown()
      },
      { additionalProperties: false }
    )
  )
})

export const CiListPage = Type.Object({
  items: Type.Array(Ci),
  nextCursor: Nullable(Type.String()),
  total: Type.Optional(Type.Integer({ description: 'With includeTotal=true: every CI the filters match' }))
})

export const MAX_IMPACT_DEPTH = 10
export const DEFAULT_IMPACT_LIMIT = 1000
export const MAX_IMPACT_LIMIT = 10_000
export const ImpactQuery = Type.Object(
  {
    direction: Type.Optional(
      StringEnum(['upstream', 'downstream', 'both'] as const, {
        default: 'both',
        description:
          'downstream: what the CI stands on (source → target: runs on, depends on, part of …); upstream: what stands on it (what breaks with it)'
      })
    ),
    depth: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_IMPACT_DEPTH, default: 3 })),
    limit: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_IMPACT_LIMIT,
        default: DEFAULT_IMPACT_LIMIT,
        description:
          'At most this many CIs, nearest first (then downstream before upstream, then by id); `truncated` says whether more were within the depth'
      })
    ),
    types: Type.Optional(
      Type.String({ maxLength: 1000, description: 'Comma-separated relationship types to follow (default: all)' })
    )
  },
  { additionalProperties: false }
)
export type ImpactInput = Static<typeof ImpactQuery>

const CiSummary = Type.Object({ id: Uuid, name: Type.String(), class: Type.String(), status: Type.String() })

export const ImpactNode = Type.Object({
  ci: CiSummary,
  direction: StringEnum(['upstream', 'downstream'] as const),
  distance: Type.Integer({ description: 'Hops from the CI asked about' }),
  path: Type.Array(Uuid, { description: 'CI ids from the CI asked about to this one, both included' }),
  type: Type.String({ description: 'Relationship type of the last hop' }),
  label: Type.String({ description: 'The last hop read towards this CI: "runs on" downstream, "hosts" upstream' })
})

export const Impact = Type.Object({
  root: CiSummary,
  direction: Type.String(),
  depth: Type.Integer(),
  limit: Type.Integer({ description: 'The most CIs this answer could hold' }),
  truncated: Type.Boolean({
    description: 'More CIs lie within the depth than `limit`: the nodes are the nearest; ask again with a higher limit'
  }),
  nodes: Type.Array(ImpactNode)
})

export const CiTicketsQuery = Type.Object(
  {
    state: Type.Optional(StringEnum(['open', 'all'] as const, { default: 'open' })),
    kind: Type.Optional(
      Type.String({ maxLength: 200, description: 'Comma-separated kinds: incident, problem, change, request, release' })
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
    cursor: Type.Optional(CursorParam)
  },
  { additionalProperties: false }
)
export type CiTicketsInput = Static<typeof CiTicketsQuery>

export const CiTicket = Type.Object({
  id: Uuid,
  kind: Type.String(),
  number: Type.String(),
  title: Type.String(),
  status: Type.String(),
  priority: Type.Integer(),
  createdAt: DateTime,
  resolvedAt: Nullable(DateTime),
  closedAt: Nullable(DateTime)
})
