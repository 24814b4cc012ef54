import { type Static, Type } from 'typebox'
import { DateTime, DateTimeInput, Nullable, StringEnum, Uuid } from '../../lib/schemas.js'
import { INCIDENT_STATUSES } from './workflow.js'

export const Status = StringEnum(INCIDENT_STATUSES)
const Level = Type.Integer({ minimum: 1, maximum: 3, description: '1 high, 2 medium, 3 low' })
const Title = Type.String({ minLength: 1, maxLength: 300, pattern: '\\S' })
const Description = Type.String({ maxLength: 100_000 })
const Category = Type.String({ minLength: 1, maxLength: 200 })

const summaryFields = {
  id: Uuid,
  number: Type.String({ description: 'Human number, e.g. INC-000123' }),
  title: Type.String(),
  status: Status,
  impact: Type.Integer(),
  urgency: Type.Integer(),
  priority: Type.Integer({ description: '1 (critical) to 5 (planning), from impact x urgency' }),
  category: Nullable(Type.String()),
  requesterId: Uuid,
  organisationId: Nullable(Uuid),
  teamId: Nullable(Uuid),
  layer: Nullable(Type.Integer()),
  assigneeId: Nullable(Uuid),
  version: Type.Integer(),
  createdAt: DateTime,
  updatedAt: DateTime,
  resolvedAt: Nullable(DateTime),
  closedAt: Nullable(DateTime)
}

export const IncidentSummary = Type.Object(summaryFields)

export const Incident = Type.Object(
  {
    ...summaryFields,
    description: Type.String(),
    createdById: Uuid,
    resolutionCode: Nullable(Type.String()),
    resolution: Nullable(Type.String())
  },
  {}
)

export const CreateIncidentBody = Type.Object(
  {
    title: Title,
    description: Type.Optional(Description),
    impact: Type.Optional(Level),
    urgency: Type.Optional(Level),
    category: Type.Optional(Nullable(Category)),
    requesterId: Type.Optional(Uuid),
    teamId: Type.Optional(Uuid),
    layer: Type.Optional(Type.Integer({ minimum: 1, maximum: 10 })),
    assigneeId: Type.Optional(Uuid)
  },
  { additionalProperties: false }
)
export type CreateIncidentInput = Static<typeof CreateIncidentBody>

export const UpdateIncidentBody = Type.Object(
  {
    title: Type.Optional(Title),
    description: Type.Optional(Description),
    impact: Type.Optional(Level),
    urgency: Type.Optional(Level),
    category: Type.Optional(Nullable(Category)),
    requesterId: Type.Optional(Uuid),
    version: Type.Optional(Type.Integer({ minimum: 1, description: 'Alternative to If-Match' }))
  },
  { additionalProperties: false, minProperties: 1 }
)
export type UpdateIncidentInput = Omit<Static<typeof UpdateIncidentBody>, 'version'>

export const AssignmentBody = Type.Object(
  {
    teamId: Nullable(Uuid),
    layer: Type.Optional(Type.Integer({ minimum: 1, maximum: 10 })),
    assigneeId: Type.Optional(Nullable(Uuid)),
    version: Type.Optional(Type.Integer({ minimum: 1 }))
  },
  { additionalProperties: false }
)
export type AssignmentInput = Omit<Static<typeof AssignmentBody>, 'version'>

export const TransitionBody = Type.Object(
  {
    to: Status,
    resolutionCode: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    resolution: Type.Optional(Type.String({ minLength: 1, maxLength: 20_000 })),
    note: Type.Optional(Type.String({ minLength: 1, maxLength: 100_000 })),
    version: Type.Optional(Type.Integer({ minimum: 1 }))
  },
  { additionalProperties: false }
)
export type TransitionInput = Omit<Static<typeof TransitionBody>, 'version'>

export const Transitions = Type.Object({ status: Status, allowed: Type.Array(Status) })

export const NoteBody = Type.Object(
  {
    body: Type.String({ minLength: 1, maxLength: 100_000, pattern: '\\S' }),
    internal: Type.Optional(Type.Boolean({ default: false, description: 'Internal work note (staff only)' }))
  },
  { additionalProperties: false }
)
export type NoteInput = Static<typeof NoteBody>

export const Note = Type.Object(
  { id: Uuid, ticketId: Uuid, authorId: Uuid, internal: Type.Boolean(), body: Type.String(), createdAt: DateTime },
  {}
)

export const HistoryEntry = Type.Object(
  {
    id: Type.Integer(),
    at: DateTime,
    actorId: Nullable(Uuid),
    actor: Type.String(),
    action: Type.String(),
    changes: Type.Array(
      Type.Object({ field: Type.String(), old: Type.Unknown(), new: Type.Unknown() }, { additionalProperties: false })
    )
  },
  {}
)

export const SORTS = [
  'createdAt',
  '-createdAt',
  'updatedAt',
  '-updatedAt',
  'priority',
  '-priority',
  'number',
  '-number'
] as const
export type Sort = (typeof SORTS)[number]

const csv = (pattern: string, description: string) => Type.String({ pattern, maxLength: 200, description })

export const IncidentListQuery = Type.Object(
  {
    status: Type.Optional(
      csv(
        `^(${INCIDENT_STATUSES.join('|')})(,(${INCIDENT_STATUSES.join('|')}))*$`,
        'One status or a comma-separated list'
      )
    ),
    priority: Type.Optional(csv('^[1-5](,[1-5])*$', 'One priority or a comma-separated list')),
    impact: Type.Optional(Level),
    urgency: Type.Optional(Level),
    category: Type.Optional(Category),
    teamId: Type.Optional(Uuid),
    layer: Type.Optional(Type.Integer({ minimum: 1, maximum: 10 })),
    assigneeId: Type.Optional(Uuid),
    requesterId: Type.Optional(Uuid),
    organisationId: Type.Optional(Uuid),
    createdFrom: Type.Optional(DateTimeInput),
    createdTo: Type.Optional(DateTimeInput),
    updatedFrom: Type.Optional(DateTimeInput),
    updatedTo: Type.Optional(DateTimeInput),
    q: Type.Optional(
      Type.String({ minLength: 1, maxLength: 200, description: 'Free text over title and description' })
    ),
    sort: Type.Optional(StringEnum(SORTS, { default: '-createdAt' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
    cursor: Type.Optional(Type.String({ maxLength: 512 }))
  },
  { additionalProperties: false }
)
export type IncidentListInput = Static<typeof IncidentListQuery>

export const PageQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
    cursor: Type.Optional(Type.String({ maxLength: 512 }))
  },
  { additionalProperties: false }
)
export type PageInput = Static<typeof PageQuery>
