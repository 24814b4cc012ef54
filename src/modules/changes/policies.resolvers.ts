import type { Loaders, Resolvers } from '../../graphql/types.js'
import { defined, type GqlCtx } from '../../lib/graphql.js'
import { StringEnum } from '../../lib/schemas.js'
import { check } from '../../lib/validate.js'
import { CHANGE_TYPES, type ChangeType, SetPolicyBody, type SetPolicyInput } from './policies.schemas.js'

type Args = Record<string, unknown>
const ChangeTypeArg = StringEnum(CHANGE_TYPES)
const changeType = (v: unknown) => check<ChangeType>(ChangeTypeArg, v, 'changeType')

/** GraphQL door to change approval policies: same schemas, same service as REST. */
export function policyResolvers(): Resolvers {
  return {
    Query: {
      changeApprovalPolicies: async (_: unknown, __: Args, { ctx, services }: GqlCtx) =>
        (await services.changePolicies.list(ctx)).items,
      changeApprovalPolicy: async (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
        services.changePolicies.get(ctx, changeType(args.changeType))
    },
    Mutation: {
      setChangeApprovalPolicy: async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
        const type = changeType(args.changeType)
        const input = check<SetPolicyInput>(SetPolicyBody, defined(args.input as Args), 'input')
        return services.changePolicies.set(ctx, type, input)
      }
    }
  }
}

type Query = { obj: Record<string, unknown>; params: Args }

/** Users named by an id list on each parent, looked up in one batch for the whole response. */
const usersIn =
  (field: string) =>
  async (queries: Query[], { ctx, services }: GqlCtx) => {
    const all = [...new Set(queries.flatMap(q => q.obj[field] as string[]))]
    const found = all.length ? await services.users.usersByIds(ctx, all) : []
    const map = new Map(all.map((v, i) => [v, found[i] ?? null]))
    return queries.map(q => (q.obj[field] as string[]).map(id => map.get(id)).filter(user => user != null))
  }

export function policyLoaders(): Loaders {
  return {
    ChangeApprovalPolicy: {
      approvers: usersIn('approverIds'),
      effectiveApprovers: usersIn('effectiveApproverIds'),
      approverTeam: async (queries: Query[], { ctx, services }: GqlCtx) => {
        const ids = queries.map(q => q.obj.approverTeamId as string | null)
        const wanted = [...new Set(ids.filter((v): v is string => !!v))]
        const found = wanted.length ? await services.teams.byIds(ctx, wanted) : []
        const map = new Map(wanted.map((v, i) => [v, found[i] ?? null]))
        return ids.map(v => (v ? (map.get(v) ?? null) : null))
      }
    }
  }
}
