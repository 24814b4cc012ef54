import { provide } from '../../lib/ports.js'
import type { ModuleManifest } from '../manifest.js'
import { calendarResolvers } from './calendars.resolvers.js'
import calendarRoutes from './calendars.routes.js'
import { type CalendarService, createCalendarService } from './calendars.service.js'

declare module '../../lib/ports.js' {
  interface Services {
    calendars: CalendarService
  }
}

/** Business calendars: working hours, holidays and exceptions that SLA clocks count in. */
export const calendarsManifest: ModuleManifest = {
  name: 'calendars',
  provides: [provide(['calendars'], [], deps => ({ calendars: createCalendarService(deps) }))],
  routes: [calendarRoutes],
  graphql: { resolvers: [calendarResolvers] }
}
