import { Type } from 'typebox'
import type { Loaders, Resolvers } from '../../graphql/types.js'
import { toConnection } from '../../lib/connection.js'
import { encodeCursor } from '../../lib/cursor.js'
import { defined, type GqlCtx, nullsKept, pageArgs, paged } from '../../lib/graphql.js'
import { check } from '../../lib/validate.js'
import {
  type AuthEventListInput,
  AuthEventListQuery,
  ChangePasswordBody,
  type ChangePasswordInput,
  CreateTeamBody,
  type CreateTeamInput,
  CreateTokenBody,
  type CreateTokenInput,
  CreateUserBody,
  type CreateUserInput,
  type ListInput,
  ListQuery,
  OrganisationBody,
  type OrganisationInput,
  RotateTokenBody,
  type RotateTokenInput,
  TeamMemberBody,
  type TeamMemberInput,
  UpdateTeamBody,
  type UpdateTeamInput,
  UpdateUserBody,
  type UpdateUserInput,
  type UserListInput,
  UserListQuery
} from './identity.schemas.js'
import type { TeamLayerView } from './teams.service.js'

type Args = Record<string, unknown>
const Id = Type.String({ format: 'uuid' })
const id = (v: unknown, field = 'id') => check<string>(Id, v, field)
const byId = (item: { id: string }) => encodeCursor({ sort: 'id', value: null, id: item.id })

/** GraphQL scope names cannot hold ':' — tickets_read here is tickets:read everywhere else. */
export const scopeEnum = {
  tickets_read: 'tickets:read',
  tickets_write: 'tickets:write',
  events_write: 'events:write',
  cmdb_import: 'cmdb:import',
  cmdb_read: 'cmdb:read',
  finance_read: 'finance:read',
  admin: 'admin'
}

/** GraphQL door to users, organisations, teams and tokens: same schemas, same services as REST. */
/** Auth event kinds hold '.', which GraphQL names cannot: login_success here is login.success. */
export const authEventKindEnum = {
  login_success: 'login.success',
  login_failure: 'login.failure',
  login_locked: 'login.locked',
  logout: 'logout',
  sso_login: 'sso.login',
  sso_rejected: 'sso.rejected',
  token_new_address: 'token.new_address',
  directory_unavailable: 'directory.unavailable'
}

export function identityResolvers(): Resolvers {
  return {
    Scope: scopeEnum,
    AuthEventKind: authEventKindEnum,
    Query: {
      me: async (_: unknown, __: Args, { ctx, services }: GqlCtx) => services.sessions.whoAmI(ctx),
      user: async (_: unknown, args: Args, { ctx, services }: GqlCtx) => services.users.getUser(ctx, id(args.id)),
      users: paged(async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
        const { first, after, ...rest } = args
        const query = check<UserListInput>(UserListQuery, defined({ ...rest, ...pageArgs({ first, after }) }))
        return toConnection(await services.users.listUsers(ctx, query), byId)
      }),
      organisation: async (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
        services.organisations.get(ctx, id(args.id)),
      organisations: paged(async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
        const query = check<ListInput>(ListQuery, defined({ q: args.q, ...pageArgs(args) }))
        return toConnection(await services.organisations.list(ctx, query), byId)
      }),
      team: async (_: unknown, args: Args, { ctx, services }: GqlCtx) => services.teams.get(ctx, id(args.id)),
      teams: paged(async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
        const query = check<ListInput>(ListQuery, defined({ q: args.q, ...pageArgs(args) }))
        return toConnection(await services.teams.list(ctx, query), byId)
      }),
      apiTokens: paged(async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
        const query = check<ListInput>(ListQuery, defined(pageArgs(args)))
        const userId = args.userId ? id(args.userId, 'userId') : undefined
        return toConnection(await services.tokens.list(ctx, { ...query, ...(userId ? { userId } : {}) }), byId)
      }),
      authEvents: paged(async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
        const { first, after, ...rest } = args
        const query = check<AuthEventListInput>(AuthEventListQuery, defined({ ...rest, ...pageArgs({ first, after }) }))
        return toConnection(await services.authEvents.list(ctx, query), (e: { id: number }) =>
          encodeCursor({ sort: 'auth-events', value: e.id, id: String(e.id) })
        )
      })
    },
    Mutation: {
      changePassword: async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
        await services.sessions.changePassword(ctx, check<ChangePasswordInput>(ChangePasswordBody, args, 'input'))
        return true
      },
      logout: async (_: unknown, __: Args, { ctx, services }: GqlCtx) => {
        await services.sessions.logout(ctx)
        return true
      },
      createUser: async (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
        services.users.createUser(ctx, check<CreateUserInput>(CreateUserBody, defined(args.input as Args), 'input')),
      updateUser: async (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
        services.users.updateUser(
          ctx,
          id(args.id),
          check<UpdateUserInput>(
            UpdateUserBody,
            nullsKept(args.input as Args, ['email', 'phone', 'organisationId']),
            'input'
          ),
          typeof args.version === 'number' ? args.version : undefined
        ),
      createOrganisation: async (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
        services.organisations.create(
          ctx,
          check<OrganisationInput>(OrganisationBody, defined(args.input as Args), 'input')
        ),
      updateOrganisation: async (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
        services.organisations.update(
          ctx,
          id(args.id),
          check<OrganisationInput>(OrganisationBody, nullsKept(args.input as Args, ['costCentreId']), 'input')
        ),
      createTeam: async (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
        services.teams.create(ctx, check<CreateTeamInput>(CreateTeamBody, defined(args.input as Args), 'input')),
      updateTeam: async (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
        services.teams.update(
          ctx,
          id(args.id),
          check<UpdateTeamInput>(UpdateTeamBody, nullsKept(args.input as Args, ['description', 'managerId']), 'input')
        ),
      addTeamMember: async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
        const input = check<TeamMemberInput>(TeamMemberBody, { userId: args.userId, level: args.level })
        return services.teams.addMember(ctx, id(args.teamId, 'teamId'), input)
      },
      removeTeamMember: async (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
        services.teams.removeMember(
          ctx,
          id(args.teamId, 'teamId'),
          id(args.userId, 'userId'),
          typeof args.level === 'number' ? args.level : undefined
        ),
      createApiToken: async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
        const input = check<CreateTokenInput>(CreateTokenBody, defined(args.input as Args), 'input')
        const { token, ...apiToken } = await services.tokens.create(ctx, input)
        return { token, apiToken }
      },
      rotateApiToken: async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
        const input = check<RotateTokenInput>(
          RotateTokenBody,
          defined({ graceMinutes: args.graceMinutes, name: args.name })
        )
        const { token, ...apiToken } = await services.tokens.rotate(ctx, id(args.id), input)
        return { token, apiToken }
      },
      revokeApiToken: async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
        await services.tokens.revoke(ctx, id(args.id))
        return true
      }
    }
  }
}

