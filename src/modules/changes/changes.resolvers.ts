import type { Loaders, Resolvers } from '../../graphql/types.js'
import { toConnection } from '../../lib/connection.js'
import { type Args, defined, type GqlCtx, Id, pageArgs, paged } from '../../lib/graphql.js'
import { check } from '../../lib/validate.js'
import { ticketLoaders, ticketResolvers, ticketsBy } from '../tickets/tickets.resolvers.js'
import { type CalendarEntry, calendarCursor } from './changes.calendar.js'
import type { ChangeConflict } from './changes.conflicts.js'
import {
  type CalendarInput,
  CalendarQuery,
  ChangeFromProblemBody,
  type ChangeFromProblemInput,
  type ConflictsInput,
  ConflictsQuery,
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

/** Change.conflicts: every change of the list in one `conflictsOf` pass per depth asked. */
async function conflictsLoader(queries: { obj: Record<string, unknown>; params: Args }[], { ctx, services }: GqlCtx) {
  const depthOf = (p: Args) => check<ConflictsInput>(ConflictsQuery, defined({ depth: p.depth })).depth
  const byDepth = new Map<number | undefined, string[]>()
  for (const q of queries) {
    const d = depthOf(q.params)
    byDepth.set(d, [...(byDepth.get(d) ?? []), q.obj.id as string])
  }
  const found = new Map<string, ChangeConflict[]>()
  for (const [depth, ids] of byDepth) {
    const m = await services.changes.conflictsOf(ctx, ids, depth === undefined ? {} : { depth })
    for (const [id, list] of m) found.set(`${depth}:${id}`, list)
  }
  return queries.map(q => found.get(`${depthOf(q.params)}:${q.obj.id as string}`) ?? [])
}

export const changeLoaders = (): Loaders => {
  const shared = ticketLoaders('Change')
  return {
    ...shared,
    Change: { ...(shared.Change ?? {}), conflicts: conflictsLoader },
    ChangeConflict: { change: ticketsBy('changeId') },
    ChangeCalendarEntry: { change: ticketsBy('id') }
  }
}
