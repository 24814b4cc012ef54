import { kindSchemas } from '../tickets/tickets.routes.js'
import { createBody, updateBody } from '../tickets/tickets.schemas.js'

/** Change fields beyond the shared ticket fields. */
export const changeSchemas = kindSchemas(createBody({}), updateBody({}))
