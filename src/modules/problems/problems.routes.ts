import { ticketRoutes } from '../tickets/tickets.routes.js'
import { problemSchemas } from './problems.schemas.js'

/** REST door to problems: the shared ticket routes under /problems. */
export default ticketRoutes('problem', problemSchemas)
