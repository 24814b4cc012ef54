import { type Static, Type } from 'typebox'
import { DateTime, Nullable, StringEnum, Uuid } from '../../lib/schemas.js'
import { kindSchemas } from '../tickets/tickets.routes.js'
import { CustomFieldValues, createBody, Title, updateBody } from '../tickets/tickets.schemas.js'

export const TASK_STATUSES = ['open', 'in_progress', 'done', 'cancelled'] as const
export type TaskStatus = (typeof TASK_STATUSES)[number]
/** Statuses in which a task still needs doing. */
export const OPEN_TASK_STATUSES: readonly TaskStatus[] = ['open', 'in_progress']

const OfferingId = Type.String({
  format: 'uuid',
  description: 'The active catalog offering requested. Required (a template may give it); 422 when absent or inactive'
})

const requestFields = {
  offeringId: Uuid,
  taskCount: Type.Integer({ description: 'Fulfilment tasks, all statuses' }),
  openTaskCount: Type.Integer({ description: 'Tasks still open or in progress' })
}

/** Request fields beyond the shared ticket fields. */
export const requestSchemas = kindSchemas(
  createBody({ offeringId: Type.Optional(OfferingId) }),
  updateBody({}),
  requestFields,
  requestFields
)

export const RequestTask = Type.Object({
  id: Uuid,
  requestId: Uuid,
  position: Type.Integer({ description: 'Order within the request, from 1' }),
  title: Type.String(),
  status: StringEnum(TASK_STATUSES),
  teamId: Nullable(Uuid),
  assigneeId: Nullable(Uuid),
  doneAt: Nullable(DateTime),
  doneById: Nullable(Uuid),
  createdAt: DateTime,
  updatedAt: DateTime
})

export const AddTaskBody = Type.Object(
  {
    title: Title,
    teamId: Type.Optional(Type.String({ format: 'uuid', description: 'Default: the request’s team' })),
    assigneeId: Type.Optional(Type.String({ format: 'uuid', description: 'A member of layer 1 of the task’s team' }))
  },
  { additionalProperties: false }
)
export type AddTaskInput = Static<typeof AddTaskBody>

export const UpdateTaskBody = Type.Object(
  {
    status: Type.Optional(
      StringEnum(TASK_STATUSES, { description: 'done stamps doneAt and doneById; leaving done clears them' })
    ),
    title: Type.Optional(Title),
    teamId: Type.Optional(
      Nullable(Type.String({ format: 'uuid', description: 'null clears; a new team clears the assignee' }))
    ),
    assigneeId: Type.Optional(
      Nullable(Type.String({ format: 'uuid', description: 'A member of layer 1 of the task’s team; null clears' }))
    )
  },
  { additionalProperties: false, minProperties: 1 }
)
export type UpdateTaskInput = Static<typeof UpdateTaskBody>

export const TaskParams = Type.Object({ id: Uuid, taskId: Uuid }, { additionalProperties: false })

const ReclassifyNote = Type.String({ minLength: 1, maxLength: 100_000, description: 'Added as a public reply' })

export const ReclassifyIncidentBody = Type.Object(
  {
    to: StringEnum(['request'] as const),
    offeringId: Type.String({ format: 'uuid', description: 'The active catalog offering the request is for' }),
    customFields: Type.Optional(CustomFieldValues),
    note: Type.Optional(ReclassifyNote)
  },
  { additionalProperties: false }
)
export type ReclassifyIncidentInput = Static<typeof ReclassifyIncidentBody>

export const ReclassifyRequestBody = Type.Object(
  {
    to: StringEnum(['incident'] as const),
    customFields: Type.Optional(CustomFieldValues),
    note: Type.Optional(ReclassifyNote)
  },
  { additionalProperties: false }
)
export type ReclassifyRequestInput = Static<typeof ReclassifyRequestBody>
