import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { expectedVersion, IfMatchHeaders, withEtag, withVersion } from '../../lib/http.js'
import { errorResponses, IdParams, PageOf, Uuid } from '../../lib/schemas.js'
import {
  ApiToken,
  AuthEvent,
  AuthEventListQuery,
  ChangePasswordBody,
  CreateTeamBody,
  CreateTokenBody,
  CreateUserBody,
  ListQuery,
  LoginBody,
  LoginResult,
  Organisation,
  OrganisationBody,
  RotateTokenBody,
  Team,
  TeamMemberBody,
  UpdateTeamBody,
  UpdateUserBody,
  User,
  UserListQuery
} from './identity.schemas.js'

/** REST door to sessions, users, organisations, teams and API tokens. */
export default async function identityRoutes(base: FastifyInstance) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>()
  const { sessions, users, organisations, teams, tokens, authEvents } = app.services

  app.post(
    '/auth/login',
    {
      // Counted per client address in every instance by plugins/rate-limits.ts
      config: { public: true },
      schema: {
        tags: ['auth'],
        summary: 'Sign in with a local password; answers a bearer session token',
        security: [],
        body: LoginBody,
        response: { 200: LoginResult, ...errorResponses(429) }
      }
    },
    async request => sessions.login(request.body, { ip: request.ip, requestId: request.id, log: request.log })
  )

  app.post(
    '/auth/logout',
    { schema: { tags: ['auth'], summary: 'End this session', response: { 204: Type.Null(), ...errorResponses() } } },
    async (request, reply) => {
      await sessions.logout(request.ctx())
      return reply.code(204).send(null)
    }
  )

  app.post(
    '/auth/password',
    {
      schema: {
        tags: ['auth'],
        summary: 'Change your own local password; every other session of yours ends',
        body: ChangePasswordBody,
        response: { 204: Type.Null(), ...errorResponses(409, 422, 429) }
      }
    },
    async (request, reply) => {
      await sessions.changePassword(request.ctx(), request.body)
      return reply.code(204).send(null)
    }
  )

  app.get(
    '/auth/me',
    {
      schema: {
        tags: ['auth'],
        summary: 'Who you are, with your roles',
        response: {
          200: Type.Object({
            user: User,
            via: Type.String(),
            scopes: Type.Union([Type.Array(Type.String()), Type.Null()])
          }),
          ...errorResponses()
        }
      }
    },
    async request => sessions.whoAmI(request.ctx())
  )

  // Users
  app.get(
    '/users',
    {
      schema: {
        tags: ['users'],
        summary: 'List users',
        querystring: UserListQuery,
        response: { 200: PageOf(User), ...errorResponses(403) }
      }
    },
    async request => users.listUsers(request.ctx(), request.query)
  )
  app.post(
    '/users',
    {
      schema: {
        tags: ['users'],
        summary: 'Create a user (admin)',
        body: CreateUserBody,
        response: { 201: User, ...errorResponses(403, 409, 422) }
      }
    },
    async (request, reply) => {
      reply.code(201)
      return withEtag(reply, await users.createUser(request.ctx(), request.body))
    }
  )
  app.get(
    '/users/:id',
    {
      schema: {
        tags: ['users'],
        summary: 'Get a user',
        params: IdParams,
        response: { 200: User, ...errorResponses(403, 404) }
      }
    },
    async (request, reply) => withEtag(reply, await users.getUser(request.ctx(), request.params.id))
  )
  app.patch(
    '/users/:id',
    {
      schema: {
        tags: ['users'],
        summary: 'Update a user: roles, organisation, contact, password, active (admin)',
        params: IdParams,
        headers: IfMatchHeaders,
        body: withVersion(UpdateUserBody),
        response: { 200: User, ...errorResponses(403, 404, 412, 422, 428) }
      }
    },
    async (request, reply) => {
      const { version, ...input } = request.body
      const expected = expectedVersion(request.headers['if-match'], version)
      return withEtag(reply, await users.updateUser(request.ctx(), request.params.id, input, expected))
    }
  )

  // Organisations
  app.get(
    '/organisations',
    {
      schema: {
        tags: ['organisations'],
        summary: 'List organisations',
        querystring: ListQuery,
        response: { 200: PageOf(Organisation), ...errorResponses(403) }
      }
    },
    async request => organisations.list(request.ctx(), request.query)
  )
  app.post(
    '/organisations',
    {
      schema: {
        tags: ['organisations'],
        summary: 'Create an organisation (admin)',
        body: OrganisationBody,
        response: { 201: Organisation, ...errorResponses(403, 409) }
      }
    },
    async (request, reply) => {
      reply.code(201)
      return organisations.create(request.ctx(), request.body)
    }
  )
  app.get(
    '/organisations/:id',
    {
      schema: {
        tags: ['organisations'],
        summary: 'Get an organisation',
        params: IdParams,
        response: { 200: Organisation, ...errorResponses(403, 404) }
      }
    },
    async request => organisations.get(request.ctx(), request.params.id)
  )
  app.patch(
    '/organisations/:id',
    {
      schema: {
        tags: ['organisations'],
        summary: 'Rename an organisation (admin)',
        params: IdParams,
        body: OrganisationBody,
        response: { 200: Organisation, ...errorResponses(403, 404, 409) }
      }
    },
    async request => organisations.update(request.ctx(), request.params.id, request.body)
  )

  // Teams
  app.get(
    '/teams',
    {
      schema: {
        tags: ['teams'],
        summary: 'List teams with layers and members',
        querystring: ListQuery,
        response: { 200: PageOf(Team), ...errorResponses(403) }
      }
    },
    async request => teams.list(request.ctx(), request.query)
  )
  app.post(
    '/teams',
    {
      schema: {
        tags: ['teams'],
        summary: 'Create a team with ordered escalation layers (admin)',
        body: CreateTeamBody,
        response: { 201: Team, ...errorResponses(403, 409, 422) }
      }
    },
    async (request, reply) => {
      reply.code(201)
      return teams.create(request.ctx(), request.body)
    }
  )
  app.get(
    '/teams/:id',
    {
      schema: {
        tags: ['teams'],
        summary: 'Get a team',
        params: IdParams,
        response: { 200: Team, ...errorResponses(403, 404) }
      }
    },
    async request => teams.get(request.ctx(), request.params.id)
  )
  app.patch(
    '/teams/:id',
    {
      schema: {
        tags: ['teams'],
        summary: 'Update a team: name, manager, layers (admin)',
        params: IdParams,
        body: UpdateTeamBody,
        response: { 200: Team, ...errorResponses(403, 404, 409, 422) }
      }
    },
    async request => teams.update(request.ctx(), request.params.id, request.body)
  )
  app.post(
    '/teams/:id/members',
    {
      schema: {
        tags: ['teams'],
        summary: 'Add a member to a layer (admin)',
        params: IdParams,
        body: TeamMemberBody,
        response: { 200: Team, ...errorResponses(403, 404, 422) }
      }
    },
    async request => teams.addMember(request.ctx(), request.params.id, request.body)
  )
  app.delete(
    '/teams/:id/members/:userId',
    {
      schema: {
        tags: ['teams'],
        summary: 'Remove a member (from one layer with ?level=, else from all)',
        params: Type.Object({ id: Uuid, userId: Uuid }, { additionalProperties: false }),
        querystring: Type.Object(
          { level: Type.Optional(Type.Integer({ minimum: 1, maximum: 10 })) },
          { additionalProperties: false }
        ),
        response: { 200: Team, ...errorResponses(403, 404) }
      }
    },
    async request => teams.removeMember(request.ctx(), request.params.id, request.params.userId, request.query.level)
  )

  // API tokens
  app.get(
    '/api-tokens',
    {
      schema: {
        tags: ['api-tokens'],
        summary: 'List API tokens (yours; admins see all or ?userId=)',
        querystring: Type.Object(
          {
            userId: Type.Optional(Uuid),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
            cursor: Type.Optional(Type.String({ maxLength: 512 }))
          },
          { additionalProperties: false }
        ),
        response: { 200: PageOf(ApiToken), ...errorResponses(403) }
      }
    },
    async request => tokens.list(request.ctx(), request.query)
  )
  app.post(
    '/api-tokens',
    {
      schema: {
        tags: ['api-tokens'],
        summary: 'Create a scoped API token; the secret is shown only in this answer',
        body: CreateTokenBody,
        response: { 201: Type.Object({ ...ApiToken.properties, token: Type.String() }), ...errorResponses(403, 422) }
      }
    },
    async (request, reply) => {
      reply.code(201)
      return tokens.create(request.ctx(), request.body)
    }
  )
  app.delete(
    '/api-tokens/:id',
    {
      schema: {
        tags: ['api-tokens'],
        summary: 'Revoke a token',
        params: IdParams,
        response: { 204: Type.Null(), ...errorResponses(404) }
      }
    },
    async (request, reply) => {
      await tokens.revoke(request.ctx(), request.params.id)
      return reply.code(204).send(null)
    }
  )

  app.post(
    '/api-tokens/:id/rotate',
    {
      schema: {
        tags: ['api-tokens'],
        summary: 'Rotate a token: a successor now, the old one expires after graceMinutes',
        params: IdParams,
        body: RotateTokenBody,
        response: { 201: Type.Object({ ...ApiToken.properties, token: Type.String() }), ...errorResponses(404, 409) }
      }
    },
    async (request, reply) => {
      reply.code(201)
      return tokens.rotate(request.ctx(), request.params.id, request.body)
    }
  )

  app.get(
    '/auth/events',
    {
      schema: {
        tags: ['auth'],
        summary: 'Auth audit: logins, failures, lockouts, SSO rejections, tokens from new addresses (admin)',
        querystring: AuthEventListQuery,
        response: { 200: PageOf(AuthEvent), ...errorResponses(403) }
      }
    },
    async request => authEvents.list(request.ctx(), request.query)
  )
}
