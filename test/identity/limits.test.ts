import { like, sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rateCounters } from '../../src/db/schema/index.js'
import { ADMIN, buildTestApp, PASSWORD, type TestApp } from '../helpers/app.js'
import { driver } from '../helpers/db.js'
import { makeApiToken, makeUser } from '../helpers/factories.js'
import { expectProblem } from '../helpers/problem.js'
import { waitFor } from '../helpers/wait.js'

const login = (t: TestApp, username: string, password: string, ip: string) =>
  t.app.inject({ method: 'POST', url: '/api/v1/auth/login', remoteAddress: ip, payload: { username, password } })

const event = (n: number) => ({
  source: 'limits-test',
  fingerprint: `fp-${n}`,
  summary: `event ${n}`,
  severity: 'warning'
})

/** Outcomes of concurrent wrong (and one right) passwords: how many were really checked. */
function tally(statuses: number[]) {
  return {
    checked: statuses.filter(s => s === 401 || s === 200).length,
    locked: statuses.filter(s => s === 429).length,
    other: statuses.filter(s => s !== 401 && s !== 200 && s !== 429)
  }
}

describe('per-user lockout under concurrency (one instance)', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await buildTestApp({ LOCKOUT_USER_FAILURES: '10', LOCKOUT_IP_FAILURES: '1000' })
  })
  afterAll(async () => t?.close())

  it('30 concurrent wrong passwords from 30 addresses: at most 10 are checked', async () => {
    const user = await makeUser(t, ['technician'])
    const statuses = await Promise.all(
      Array.from({ length: 30 }, (_, i) => login(t, user.username, `wrong-password-${i}`, `10.30.0.${i}`))
    ).then(rs => rs.map(r => r.statusCode))
    const { checked, locked, other } = tally(statuses)
    expect(other).toEqual([])
    expect(checked).toBeLessThanOrEqual(10)
    expect(locked).toBeGreaterThanOrEqual(20)
    // and the right password is refused while locked, with Retry-After
    const res = await login(t, user.username, PASSWORD, '10.30.1.1')
    expectProblem(res, 429, 'ACCOUNT_LOCKED')
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0)
  })
})

describe.skipIf(driver === 'pglite')('limits across two instances on one PostgreSQL database', () => {
  let a: TestApp
  let b: TestApp
  const env = {
    LOCKOUT_USER_FAILURES: '10',
    LOCKOUT_IP_FAILURES: '1000',
    LOGIN_RATE_LIMIT_PER_MINUTE: '1000',
    INGEST_RATE_LIMIT_PER_MINUTE: '4',
    GRAPHQL_RATE_LIMIT_PER_MINUTE: '4'
  }
  beforeAll(async () => {
    a = await buildTestApp(env)
    b = await buildTestApp(env, a.testDb)
  })
  afterAll(async () => {
    await b?.close()
    await a?.close()
  })

  it('20 concurrent guesses split over both instances, one of them right: at most 10 are checked', async () => {
    const user = await makeUser(a, ['technician'])
    const guesses = Array.from({ length: 20 }, (_, i) => (i === 19 ? PASSWORD : `wrong-password-${i}`))
    const statuses = await Promise.all(
      guesses.map((pw, i) => login(i % 2 ? b : a, user.username, pw, `10.20.0.${i}`))
    ).then(rs => rs.map(r => r.statusCode))
    const { checked, locked, other } = tally(statuses)
    expect(other).toEqual([])
    expect(checked).toBeLessThanOrEqual(10)
    expect(locked).toBeGreaterThanOrEqual(10)
  })

  it('a token posting events is limited across instances; another token is not', async () => {
    const { token } = await makeApiToken(a, { scopes: ['events:write', 'tickets:read'] })
    const post = (app: TestApp, n: number, tok = token) =>
      app.api('POST', '/api/v1/events', { token: tok, body: event(n) })
    for (let i = 0; i < 4; i++) expect((await post(i % 2 ? b : a, i)).statusCode).toBe(202)
    const res = await post(b, 4)
    const body = expectProblem(res, 429, 'RATE_LIMITED')
    expect(body.detail).toMatch(/too many requests/)
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0)
    const other = await makeApiToken(a, { scopes: ['events:write'] })
    expect((await post(a, 5, other.token)).statusCode).toBe(202)
  })

  it('GraphQL is limited per token across instances', async () => {
    const { token } = await makeApiToken(a, { scopes: ['tickets:read'] })
    for (let i = 0; i < 4; i++) expect((await (i % 2 ? b : a).gql('{ me { via } }', {}, token)).status).toBe(200)
    const res = await b.app.inject({
      method: 'POST',
      url: '/graphql',
      headers: { authorization: `Bearer ${token}` },
      payload: { query: '{ me { via } }' }
    })
    expectProblem(res, 429, 'RATE_LIMITED')
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0)
  })
})

