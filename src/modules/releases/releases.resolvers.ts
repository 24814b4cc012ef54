import type { Loaders, Resolvers } from '../../graphql/types.js'
import { type Args, defined, type GqlCtx, Id } from '../../lib/graphql.js'
import { check } from '../../lib/validate.js'
import { teamsBy, usersBy } from '../identity/identity.resolvers.js'
import { ticketLoaders, ticketResolvers } from '../tickets/tickets.resolvers.js'
import {
  AddDeploymentBody,
  type AddDeploymentInput,
  releaseSchemas,
  SetChangesBody,
  type SetChangesInput,
  UpdateDeploymentBody,
  type UpdateDeploymentInput
} from './releases.schemas.js'

const id = (v: unknown, field = 'id') => check<string>(Id, v, field)

/** GraphQL door to releases: the shared ticket resolvers, bundled changes and deployments. */
export function releaseResolvers(): Resolvers {
  const shared = ticketResolvers('release', releaseSchemas.create, releaseSchemas.update)
  return {
    ...shared,
    Mutation: {
      ...shared.Mutation,
      setReleaseChanges: async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
        const input = check<SetChangesInput>(SetChangesBody, { changeIds: args.changeIds }, 'input')
        return services.releases.setChanges(ctx, id(args.id), input)
      },
      addReleaseDeployment: async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
        const input = check<AddDeploymentInput>(AddDeploymentBody, defined(args.input as Args), 'input')
        return services.deployments.add(ctx, id(args.id), input)
      },
      updateReleaseDeployment: async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
        const input = check<UpdateDeploymentInput>(UpdateDeploymentBody, defined(args.input as Args), 'input')
        return services.deployments.update(ctx, id(args.id), id(args.deploymentId, 'deploymentId'), input)
      }
    }
  }
}

type Query = { obj: Record<string, unknown>; params: Args }
const parentIds = (queries: Query[]) => queries.map(q => String(q.obj.id))

export const releaseLoaders = (): Loaders => ({
  Release: {
    ...ticketLoaders('Release').Release,
    manager: usersBy('managerId'),
    releaseTeam: teamsBy('releaseTeamId'),
    changes: async (queries: Query[], { ctx, services }: GqlCtx) =>
      services.releases.changesOf(ctx, parentIds(queries)),
    deployments: async (queries: Query[], { ctx, services }: GqlCtx) =>
      services.deployments.deploymentsOf(ctx, parentIds(queries))
  },
  ReleaseDeployment: {
    createdBy: usersBy('createdById'),
    ci: async (queries: Query[], { ctx, services }: GqlCtx) => {
      const ids = queries.map(q => q.obj.ciId as string | null)
      const wanted = [...new Set(ids.filter((v): v is string => !!v))]
      const found = await services.cis.byIds(ctx, wanted)
      const map = new Map(wanted.map((v, i) => [v, found[i] ?? null]))
      return ids.map(v => (v ? (map.get(v) ?? null) : null))
    }
  }
})
