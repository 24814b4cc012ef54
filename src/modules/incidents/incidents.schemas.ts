import { kindSchemas } from '../tickets/tickets.routes.js'
import { createBody, updateBody } from '../tickets/tickets.schemas.js'

/** Incidents have nothing beyond the shared ticket fields. */
export const incidentSchemas = kindSchemas(createBody({}), updateBody({}))
