import { type Static, Type } from 'typebox'
import { DateTime, Nullable, Uuid } from '../../lib/schemas.js'
import { kindSchemas } from '../tickets/tickets.routes.js'
import { createBody, Description, Level, summaryFields, Title, updateBody } from '../tickets/tickets.schemas.js'

const RootCause = Type.String({ maxLength: 20_000, description: 'Why the problem happens, once known' })
const Workaround = Type.String({ maxLength: 20_000, description: 'How agents restore service until the fix lands' })
const KnownError = Type.Boolean({
  description: 'A known error: root cause or workaround documented (needs a workaround)'
})

/** Problem fields beyond the shared ticket fields. */
export const problemSchemas = kindSchemas(
  createBody({
    rootCause: Type.Optional(RootCause),
    workaround: Type.Optional(Workaround),
    knownError: Type.Optional(KnownError)
  }),
  updateBody({
    rootCause: Type.Optional(Nullable(RootCause)),
    workaround: Type.Optional(Nullable(Workaround)),
    knownError: Type.Optional(KnownError)
  }),
  {
    rootCause: Nullable(Type.String()),
    workaround: Nullable(Type.String()),
    knownError: Type.Boolean(),
    knownErrorAt: Nullable(DateTime),
    incidentCount: Type.Integer({ description: 'Incidents linked to this problem (caused_by)' })
  },
  { knownError: Type.Boolean(), incidentCount: Type.Integer() }
)

export type ProblemFields = {
  rootCause?: string | null
  workaround?: string | null
  knownError?: boolean
}

export const LinkIncidentsBody = Type.Object(
  {
    incidentIds: Type.Array(Uuid, {
      minItems: 1,
      maxItems: 500,
      description: 'Incidents caused by this problem (an incident has at most one problem)'
    })
  },
  { additionalProperties: false }
)
export type LinkIncidentsInput = Static<typeof LinkIncidentsBody>

export const ProblemIncidentParams = Type.Object({ id: Uuid, incidentId: Uuid }, { additionalProperties: false })

/** A problem raised from an incident: what is left out is copied from the incident. */
export const ProblemFromIncidentBody = Type.Object(
  {
    title: Type.Optional(Title),
    description: Type.Optional(Description),
    impact: Type.Optional(Level),
    urgency: Type.Optional(Level),
    rootCause: Type.Optional(RootCause),
    workaround: Type.Optional(Workaround)
  },
  { additionalProperties: false }
)
export type ProblemFromIncidentInput = Static<typeof ProblemFromIncidentBody>

export const KnownErrorQuery = Type.Object(
  {
    q: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 200,
        description: 'Full text (web-search syntax) over title, description, root cause and workaround'
      })
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
    cursor: Type.Optional(Type.String({ maxLength: 512 }))
  },
  { additionalProperties: false }
)
export type KnownErrorInput = Static<typeof KnownErrorQuery>

/** A known error as agents read it: the problem's list row with its root cause and workaround. */
export const KnownErrorItem = Type.Object({
  ...summaryFields,
  knownError: Type.Boolean(),
  incidentCount: Type.Integer(),
  knownErrorAt: Nullable(DateTime),
  rootCause: Nullable(Type.String()),
  workaround: Nullable(Type.String())
})
export type KnownErrorView = Static<typeof KnownErrorItem>
