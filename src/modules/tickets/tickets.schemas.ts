import { type Static, type TBoolean, type TOptional, type TProperties, Type } from 'typebox'
import { DateTime, DateTimeInput, Nullable, StringEnum, Uuid } from '../../lib/schemas.js'
import { KIND_TRANSITION_OPTIONS, type KindTransitionOption, TICKET_KINDS } from './kinds.js'

/** Statuses are workflow data an admin edits, so the API checks their shape, the workflow their meaning. */
export const Status = Type.String({ pattern: '^[a-z][a-z0-9_]{0,39}$', description: 'A status of the kind’s workflow' })
export const Level = Type.Integer({ minimum: 1, maximum: 3, description: '1 high, 2 medium, 3 low' })
export const Title = Type.String({ minLength: 1, maxLength: 300, pattern: '\\S' })
export const Description = Type.String({ maxLength: 100_000 })
const Category = Type.String({ minLength: 1, maxLength: 200 })
export const CustomFieldValues = Type.Record(Type.String({ maxLength: 63 }), Type.Unknown(), {
  description: 'Admin-defined fields of this kind, by key (see /api/v1/custom-fields)'
})

/** Who or what an id names, visible to whoever may see the ticket (GraphQL: `assignee { displayName }`). */
export const RefSummary = Type.Object(
  { id: Uuid, displayName: Type.String() },
  { description: 'The id beside it, named: { id, displayName }' }
)

const SlaClockSummary = Type.Object(
  {
    state: StringEnum(['running', 'paused', 'met', 'breached'] as const),
    dueAt: Nullable(DateTime),
    breached: Type.Boolean(),
    percentUsed: Type.Number({ description: 'Percent of the target used, as of now' })
  },
  { description: 'One SLA clock, compact (GET /tickets/{id}/sla has every clock in full)' }
)
/** The `sla` object of ticket reads. */
export const TicketSlaSummary = Type.Object(
  { response: Nullable(SlaClockSummary), resolution: Nullable(SlaClockSummary) },
  {
    description: "The SLA's response and resolution clocks (null: no such clock). On reads; write answers leave it out"
  }
)

export const summaryFields = {
  id: Uuid,
  kind: StringEnum(TICKET_KINDS),
  number: Type.String({ description: 'Human number, e.g. INC-000123' }),
  title: Type.String(),
  status: Status,
  impact: Type.Integer(),
  urgency: Type.Integer(),
  priority: Type.Integer({ description: '1 (critical) to 5 (planning), from impact x urgency' }),
  category: Nullable(Type.String()),
  categoryId: Nullable(Uuid),
  requesterId: Uuid,
  organisationId: Nullable(Uuid),
  serviceId: Nullable(Uuid),
  teamId: Nullable(Uuid),
  layer: Nullable(Type.Integer()),
  assigneeId: Nullable(Uuid),
  requester: Nullable(RefSummary),
  assignee: Nullable(RefSummary),
  team: Nullable(RefSummary),
  customFields: CustomFieldValues,
  version: Type.Integer(),
  createdAt: DateTime,
  updatedAt: DateTime,
  resolvedAt: Nullable(DateTime),
  closedAt: Nullable(DateTime),
  sla: Type.Optional(TicketSlaSummary)
}

export const fullFields = {
  ...summaryFields,
  description: Type.String(),
  createdById: Uuid,
  resolutionCode: Nullable(Type.String()),
  resolution: Nullable(Type.String()),
  ciIds: Type.Array(Uuid, { description: 'The configuration items the ticket concerns' })
}

/** At most this many CIs on one ticket. */
export const MAX_TICKET_CIS = 200
const CiIds = Type.Array(Uuid, {
  maxItems: MAX_TICKET_CIS,
  uniqueItems: true,
  description: 'The configuration items the ticket concerns (each must exist; needs CMDB read access)'
})

/** Fields every kind's create body accepts; a kind adds its own. */
export const createFields = {
  title: Type.Optional({
    ...Title,
    description: 'Required unless the template (templateId) gives one (400 naming `title`)'
  }),
  description: Type.Optional(Description),
  impact: Type.Optional(Level),
  urgency: Type.Optional(Level),
  category: Type.Optional(Nullable(Category)),
  categoryId: Type.Optional(Uuid),
  requesterId: Type.Optional(Uuid),
  serviceId: Type.Optional(
    Type.String({ format: 'uuid', description: 'The service of the catalog it is about (see /api/v1/services)' })
  ),
  teamId: Type.Optional(Uuid),
  layer: Type.Optional(Type.Integer({ minimum: 1, maximum: 10 })),
  assigneeId: Type.Optional(Uuid),
  customFields: Type.Optional(CustomFieldValues),
  templateId: Type.Optional(Type.String({ format: 'uuid', description: 'A template of this kind that prefills' })),
  ciIds: Type.Optional(CiIds)
}

