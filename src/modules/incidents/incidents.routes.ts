import { ticketRoutes } from '../tickets/tickets.routes.js'
import { incidentSchemas } from './incidents.schemas.js'

/** REST door to incidents: the shared ticket routes under /incidents. */
export default ticketRoutes('incident', incidentSchemas)
