import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { apiTokens, organisations, teams, users } from '../../src/db/schema/index.js'
import { buildTestApp, PASSWORD, type TestApp } from '../helpers/app.js'
import { makeApiToken, makeOrganisation, makeTeam, makeUser } from '../helpers/factories.js'
import { codes, countRows, errorWith, type GqlBody } from '../helpers/graphql.js'

type User = Awaited<ReturnType<typeof makeUser>>

const TOKEN_FIELDS = 'id name userId prefix scopes organisationId expiresAt revokedAt'
const CREATE_TOKEN = `mutation($input: CreateApiTokenInput!) {
  createApiToken(input: $input) { token apiToken { ${TOKEN_FIELDS} } } }`
const TOKENS = `query($userId: ID, $first: Int, $after: String) {
  apiTokens(userId: $userId, first: $first, after: $after) { edges { node { ${TOKEN_FIELDS} } } pageInfo { hasNextPage } } }`

describe('identity over GraphQL', () => {
  let t: TestApp
  let tech: User
  let customer: User
  let org: { id: string; name: string }

  const nodes = (body: GqlBody, field: string) => body.data![field].edges.map((e: { node: unknown }) => e.node)

  beforeAll(async () => {
    t = await buildTestApp()
    org = await makeOrganisation(t, 'Umbrella Corp')
    tech = await makeUser(t, ['technician'], { displayName: 'Tess Tech' })
    customer = await makeUser(t, ['customer'], { organisationId: org.id })
  })
  afterAll(async () => t?.close())

  describe('me', () => {
    it('answers the signed-in user, how they signed in, and no scopes for a session', async () => {
      const res = await t.gql('{ me { via scopes user { username roles organisation { id } } } }')
      expect(res.body).toEqual({
        data: {
          me: { via: 'session', scopes: null, user: { username: 'admin', roles: ['admin'], organisation: null } }
        }
      })
      const mine = await t.gql('{ me { user { id roles organisation { name } } } }', {}, customer.token)
      expect(mine.body.data!.me.user).toEqual({
        id: customer.id,
        roles: ['customer'],
        organisation: { name: org.name }
      })
    })
  })

  describe('directory connections', () => {
    it('lists users, filtered and paged without duplicates', async () => {
      for (let i = 0; i < 4; i++) await makeUser(t, ['supervisor'])
      // first as a variable: a literal 500 multiplies the query cost past the limit
      const all = await t.gql('query($n: Int) { users(first: $n) { edges { node { id } } } }', { n: 500 })
      const seen: string[] = []
      let after: string | null = null
      for (;;) {
        const res: GqlBody = (
          await t.gql(
            'query($after: String) { users(first: 2, after: $after) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }',
            { after }
          )
        ).body
        seen.push(...nodes(res, 'users').map((u: { id: string }) => u.id))
        if (!res.data!.users.pageInfo.hasNextPage) break
        after = res.data!.users.pageInfo.endCursor
      }
      expect(new Set(seen).size).toBe(seen.length)
      expect(seen).toEqual(nodes(all.body, 'users').map((u: { id: string }) => u.id))
      expect(seen.length).toBe(await countRows(t, users))

      const sup = await t.gql('{ users(role: supervisor) { edges { node { roles } } } }')
      expect(nodes(sup.body, 'users')).toHaveLength(4)
      const byName = await t.gql('{ users(q: "Tess") { edges { node { id displayName } } } }')
      expect(nodes(byName.body, 'users')).toEqual([{ id: tech.id, displayName: 'Tess Tech' }])
      const inOrg = await t.gql('query($o: ID!) { users(organisationId: $o) { edges { node { id } } } }', { o: org.id })
      expect(nodes(inOrg.body, 'users')).toEqual([{ id: customer.id }])
    })

    it('lists organisations and teams, with layers and their members', async () => {
      const team = await makeTeam(t, [{ userId: tech.id, level: 2 }], 'Service Desk')
      const orgs = await t.gql(
        '{ organisations(q: "Umbrella") { edges { node { id name } } pageInfo { hasNextPage } } }'
      )
      expect(orgs.body.data!.organisations).toEqual({
        edges: [{ node: { id: org.id, name: org.name } }],
        pageInfo: { hasNextPage: false }
      })
      expect(nodes((await t.gql('{ organisations { edges { node { id } } } }')).body, 'organisations')).toHaveLength(
        await countRows(t, organisations)
      )
      const res = await t.gql('{ teams { edges { node { id name layers { level name members { id username } } } } } }')
      expect(nodes(res.body, 'teams')).toHaveLength(await countRows(t, teams))
      const sd = nodes(res.body, 'teams').find((n: { id: string }) => n.id === team.id)
      expect(sd).toEqual({
        id: team.id,
        name: 'Service Desk',
        layers: [
          { level: 1, name: '1st line', members: [] },
          { level: 2, name: '2nd line', members: [{ id: tech.id, username: tech.username }] }
        ]
      })
    })

    it('refuses the directory to customers', async () => {
      for (const query of ['{ users { edges { node { id } } } }', '{ teams { edges { node { id } } } }']) {
        const res = await t.gql(query, {}, customer.token)
        expect(errorWith(res.body, 'FORBIDDEN').extensions.status).toBe(403)
        expect(res.body.data).toBeNull()
      }
    })
  })

  describe('administration is for admins', () => {
    it('refuses createUser, createOrganisation and createTeam from a technician, writing nothing', async () => {
      const before = [await countRows(t, users), await countRows(t, organisations), await countRows(t, teams)]
      for (const [query, vars] of [
        [
          'mutation($input: CreateUserInput!) { createUser(input: $input) { id } }',
          { input: { username: 'sneaky', displayName: 'Sneaky', roles: ['admin'], password: PASSWORD } }
        ],
        ['mutation { createOrganisation(input: { name: "Shadow" }) { id } }', {}],
        ['mutation { createTeam(input: { name: "Shadow team" }) { id } }', {}]
      ] as const) {
        const res = await t.gql(query, vars, tech.token)
        expect(errorWith(res.body, 'FORBIDDEN').extensions.status).toBe(403)
        expect(res.body.data).toBeNull()
      }
      expect([await countRows(t, users), await countRows(t, organisations), await countRows(t, teams)]).toEqual(before)
    })

    it('logout ends the session it was sent with', async () => {
      const session = await t.login(tech.username, PASSWORD)
      expect((await t.gql('mutation { logout }', {}, session)).body).toEqual({ data: { logout: true } })
      const after = await t.app.inject({
        method: 'POST',
        url: '/graphql',
        headers: { authorization: `Bearer ${session}` },
        payload: { query: '{ me { via } }' }
      })
      expect(after.statusCode).toBe(401)
      // Other sessions of the same user live on
      expect((await t.gql('{ me { via } }', {}, tech.token)).body.data!.me.via).toBe('session')
    })
  })

  describe('API tokens', () => {
    it('shows the secret once, maps Scope names both ways, and the token works', async () => {
      const before = await countRows(t, apiTokens)
      const input = { name: 'cmdb sync', scopes: ['tickets_read', 'cmdb_import'], organisationId: org.id }
      const created = await t.gql(CREATE_TOKEN, { input })
      expect(created.body.errors).toBeUndefined()
      const { token, apiToken } = created.body.data!.createApiToken
      expect(token).toMatch(/^\S{20,200}$/)
      expect(token.startsWith(apiToken.prefix)).toBe(true)
      expect(apiToken).toMatchObject({ name: 'cmdb sync', scopes: ['tickets_read', 'cmdb_import'], revokedAt: null })
      expect(await countRows(t, apiTokens)).toBe(before + 1)

      // Stored under the real scope names, as REST shows them
      const rest = await t.api('GET', '/api/v1/api-tokens')
      const row = rest.json().items.find((i: { id: string }) => i.id === apiToken.id)
      expect(row.scopes).toEqual(['tickets:read', 'cmdb:import'])

      // Listed again, never with the secret; repeated so the JIT-compiled query is exercised too
      for (let i = 0; i < 3; i++) {
        const list = await t.gql(TOKENS, {})
        expect(nodes(list.body, 'apiTokens')).toContainEqual(apiToken)
        expect(JSON.stringify(list.body)).not.toContain(token)
      }

      const me = await t.gql('{ me { via scopes user { username } } }', {}, token)
      expect(me.body.data!.me).toEqual({
        via: 'token',
        scopes: ['tickets_read', 'cmdb_import'],
        user: { username: 'admin' }
      })
    })

    it('answers a token made over REST with GraphQL scope names', async () => {
      const made = await makeApiToken(t, { scopes: ['finance:read', 'events:write', 'admin'] })
      const list = await t.gql(TOKENS, {})
      const node = nodes(list.body, 'apiTokens').find((n: { id: string }) => n.id === made.id)
      expect(node.scopes).toEqual(['finance_read', 'events_write', 'admin'])
    })

    it('holds a token to its scopes', async () => {
      const { token } = (await t.gql(CREATE_TOKEN, { input: { name: 'reader', scopes: ['tickets_read'] } })).body.data!
        .createApiToken
      const read = await t.gql('{ incidents { edges { cursor } } }', {}, token)
      expect(read.body.errors).toBeUndefined()
      const write = await t.gql('mutation { createIncident(input: { title: "x" }) { id } }', {}, token)
      expect(errorWith(write.body, 'FORBIDDEN').extensions.missingScope).toBe('tickets:write')
    })

    it('refuses unknown scope names as GraphQL validation errors', async () => {
      const res = await t.gql('mutation { createApiToken(input: { name: "x", scopes: [tickets_delete] }) { token } }')
      expect(res.status).toBe(400)
      expect(codes(res.body)).toEqual(['GRAPHQL_VALIDATION_FAILED'])
      const viaVars = await t.gql(CREATE_TOKEN, { input: { name: 'x', scopes: ['tickets:read'] } })
      expect(viaVars.body.data ?? null).toBeNull()
      errorWith(viaVars.body, 'GRAPHQL_VALIDATION_FAILED')
    })

    it('revokes: the token stops working at once, revoking again is harmless, unknown ids are NOT_FOUND', async () => {
      const { token, apiToken } = (
        await t.gql(CREATE_TOKEN, { input: { name: 'short-lived', scopes: ['tickets_read'] } }, tech.token)
      ).body.data!.createApiToken
      expect(apiToken.userId).toBe(tech.id)
      expect((await t.gql('{ me { via } }', {}, token)).body.data!.me.via).toBe('token')

      const REVOKE = 'mutation($id: ID!) { revokeApiToken(id: $id) }'
      expect((await t.gql(REVOKE, { id: apiToken.id }, tech.token)).body).toEqual({ data: { revokeApiToken: true } })
      const refused = await t.app.inject({
        method: 'POST',
        url: '/graphql',
        headers: { authorization: `Bearer ${token}` },
        payload: { query: '{ me { via } }' }
      })
      expect(refused.statusCode).toBe(401)
      expect((await t.gql(REVOKE, { id: apiToken.id }, tech.token)).body).toEqual({ data: { revokeApiToken: true } })

      const mine = nodes((await t.gql(TOKENS, {}, tech.token)).body, 'apiTokens')
      expect(mine).toHaveLength(1)
      expect(mine[0].revokedAt).not.toBeNull()

      // Someone else's token is answered as absent
      const admins = (await t.gql(CREATE_TOKEN, { input: { name: 'admin only', scopes: ['admin'] } })).body.data!
        .createApiToken.apiToken
      for (const id of [admins.id, '00000000-0000-7000-8000-000000000000']) {
        errorWith((await t.gql(REVOKE, { id }, tech.token)).body, 'NOT_FOUND')
      }
      const bad = await t.gql(REVOKE, { id: 'nope' }, tech.token)
      expect(errorWith(bad.body, 'VALIDATION_FAILED').extensions.errors).toEqual([
        { field: 'id', message: expect.any(String) }
      ])
    })
  })
})
