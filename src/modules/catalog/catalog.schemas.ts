import { type Static, Type } from 'typebox'
import { CursorParam, DateTime, Limit, Nullable, StringEnum, Uuid } from '../../lib/schemas.js'

export const APPROVAL_RULES = ['all', 'any', 'quorum'] as const
/** Most fulfilment tasks one offering creates per request. */
export const MAX_TASKS = 50

const Name = Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' })
const Description = Type.String({ maxLength: 10_000 })
const Task = Type.String({ minLength: 1, maxLength: 300, pattern: '\\S' })
const Tasks = Type.Array(Task, { maxItems: MAX_TASKS, description: 'Fulfilment task titles, in order' })

export const OfferingApproval = Type.Object({
  rule: StringEnum(APPROVAL_RULES),
  quorum: Nullable(Type.Integer()),
  approverIds: Type.Array(Uuid),
  approverTeamId: Nullable(Uuid)
})

export const OfferingApprovalBody = Type.Object(
  {
    rule: StringEnum(APPROVAL_RULES, { description: 'all must approve, any one, or a quorum of them' }),
    quorum: Type.Optional(
      Nullable(
        Type.Integer({
          minimum: 1,
          maximum: 100,
          description:
            'Approvals needed, rule quorum only. Checked against the named approvers when no team is named; ' +
            'a team’s membership changes over time, so with a team it is not checked against its size'
        })
      )
    ),
    approverIds: Type.Array(Uuid, {
      maxItems: 100,
      uniqueItems: true,
      description: 'Active staff users (technician, supervisor, manager or admin)'
    }),
    approverTeamId: Type.Optional(Nullable(Type.String({ format: 'uuid', description: 'Its members approve too' })))
  },
  { additionalProperties: false }
)
export type OfferingApprovalInput = Static<typeof OfferingApprovalBody>

export const Offering = Type.Object({
  id: Uuid,
  name: Type.String(),
  description: Type.String(),
  teamId: Nullable(Uuid),
  serviceId: Nullable(Uuid),
  approval: Nullable(OfferingApproval),
  tasks: Type.Array(Type.String()),
  active: Type.Boolean(),
  version: Type.Integer(),
  createdAt: DateTime,
  updatedAt: DateTime
})

export const CreateOfferingBody = Type.Object(
  {
    name: Name,
    description: Type.Optional(Description),
    teamId: Type.Optional(Nullable(Type.String({ format: 'uuid', description: 'The team that fulfils it' }))),
    serviceId: Type.Optional(
      Nullable(Type.String({ format: 'uuid', description: 'The service it is offered under (see /api/v1/services)' }))
    ),
    approval: Type.Optional(Nullable(OfferingApprovalBody)),
    tasks: Type.Optional(Tasks),
    active: Type.Optional(Type.Boolean())
  },
  { additionalProperties: false }
)
export type CreateOfferingInput = Static<typeof CreateOfferingBody>

export const UpdateOfferingBody = Type.Object(
  {
    name: Type.Optional(Name),
    description: Type.Optional(Description),
    teamId: Type.Optional(Nullable(Uuid)),
    serviceId: Type.Optional(Nullable(Uuid)),
    approval: Type.Optional(Nullable(OfferingApprovalBody)),
    tasks: Type.Optional(Tasks),
    active: Type.Optional(Type.Boolean())
  },
  { additionalProperties: false, minProperties: 1, description: 'null clears teamId, serviceId or approval' }
)
export type UpdateOfferingInput = Static<typeof UpdateOfferingBody>

export const OfferingListQuery = Type.Object(
  {
    active: Type.Optional(Type.Boolean()),
    serviceId: Type.Optional(Type.String({ format: 'uuid', description: 'The offerings under this service' })),
    q: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Part of the name' })),
    limit: Type.Optional(Limit),
    cursor: Type.Optional(CursorParam)
  },
  { additionalProperties: false }
)
export type OfferingListInput = Static<typeof OfferingListQuery>
