import { type Static, Type } from 'typebox'
import { CursorParam, DateTime, DateTimeInput, Nullable, Uuid } from '../../lib/schemas.js'

/** A freeze longer than this is a typo (a year instead of a day), not a plan. */
export const MAX_FREEZE_DAYS = 366

const Name = Type.String({ minLength: 1, maxLength: 200 })
const Reason = Type.String({ maxLength: 4000 })

export const ChangeFreeze = Type.Object({
  id: Uuid,
  name: Type.String(),
  reason: Type.String(),
  startsAt: DateTime,
  endsAt: DateTime,
  createdById: Nullable(Uuid),
  version: Type.Integer(),
  createdAt: DateTime,
  updatedAt: DateTime
})

export const CreateFreezeBody = Type.Object(
  {
    name: Name,
    reason: Type.Optional(Reason),
    startsAt: DateTimeInput,
    endsAt: Type.String({
      format: 'date-time',
      description: `After startsAt, at most ${MAX_FREEZE_DAYS} days later (the freeze covers [startsAt, endsAt))`
    })
  },
  { additionalProperties: false }
)
export type CreateFreezeInput = Static<typeof CreateFreezeBody>

export const UpdateFreezeBody = Type.Object(
  {
    name: Type.Optional(Name),
    reason: Type.Optional(Reason),
    startsAt: Type.Optional(DateTimeInput),
    endsAt: Type.Optional(DateTimeInput)
  },
  { additionalProperties: false, minProperties: 1 }
)
export type UpdateFreezeInput = Static<typeof UpdateFreezeBody>

export const FreezeListQuery = Type.Object(
  {
    from: Type.Optional(Type.String({ format: 'date-time', description: 'Freezes ending after this time' })),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'Freezes starting before this time' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
    cursor: Type.Optional(CursorParam)
  },
  { additionalProperties: false }
)
export type FreezeListInput = Static<typeof FreezeListQuery>
