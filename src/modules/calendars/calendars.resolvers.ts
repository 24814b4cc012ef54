import type { Resolvers } from '../../graphql/types.js'
import type { Holiday } from '../../lib/business-time.js'
import { type Args, defined, type GqlCtx, Id } from '../../lib/graphql.js'
import { check } from '../../lib/validate.js'
import { adminResolvers, mergeResolvers } from '../admin/admin-resolvers.js'
import {
  type BusinessMinutesInput,
  BusinessMinutesQuery,
  CalendarListQuery,
  CreateCalendarBody,
  type DeadlineInput,
  DeadlineQuery,
  UpdateCalendarBody
} from './calendars.schemas.js'
import { calendarKeyset } from './calendars.service.js'

const isObject = (v: unknown): v is Args => typeof v === 'object' && v !== null && !Array.isArray(v)

/** GraphQL's nulls for omitted optionals dropped inside hours, holidays and exceptions too. */
const shape = (input: Args): Args => ({
  ...input,
  ...(isObject(input.hours) ? { hours: defined(input.hours) } : {}),
  ...(Array.isArray(input.holidays) ? { holidays: input.holidays.map(h => (isObject(h) ? defined(h) : h)) } : {}),
  ...(Array.isArray(input.exceptions) ? { exceptions: input.exceptions.map(e => (isObject(e) ? defined(e) : e)) } : {})
})

/** GraphQL door to business calendars: the admin-resource door plus the two business-time reads. */
export function calendarResolvers(): Resolvers {
  return mergeResolvers(
    adminResolvers({
      service: services => services.calendars,
      names: {
        get: 'calendar',
        list: 'calendars',
        create: 'createCalendar',
        update: 'updateCalendar',
        remove: 'deleteCalendar'
      },
      listQuery: CalendarListQuery,
      create: CreateCalendarBody,
      patch: UpdateCalendarBody,
      shape,
      cursorOf: calendarKeyset.cursorOf
    }),
    {
      Query: {
        calendarDeadline: async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
          const { from, minutes } = check<DeadlineInput>(
            DeadlineQuery,
            defined({ from: args.from, minutes: args.minutes })
          )
          return services.calendars.deadline(ctx, check<string>(Id, args.id, 'id'), new Date(from), minutes)
        },
        calendarBusinessMinutes: async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
          const { from, to } = check<BusinessMinutesInput>(
            BusinessMinutesQuery,
            defined({ from: args.from, to: args.to })
          )
          return services.calendars.businessMinutes(ctx, check<string>(Id, args.id, 'id'), new Date(from), new Date(to))
        }
      },
      CalendarHoliday: { yearly: (h: Holiday) => 'yearly' in h && h.yearly === true }
    }
  )
}
