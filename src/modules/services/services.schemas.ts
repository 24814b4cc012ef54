import { type Static, Type } from 'typebox'
import { CursorParam, DateTime, Limit, Nullable, StringEnum, Uuid } from '../../lib/schemas.js'

/** ITIL's service portfolio: planned (in the pipeline), live (in the catalogue), retired. */
export const SERVICE_STATUSES = ['planned', 'live', 'retired'] as const
export type ServiceStatus = (typeof SERVICE_STATUSES)[number]
/** Most organisations one service lists as subscribers. */
export const MAX_SUBSCRIBERS = 1000

const Name = Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' })
const Description = Type.String({ maxLength: 10_000 })
const OrganisationIds = Type.Array(Uuid, {
  maxItems: MAX_SUBSCRIBERS,
  description: 'The organisations subscribed to the service (their customers may see it when customerVisible)'
})
const OptionalId = (description: string) => Type.Optional(Nullable(Type.String({ format: 'uuid', description })))

export const Service = Type.Object({
  id: Uuid,
  name: Type.String(),
  description: Type.String(),
  status: StringEnum(SERVICE_STATUSES),
  ownerTeamId: Nullable(Uuid),
  supportTeamId: Nullable(Uuid),
  hoursCalendarId: Nullable(Uuid),
  customerVisible: Type.Boolean(),
  organisationIds: Type.Array(Uuid),
  costCentreId: Nullable(Uuid),
  version: Type.Integer(),
  createdAt: DateTime,
  updatedAt: DateTime
})

export const CreateServiceBody = Type.Object(
  {
    name: Name,
    description: Type.Optional(Description),
    status: Type.Optional(
      StringEnum(SERVICE_STATUSES, {
        description: 'planned, live (the default) or retired; retired takes no new tickets'
      })
    ),
    ownerTeamId: OptionalId('The team accountable for the service'),
    supportTeamId: OptionalId('The team that supports it'),
    hoursCalendarId: OptionalId('The hours of cover: a business calendar'),
    customerVisible: Type.Optional(
      Type.Boolean({ description: 'Customers of subscribed organisations see it (default false: staff only)' })
    ),
    organisationIds: Type.Optional(OrganisationIds),
    costCentreId: OptionalId('The cost centre carrying the service (finance)')
  },
  { additionalProperties: false }
)
export type CreateServiceInput = Static<typeof CreateServiceBody>

export const UpdateServiceBody = Type.Object(
  {
    name: Type.Optional(Name),
    description: Type.Optional(Description),
    status: Type.Optional(StringEnum(SERVICE_STATUSES)),
    ownerTeamId: Type.Optional(Nullable(Uuid)),
    supportTeamId: Type.Optional(Nullable(Uuid)),
    hoursCalendarId: Type.Optional(Nullable(Uuid)),
    customerVisible: Type.Optional(Type.Boolean()),
    organisationIds: Type.Optional(OrganisationIds),
    costCentreId: Type.Optional(Nullable(Uuid))
  },
  {
    additionalProperties: false,
    minProperties: 1,
    description:
      'null clears ownerTeamId, supportTeamId, hoursCalendarId or costCentreId; organisationIds replaces the list'
  }
)
export type UpdateServiceInput = Static<typeof UpdateServiceBody>

export const ServiceListQuery = Type.Object(
  {
    status: Type.Optional(StringEnum(SERVICE_STATUSES)),
    customerVisible: Type.Optional(Type.Boolean()),
    ownerTeamId: Type.Optional(Uuid),
    supportTeamId: Type.Optional(Uuid),
    organisationId: Type.Optional(
      Type.String({ format: 'uuid', description: 'Services this organisation subscribes to' })
    ),
    q: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Part of the name' })),
    limit: Type.Optional(Limit),
    cursor: Type.Optional(CursorParam)
  },
  { additionalProperties: false }
)
export type ServiceListInput = Static<typeof ServiceListQuery>