describe.skipIf(driver === 'pglite')('the per-address login limit across two instances (PostgreSQL)', () => {
  let a: TestApp
  let b: TestApp
  const env = { LOGIN_RATE_LIMIT_PER_MINUTE: '3', LOCKOUT_IP_FAILURES: '1000' }
  beforeAll(async () => {
    a = await buildTestApp(env)
    b = await buildTestApp(env, a.testDb)
  })
  afterAll(async () => {
    await b?.close()
    await a?.close()
  })

  it('the 4th attempt from one address is 429 whichever instance takes it', async () => {
    const ip = '10.44.0.1'
    expect((await login(a, ADMIN.username, 'wrong-password-x', ip)).statusCode).toBe(401)
    expect((await login(b, ADMIN.username, 'wrong-password-x', ip)).statusCode).toBe(401)
    expect((await login(a, ADMIN.username, 'wrong-password-x', ip)).statusCode).toBe(401)
    const res = await login(b, ADMIN.username, ADMIN.password, ip)
    expectProblem(res, 429, 'RATE_LIMITED')
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0)
  })
})

describe('per-token limits for event ingest and GraphQL', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await buildTestApp({ INGEST_RATE_LIMIT_PER_MINUTE: '3', GRAPHQL_RATE_LIMIT_PER_MINUTE: '3' })
  })
  afterAll(async () => t?.close())

  it('answers the 4th event post of a token in a minute with 429, Retry-After and a problem body', async () => {
    const { token } = await makeApiToken(t, { scopes: ['events:write'] })
    for (let i = 0; i < 3; i++) {
      const res = await t.api('POST', '/api/v1/events', { token, body: event(100 + i) })
      expect(res.statusCode, res.body).toBe(202)
      expect(res.headers['ratelimit-remaining']).toBe(String(2 - i))
    }
    const res = await t.api('POST', '/api/v1/events/alertmanager', { token, body: { alerts: [] } })
    const body = expectProblem(res, 429, 'RATE_LIMITED')
    expect(body.detail).toMatch(/retry in \d+ s/)
    const retry = Number(res.headers['retry-after'])
    expect(retry).toBeGreaterThan(0)
    expect(retry).toBeLessThanOrEqual(60)
    // reads are not ingest
    expect((await t.api('GET', '/api/v1/events')).statusCode).toBe(200)
  })

  it('answers the 4th GraphQL request of a token with 429; other callers keep their allowance', async () => {
    const { token } = await makeApiToken(t, { scopes: ['tickets:read'] })
    for (let i = 0; i < 3; i++) expect((await t.gql('{ me { via } }', {}, token)).status).toBe(200)
    const res = await t.app.inject({
      method: 'POST',
      url: '/graphql',
      headers: { authorization: `Bearer ${token}` },
      payload: { query: '{ me { via } }' }
    })
    expectProblem(res, 429, 'RATE_LIMITED')
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0)
    expect((await t.gql('{ me { via } }')).status).toBe(200)
  })
})

describe('a per-token limit counted in memory far below it stays exact at it', () => {
  const gqlMe = (t: TestApp, token: string) =>
    t.app.inject({
      method: 'POST',
      url: '/graphql',
      headers: { authorization: `Bearer ${token}` },
      payload: { query: '{ me { via } }' }
    })
  let a: TestApp
  let b: TestApp | undefined
  beforeAll(async () => {
    a = await buildTestApp({ GRAPHQL_RATE_LIMIT_PER_MINUTE: '100' })
    // On PostgreSQL a second instance shares the counter, as a scaled-out deployment does
    if (driver === 'pg') b = await buildTestApp({ GRAPHQL_RATE_LIMIT_PER_MINUTE: '100' }, a.testDb)
  })
  afterAll(async () => {
    await b?.close()
    await a?.close()
  })

  it('lets exactly 100 of 130 requests through, alternating between instances where there are two', async () => {
    const { token } = await makeApiToken(a, { scopes: ['tickets:read'] })
    const statuses: number[] = []
    for (let i = 0; i < 130; i++) statuses.push((await gqlMe(b && i % 2 ? b : a, token)).statusCode)
    expect(statuses.filter(s => s === 200)).toHaveLength(100)
    expect(statuses.filter(s => s === 429)).toHaveLength(30)
    // The answers past the limit are the last ones: nothing was let through after a refusal
    expect(statuses.indexOf(429)).toBe(100)
  })
})

describe('hits counted in memory reach the shared counter', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await buildTestApp({ GRAPHQL_RATE_LIMIT_PER_MINUTE: '1000' })
  })
  afterAll(async () => t?.close())

  it('adds every one of 40 requests far below the limit to the database, none lost and none twice', async () => {
    const { token, id } = await makeApiToken(t, { scopes: ['tickets:read'] })
    const res = await Promise.all(
      Array.from({ length: 40 }, () =>
        t.app.inject({
          method: 'POST',
          url: '/graphql',
          headers: { authorization: `Bearer ${token}` },
          payload: { query: '{ me { via } }' }
        })
      )
    )
    expect(res.map(r => r.statusCode)).toEqual(Array(40).fill(200))
    const stored = async () => {
      const [row] = await t.db
        .select({ hits: sql<number>`sum(${rateCounters.hits})::int` })
        .from(rateCounters)
        .where(like(rateCounters.key, `graphql:token:${id}`))
      return Number(row?.hits ?? 0)
    }
    await waitFor('the synced count to reach 40', async () => (await stored()) === 40, { timeoutMs: 5000 })
    // and it stays there: a later sync adds nothing twice
    await new Promise(r => setTimeout(r, 600))
    expect(await stored()).toBe(40)
  })
})
