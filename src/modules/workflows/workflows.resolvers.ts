import type { Resolvers } from '../../graphql/types.js'
import type { Args, GqlCtx } from '../../lib/graphql.js'
import { check } from '../../lib/validate.js'
import { TICKET_KINDS, type TicketKind } from '../kinds/kinds.js'
import { type WorkflowDefinition as Definition, WorkflowDefinition } from './workflow.types.js'

/** workflow(kind), workflows, setWorkflow, resetWorkflow: the same service as the REST door. */
export function workflowResolvers(): Resolvers {
  return {
    Query: {
      workflow: async (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
        services.workflows.read(ctx, args.kind as TicketKind),
      workflows: async (_: unknown, __: Args, { ctx, services }: GqlCtx) =>
        Promise.all(TICKET_KINDS.map(k => services.workflows.read(ctx, k)))
    },
    Mutation: {
      setWorkflow: async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
        const def = check<Definition>(WorkflowDefinition, stripNulls(args.input), 'input')
        const version = args.version === null || args.version === undefined ? undefined : Number(args.version)
        return services.workflows.put(ctx, args.kind as TicketKind, def, version)
      },
      resetWorkflow: async (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
        services.workflows.reset(ctx, args.kind as TicketKind)
    }
  }
}

/** GraphQL sends null for omitted optional input fields; the schema wants them absent. */
function stripNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripNulls)
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v)
        .filter(([, x]) => x !== null && x !== undefined)
        .map(([k, x]) => [k, stripNulls(x)])
    )
  }
  return v
}
