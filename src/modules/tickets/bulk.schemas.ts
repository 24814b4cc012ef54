import { type Static, Type } from 'typebox'
import { Nullable, Uuid } from '../../lib/schemas.js'
import { CustomFieldValues, Level, Status } from './tickets.schemas.js'

/** The most tickets one bulk update may name. */
export const BULK_MAX = 1000

export const BulkSet = Type.Object(
  {
    status: Type.Optional(Status),
    teamId: Type.Optional(Nullable(Uuid)),
    layer: Type.Optional(Type.Integer({ minimum: 1, maximum: 10 })),
    assigneeId: Type.Optional(Nullable(Uuid)),
    customFields: Type.Optional(CustomFieldValues),
    impact: Type.Optional(Level),
    urgency: Type.Optional(Level)
  },
  {
    additionalProperties: false,
    description:
      'What every named ticket gets. status moves each by its own workflow (a ticket already there stays); ' +
      'teamId null clears team, layer and assignee; layer or assigneeId need teamId'
  }
)

export const BulkUpdateBody = Type.Object(
  {
    ids: Type.Array(Uuid, {
      minItems: 1,
      maxItems: BULK_MAX,
      uniqueItems: true,
      description: `1 to ${BULK_MAX} ticket ids of any kinds, each once`
    }),
    set: BulkSet,
    note: Type.Optional(
      Type.String({ minLength: 1, maxLength: 100_000, pattern: '\\S', description: 'A public note added to each' })
    ),
    resolution: Type.Optional(
      Type.String({ minLength: 1, maxLength: 20_000, description: 'When the status needs it' })
    ),
    resolutionCode: Type.Optional(
      Type.String({ minLength: 1, maxLength: 100, description: 'When the status needs it' })
    )
  },
  { additionalProperties: false }
)
export type BulkUpdateInput = Static<typeof BulkUpdateBody>

export const BulkUpdateResult = Type.Object({
  updated: Type.Integer({ description: 'How many tickets changed (the others already held the values)' }),
  items: Type.Array(Type.Object({ id: Uuid, number: Type.String(), version: Type.Integer(), status: Status }), {
    description: 'Every named ticket, in the order of ids, as it is now'
  })
})
