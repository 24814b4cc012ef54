import { kindSchemas } from '../tickets/tickets.routes.js'
import { createBody, updateBody } from '../tickets/tickets.schemas.js'

/** Request fields beyond the shared ticket fields. */
export const requestSchemas = kindSchemas(createBody({}), updateBody({}))
