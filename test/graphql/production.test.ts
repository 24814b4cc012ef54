import { getIntrospectionQuery } from 'graphql'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../src/config.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'

/**
 * Production mode (issue 10 #7): NODE_ENV=production, read only by src/config.ts, turns introspection
 * and GraphiQL off unless asked for, refuses trusted-proxy lists that trust everyone, and no answer
 * ever carries a stack.
 */
describe('production mode', () => {
  const SSO = { SSO_USER_HEADER: 'X-Remote-User' }

  it('defaults introspection off in production, on otherwise; an explicit setting wins', () => {
    expect(loadConfig({}).GRAPHQL_INTROSPECTION).toBe(true)
    expect(loadConfig({}).PRODUCTION).toBe(false)
    const prod = loadConfig({ NODE_ENV: 'production' })
    expect(prod).toMatchObject({ PRODUCTION: true, GRAPHQL_INTROSPECTION: false, GRAPHQL_GRAPHIQL: false })
    expect(loadConfig({ NODE_ENV: 'production', GRAPHQL_INTROSPECTION: 'true' }).GRAPHQL_INTROSPECTION).toBe(true)
    expect(loadConfig({ GRAPHQL_INTROSPECTION: 'false' }).GRAPHQL_INTROSPECTION).toBe(false)
  })

  it('refuses trusted proxies that trust every address in production, naming the variable', () => {
    for (const list of ['0.0.0.0/0', '10.0.0.1, ::/0']) {
      const start = () => loadConfig({ NODE_ENV: 'production', ...SSO, SSO_TRUSTED_PROXIES: list })
      expect(start).toThrow(ConfigError)
      expect(start).toThrow(/^invalid configuration: SSO_TRUSTED_PROXIES ".*" trusts every address/)
    }
    // explicit lists are fine, in production too
    const ok = loadConfig({ NODE_ENV: 'production', ...SSO, SSO_TRUSTED_PROXIES: '10.0.0.1, 192.168.0.0/16, fd00::/8' })
    expect(ok.SSO_TRUSTED_PROXIES).toBe('10.0.0.1, 192.168.0.0/16, fd00::/8')
    // what is not an address is refused at start in every mode
    for (const list of ['*', 'true', '10.0.0.0/33', 'proxy.example.com']) {
      expect(() => loadConfig({ ...SSO, SSO_TRUSTED_PROXIES: list })).toThrow(
        /^invalid configuration: SSO_TRUSTED_PROXIES ".*" is not an IP address or CIDR/
      )
    }
  })

  describe('the app in production', () => {
    let t: TestApp
    beforeAll(async () => {
      t = await buildTestApp({ NODE_ENV: 'production' })
    })
    afterAll(async () => t?.close())

    it('refuses introspection and serves no GraphiQL', async () => {
      const res = await t.gql(getIntrospectionQuery())
      expect(res.status).toBe(400)
      expect(res.body.errors![0].message).toMatch(/introspection has been disabled/)
      expect((await t.gql('{ __typename }')).body).toEqual({ data: { __typename: 'Query' } })
      expect((await t.api('GET', '/graphiql')).statusCode).toBe(404)
    })

    it('never answers a stack or an internal message', async () => {
      t.app.graphql.addHook('preExecution', async (_schema, document) => {
        if (JSON.stringify(document).includes('explode')) throw new Error('boom in /srv/app/secret.js')
      })
      const res = await t.gql('query explode { me { via } }')
      expect(res.status).toBe(500)
      expect(res.body.errors).toEqual([{ message: 'internal error', extensions: { code: 'INTERNAL', status: 500 } }])
      const answers = [
        JSON.stringify(res.body),
        (
          await t.api('POST', '/api/v1/incidents', {
            body: '{"title":',
            headers: { 'content-type': 'application/json' }
          })
        ).body,
        (await t.gql('{ incidents(first: "x") { edges { cursor } } }')).body.errors![0].message
      ]
      for (const text of answers) {
        expect(text).not.toMatch(/\n\s+at |secret\.js|boom/)
      }
    })
  })
})