export const updateFields = {
  title: Type.Optional(Title),
  description: Type.Optional(Description),
  impact: Type.Optional(Level),
  urgency: Type.Optional(Level),
  category: Type.Optional(Nullable(Category)),
  categoryId: Type.Optional(Nullable(Uuid)),
  requesterId: Type.Optional(Uuid),
  serviceId: Type.Optional(Nullable(Type.String({ format: 'uuid', description: 'null clears' }))),
  customFields: Type.Optional(CustomFieldValues),
  ciIds: Type.Optional(CiIds),
  version: Type.Optional(Type.Integer({ minimum: 1, description: 'Alternative to If-Match' }))
}

export const createBody = <P extends TProperties>(extra: P) =>
  Type.Object({ ...createFields, ...extra }, { additionalProperties: false })
export const updateBody = <P extends TProperties>(extra: P) =>
  Type.Object({ ...updateFields, ...extra }, { additionalProperties: false, minProperties: 1 })

const CommonCreate = createBody({})
const CommonUpdate = updateBody({})
/** What the core reads of a create body; a kind's extra fields ride along for its own hook. */
export type CreateTicketInput = Static<typeof CommonCreate> & Record<string, unknown>
export type UpdateTicketInput = Omit<Static<typeof CommonUpdate>, 'version'> & Record<string, unknown>

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

/** The kinds' own transition options (src/modules/kinds): flags, each checked by the kind owning it. */
const kindTransitionOptions = Object.fromEntries(
  Object.entries(KIND_TRANSITION_OPTIONS).map(([name, o]) => [
    name,
    Type.Optional(Type.Boolean({ description: o.description }))
  ])
) as { [K in KindTransitionOption]: TOptional<TBoolean> }

export const TransitionBody = Type.Object(
  {
    to: Status,
    resolutionCode: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    resolution: Type.Optional(Type.String({ minLength: 1, maxLength: 20_000 })),
    note: Type.Optional(Type.String({ minLength: 1, maxLength: 100_000 })),
    noteInternal: Type.Optional(
      Type.Boolean({
        default: false,
        description: 'The note is an internal work note (staff only), not a public reply'
      })
    ),
    ...kindTransitionOptions,
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
  {
    id: Uuid,
    ticketId: Uuid,
    authorId: Uuid,
    author: RefSummary,
    internal: Type.Boolean(),
    body: Type.String(),
    createdAt: DateTime
  },
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

const SORT_PATTERN =
  '^(-?(createdAt|updatedAt|priority|number|sla\\.responseDueAt|sla\\.resolutionDueAt|customFields\\.[a-z][a-zA-Z0-9_]{0,62})|relevance)$'
const csv = (pattern: string, description: string) => Type.String({ pattern, maxLength: 500, description })

export const listFields = {
  filter: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 2000,
      description:
        'RSQL/FIQL over built-in and custom fields, e.g. status=in=(new,assigned);priority=le=2;customFields.site==Leeds'
    })
  ),
  includeTotal: Type.Optional(Type.Boolean({ description: 'Add `total`: the exact count of matching tickets' })),
  status: Type.Optional(csv('^[a-z][a-z0-9_]{0,39}(,[a-z][a-z0-9_]{0,39})*$', 'One status or a comma-separated list')),
  priority: Type.Optional(csv('^[1-5](,[1-5])*$', 'One priority or a comma-separated list')),
  impact: Type.Optional(Level),
  urgency: Type.Optional(Level),
  category: Type.Optional(Category),
  categoryId: Type.Optional(Uuid),
  serviceId: Type.Optional(Uuid),
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
    Type.String({ minLength: 1, maxLength: 200, description: 'Full text over title, description and notes' })
  ),
  sort: Type.Optional(
    Type.String({
      pattern: SORT_PATTERN,
      default: '-createdAt',
      description:
        'createdAt, updatedAt, priority, number, sla.responseDueAt, sla.resolutionDueAt (tickets without ' +
        'that SLA clock or with it paused last) or customFields.<key>; a leading - sorts descending. ' +
        'relevance (with q): best title/description match first'
    })
  ),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 512 }))
}
export const TicketListQuery = Type.Object(listFields, { additionalProperties: false })
export type TicketListInput = Static<typeof TicketListQuery>

export { type PageInput, PageQuery } from '../../lib/schemas.js'

/** A list page, with the exact count when asked for. */
export const ListOf = <T extends ReturnType<typeof Type.Object>>(item: T) =>
  Type.Object({
    items: Type.Array(item),
    nextCursor: Nullable(Type.String()),
    total: Type.Optional(Type.Integer({ description: 'Present when includeTotal=true' }))
  })
