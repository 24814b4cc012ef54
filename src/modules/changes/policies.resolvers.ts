import type { Loaders, Resolvers } from '../../graphql/types.js'
import type { GqlCtx } from '../../lib/graphql.js'
import { StringEnum } from '../../lib/schemas.js'
import { adminSettingsResolvers } from '../admin/admin-resolvers.js'
import { CHANGE_TYPES, SetPolicyBody } from './policies.schemas.js'

type Args = Record<string, unknown>

/** GraphQL door to change approval policies: the keyed-settings door, same schemas and service as REST. */
export function policyResolvers(): Resolvers {
  return adminSettingsResolvers({
    service: services => services.changePolicies,
    names: { get: 'changeApprovalPolicy', list: 'changeApprovalPolicies', set: 'setChangeApprovalPolicy' },
    key: { arg: 'changeType', schema: StringEnum(CHANGE_TYPES) },
    body: SetPolicyBody
  })
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
