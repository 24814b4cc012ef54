import { Type } from 'typebox'
import { Nullable } from '../../lib/schemas.js'
import { kindSchemas } from '../tickets/tickets.routes.js'
import { createBody, updateBody } from '../tickets/tickets.schemas.js'

/** Set by the problems module (a caused_by link); absent only on the create answer, where it is null. */
const ProblemId = Type.Optional(
  Nullable(Type.String({ format: 'uuid', description: 'The problem this incident is caused by, or null' }))
)

/** Incidents add only the problem they are caused by to the shared ticket fields. */
export const incidentSchemas = kindSchemas(
  createBody({}),
  updateBody({}),
  { problemId: ProblemId },
  { problemId: ProblemId }
)
