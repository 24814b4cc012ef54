import type { Loaders, Resolvers } from '../../graphql/types.js'
import { toConnection } from '../../lib/connection.js'
import { type Args, defined, type GqlCtx, Id, pageArgs, paged } from '../../lib/graphql.js'
import { check } from '../../lib/validate.js'
import { ticketLoaders, ticketResolvers, ticketsBy } from '../tickets/tickets.resolvers.js'
import { type CalendarEntry, calendarCursor } from './changes.calendar.js'
import {
  type CalendarInput,
  CalendarQuery,
  ChangeFromProblemBody,
  type ChangeFromProblemInput,
  changeSchemas
} from './changes.schemas.js'

/** GraphQL door to changes: the shared ticket resolvers, the calendar, a change raised from a problem. */
export function changeResolvers(): Resolvers {
  const shared = ticketResolvers('change', changeSchemas.create, changeSchemas.update)
  return {
    ...shared,
    Query: {
      ...shared.Query,
      changeCalendar: paged(async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
        const { from, to, first, after } = args
        const input = check<CalendarInput>(CalendarQuery, defined({ from, to, ...pageArgs({ first, after }) }))
        return toConnection<CalendarEntry>(await services.changes.calendar(ctx, input), calendarCursor)
      })
    },
    Mutation: {
      ...shared.Mutation,
      createChangeFromProblem: async (_: unknown, args: Args, { ctx, services, idempotencyKey }: GqlCtx) => {
        const input = check<ChangeFromProblemInput>(ChangeFromProblemBody, defined(args.input as Args), 'input')
        const key = (args.idempotencyKey as string | null | undefined) ?? idempotencyKey
        const problemId = check<string>(Id, args.problemId, 'problemId')
        return (await services.changes.createFromProblem(ctx, problemId, input, key ?? undefined)).body
      }
    }
  }
}

export const changeLoaders = (): Loaders => ({
  ...ticketLoaders('Change'),
  ChangeConflict: { change: ticketsBy('changeId') },
  ChangeCalendarEntry: { change: ticketsBy('id') }
})
