import { ticketRoutes } from '../tickets/tickets.routes.js'
import { releaseSchemas } from './releases.schemas.js'

/** REST door to releases: the shared ticket routes under /releases. */
export default ticketRoutes('release', releaseSchemas)
