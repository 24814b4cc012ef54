import { ticketRoutes } from '../tickets/tickets.routes.js'
import { changeSchemas } from './changes.schemas.js'

/** REST door to changes: the shared ticket routes under /changes. */
export default ticketRoutes('change', changeSchemas)
