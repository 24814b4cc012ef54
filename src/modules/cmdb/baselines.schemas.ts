import { type Static, Type } from 'typebox'
import { CursorParam, DateTime, Nullable, Uuid } from '../../lib/schemas.js'

export const MAX_BASELINE_CIS = 20_000

export const CreateBaselineBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    filter: Type.Optional(
      Type.String({ minLength: 1, maxLength: 2000, description: 'RSQL over CIs, as GET /cis takes' })
    ),
    serviceId: Type.Optional(
      Type.String({ format: 'uuid', description: 'A CI whose downstream impact graph is the set (itself included)' })
    ),
    depth: Type.Optional(Type.Integer({ minimum: 1, maximum: 10, default: 5, description: 'With serviceId: how deep' }))
  },
  { additionalProperties: false }
)
export type CreateBaselineInput = Static<typeof CreateBaselineBody>

export const Baseline = Type.Object({
  id: Uuid,
  name: Type.String(),
  scope: Type.Object({
    filter: Type.Optional(Type.String()),
    serviceId: Type.Optional(Uuid),
    depth: Type.Optional(Type.Integer())
  }),
  ciCount: Type.Integer(),
  relationshipCount: Type.Integer(),
  createdById: Nullable(Uuid),
  createdAt: DateTime
})

export const BaselineListQuery = Type.Object(
  { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })), cursor: Type.Optional(CursorParam) },
  { additionalProperties: false }
)
export type BaselineListInput = Static<typeof BaselineListQuery>

export const DiffQuery = Type.Object(
  {
    against: Type.Optional(
      Type.String({
        maxLength: 36,
        description: '`now` (default: the same scope evaluated now) or another baseline id'
      })
    )
  },
  { additionalProperties: false }
)

const Summary = Type.Object({ id: Uuid, name: Type.String(), class: Type.String(), status: Type.String() })
const Rel = Type.Object({ sourceId: Uuid, targetId: Uuid, type: Type.String() })
const FieldChange = Type.Object({ field: Type.String(), old: Type.Unknown(), new: Type.Unknown() })

export const BaselineDiff = Type.Object({
  baselineId: Uuid,
  against: Type.String(),
  added: Type.Array(Summary),
  removed: Type.Array(Summary),
  changed: Type.Array(Type.Object({ ci: Summary, changes: Type.Array(FieldChange) })),
  relationships: Type.Object({ added: Type.Array(Rel), removed: Type.Array(Rel) })
})