/** A batch of parents that name a related record by its id in `field`. */
type ParentsWith<K extends string> = { obj: { [F in K]?: string | null } }[]

export const usersBy =
  <K extends string>(field: K) =>
  async (queries: ParentsWith<K>, { ctx, services }: GqlCtx) => {
    const ids = queries.map(q => q.obj[field] ?? null)
    const wanted = [...new Set(ids.filter((v): v is string => !!v))]
    const found = await services.users.usersByIds(ctx, wanted)
    const map = new Map(wanted.map((v, i) => [v, found[i] ?? null]))
    return ids.map(v => (v ? (map.get(v) ?? null) : null))
  }

export const organisationsBy =
  <K extends string>(field: K) =>
  async (queries: ParentsWith<K>, { ctx, services }: GqlCtx) => {
    const ids = queries.map(q => q.obj[field] ?? null)
    const wanted = [...new Set(ids.filter((v): v is string => !!v))]
    const found = await services.organisations.byIds(ctx, wanted)
    const map = new Map(wanted.map((v, i) => [v, found[i] ?? null]))
    return ids.map(v => (v ? (map.get(v) ?? null) : null))
  }

export const teamsBy =
  <K extends string>(field: K) =>
  async (queries: ParentsWith<K>, { ctx, services }: GqlCtx) => {
    const ids = queries.map(q => q.obj[field] ?? null)
    const wanted = [...new Set(ids.filter((v): v is string => !!v))]
    const found = await services.teams.byIds(ctx, wanted)
    const map = new Map(wanted.map((v, i) => [v, found[i] ?? null]))
    return ids.map(v => (v ? (map.get(v) ?? null) : null))
  }

/** Batched lookups of related records: one query per field per request, never one per row. */
export function identityLoaders(): Loaders {
  return {
    Note: { author: usersBy('authorId') },
    User: { organisation: organisationsBy('organisationId') },
    Team: { manager: usersBy('managerId') },
    TeamLayer: {
      members: async (queries: { obj: TeamLayerView }[], { ctx, services }: GqlCtx) => {
        const all = [...new Set(queries.flatMap(q => q.obj.members))]
        const found = await services.users.usersByIds(ctx, all)
        const map = new Map(all.map((v, i) => [v, found[i]]))
        return queries.map(q => q.obj.members.map(m => map.get(m)).filter(user => user != null))
      }
    }
  }
}
