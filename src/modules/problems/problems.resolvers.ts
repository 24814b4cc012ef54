import type { Loaders, Resolvers } from '../../graphql/types.js'
import { toConnection } from '../../lib/connection.js'
import { type Args, defined, type GqlCtx, Id, pageArgs, paged } from '../../lib/graphql.js'
import { check } from '../../lib/validate.js'
import { fullField, ticketLoaders, ticketResolvers } from '../tickets/tickets.resolvers.js'
import { type PageInput, PageQuery } from '../tickets/tickets.schemas.js'
import {
  type KnownErrorInput,
  KnownErrorQuery,
  LinkIncidentsBody,
  type LinkIncidentsInput,
  ProblemFromIncidentBody,
  type ProblemFromIncidentInput,
  problemSchemas
} from './problems.schemas.js'

type Page = { items: { id: string }[]; nextCursor: string | null; cursors: string[] }

/** A page whose items each carry their own resume cursor, as a connection. */
function connection(page: Page) {
  const index = new Map(page.items.map((item, i) => [item, page.cursors[i]!]))
  return toConnection(page, item => index.get(item)!)
}

/**
 * GraphQL door to problems: the shared ticket resolvers, the incidents a problem causes, a problem
 * raised from an incident, and the known-error search.
 */
export function problemResolvers(): Resolvers {
  const shared = ticketResolvers('problem', problemSchemas.create, problemSchemas.update)
  return {
    ...shared,
    Query: {
      ...shared.Query,
      problemIncidents: paged(async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
        const page = check<PageInput>(PageQuery, pageArgs(args))
        return connection(await services.problems.incidents(ctx, check<string>(Id, args.problemId, 'problemId'), page))
      }),
      knownErrors: paged(async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
        const input = check<KnownErrorInput>(KnownErrorQuery, defined({ q: args.q, ...pageArgs(args) }))
        return connection(await services.problems.knownErrors(ctx, input))
      })
    },
    Mutation: {
      ...shared.Mutation,
      linkIncidentsToProblem: async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
        const input = check<LinkIncidentsInput>(LinkIncidentsBody, { incidentIds: args.incidentIds })
        return services.problems.linkIncidents(ctx, check<string>(Id, args.problemId, 'problemId'), input)
      },
      unlinkIncidentFromProblem: async (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
        services.problems.unlinkIncident(
          ctx,
          check<string>(Id, args.problemId, 'problemId'),
          check<string>(Id, args.incidentId, 'incidentId')
        ),
      createProblemFromIncident: async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
        const input = check<ProblemFromIncidentInput>(
          ProblemFromIncidentBody,
          defined((args.input as Args | null) ?? {}),
          'input'
        )
        return services.problems.createFromIncident(ctx, check<string>(Id, args.incidentId, 'incidentId'), input)
      }
    }
  }
}

/** Incident.problem: the problems of every incident in a response, in one query. */
async function problemOfIncident(queries: { obj: Record<string, unknown>; params: Args }[], gctx: GqlCtx) {
  // List rows carry no problemId: fill it in first (one batch)
  const problemIds = await fullField('problemId')(queries, gctx)
  const ids = [...new Set(problemIds.filter((v): v is string => !!v))]
  const found = new Map((await gctx.services.tickets.byIds(gctx.ctx, 'problem', ids)).map(p => [p.id, p]))
  return problemIds.map(id => (id ? (found.get(id) ?? null) : null))
}

export const problemLoaders = (): Loaders => ({
  ...ticketLoaders('Problem'),
  Incident: { problem: problemOfIncident, problemId: fullField('problemId') }
})
