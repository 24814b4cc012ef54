import { kindSchemas } from '../tickets/tickets.routes.js'
import { createBody, updateBody } from '../tickets/tickets.schemas.js'

/** Release fields beyond the shared ticket fields. */
export const releaseSchemas = kindSchemas(createBody({}), updateBody({}))
