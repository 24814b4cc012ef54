import { kindSchemas } from '../tickets/tickets.routes.js'
import { createBody, updateBody } from '../tickets/tickets.schemas.js'

/** Problem fields beyond the shared ticket fields. */
export const problemSchemas = kindSchemas(createBody({}), updateBody({}))
