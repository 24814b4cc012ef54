import { ticketRoutes } from '../tickets/tickets.routes.js'
import { requestSchemas } from './requests.schemas.js'

/** REST door to requests: the shared ticket routes under /requests. */
export default ticketRoutes('request', requestSchemas)
