import type { IResolvers } from 'mercurius'
import { toConnection } from '../../lib/connection.js'
import { type Args, defined, type GqlCtx, Id, nullsKept, pageArgs, paged } from '../../lib/graphql.js'
import { check } from '../../lib/validate.js'
import {
  ProblemRuleBody,
  type ProblemRuleInput,
  ProblemRulePatch,
  type ProblemRulePatchInput,
  type RuleListInput,
  RuleListQuery
} from './events.schemas.js'

const id = (v: unknown) => check<string>(Id, v, 'id')

/** For updates an explicit null clears a nullable field; other nulls mean "not given". */
const CLEARABLE = ['source', 'teamId']

/** GraphQL door to problem detection rules: same schemas, same service as REST. */
export function problemRuleResolvers(): IResolvers {
  return {
    Query: {
      problemRules: paged(async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
        const query = check<RuleListInput>(RuleListQuery, pageArgs(args))
        return toConnection(await services.problemRules.list(ctx, query), services.problemRules.cursorOf)
      }),
      problemRule: async (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
        services.problemRules.get(ctx, id(args.id))
    },
    Mutation: {
      createProblemRule: async (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
        services.problemRules.create(
          ctx,
          check<ProblemRuleInput>(ProblemRuleBody, defined(args.input as Args), 'input')
        ),
      updateProblemRule: async (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
        services.problemRules.update(
          ctx,
          id(args.id),
          check<ProblemRulePatchInput>(ProblemRulePatch, nullsKept(args.input as Args, CLEARABLE), 'input')
        ),
      deleteProblemRule: async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
        await services.problemRules.remove(ctx, id(args.id))
        return true
      },
      runProblemRule: async (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
        services.problemRules.detect(ctx, id(args.id))
    }
  } as IResolvers
}
