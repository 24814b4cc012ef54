import type { Resolvers } from '../../graphql/types.js'
import { type Args, type GqlCtx, Id } from '../../lib/graphql.js'
import { check } from '../../lib/validate.js'
import { adminResolvers, mergeResolvers } from '../admin/admin-resolvers.js'
import { ProblemRuleBody, ProblemRulePatch, RuleListQuery } from './events.schemas.js'
import { problemRuleKeyset } from './problem-rules.service.js'

/** GraphQL door to problem detection rules: same schemas, same service as REST. */
export function problemRuleResolvers(): Resolvers {
  return mergeResolvers(
    adminResolvers({
      service: services => services.problemRules,
      names: {
        get: 'problemRule',
        list: 'problemRules',
        create: 'createProblemRule',
        update: 'updateProblemRule',
        remove: 'deleteProblemRule'
      },
      listQuery: RuleListQuery,
      create: ProblemRuleBody,
      patch: ProblemRulePatch,
      clearable: ['source', 'teamId'],
      cursorOf: problemRuleKeyset.cursorOf
    }),
    {
      Mutation: {
        runProblemRule: async (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
          services.problemRules.detect(ctx, check<string>(Id, args.id, 'id'))
      }
    }
  )
}
