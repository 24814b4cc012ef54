import { sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSessionService } from '../../src/modules/identity/sessions.service.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeApiToken, makeUser } from '../helpers/factories.js'
import { versionOfEtag } from '../helpers/http.js'
import { expectProblem, fieldsOf } from '../helpers/problem.js'

describe('identity hardening', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await buildTestApp()
  })
  afterAll(async () => t?.close())

  it('takes JSON bodies only: text/plain is 415, also on routes without a body', async () => {
    for (const url of ['/api/v1/incidents', '/api/v1/auth/logout']) {
      const res = await t.app.inject({
        method: 'POST',
        url,
        headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': 'text/plain' },
        payload: 'title=x'
      })
      expectProblem(res, 415)
    }
  })

  it('does not pretend to log out an API token', async () => {
    const { token } = await makeApiToken(t, { scopes: ['tickets:read'] })
    const res = await t.api('POST', '/api/v1/auth/logout', { token })
    expect(expectProblem(res, 400).detail).toContain('DELETE /api/v1/api-tokens')
    expect((await t.api('GET', '/api/v1/auth/me', { token })).statusCode).toBe(200)
  })

  it('honours If-Match on user updates', async () => {
    const user = await makeUser(t, ['technician'])
    const ok = await t.api('PATCH', `/api/v1/users/${user.id}`, {
      body: { displayName: 'One' },
      headers: { 'if-match': '"1"' }
    })
    expect(ok.statusCode).toBe(200)
    expect(versionOfEtag(ok.headers.etag)).toBe(2)
    const stale = await t.api('PATCH', `/api/v1/users/${user.id}`, {
      body: { displayName: 'Two' },
      headers: { 'if-match': '"1"' }
    })
    expect(expectProblem(stale, 412).currentVersion).toBe(2)
  })

  it('names the field when concurrent creates race past the check into the unique index', async () => {
    const body = { username: 'racer', displayName: 'Racer', roles: ['technician'], password: 'a-good-password-1' }
    const answers = await Promise.all(Array.from({ length: 6 }, () => t.api('POST', '/api/v1/users', { body })))
    expect(answers.filter(a => a.statusCode === 201).length).toBe(1)
    for (const a of answers.filter(r => r.statusCode !== 201)) {
      expect(fieldsOf(expectProblem(a, 409))).toEqual(['username'])
    }
  })

  it('does not claim to have made an admin when the name is taken by a non-admin', async () => {
    await makeUser(t, ['technician'], { username: 'taken-name' })
    const deps = {
      db: t.db,
      log: t.app.log,
      authenticator: t.app.services.authenticator,
      authEvents: t.app.services.authEvents,
      directory: null
    }
    const config = { ...t.app.config, ADMIN_USERNAME: 'taken-name' }
    // no admin at all for a moment: bootstrap must report the clash rather than "create" one
    await t.db.execute(sql`UPDATE users SET roles = array_remove(roles, 'admin')`)
    try {
      const result = await createSessionService({ ...deps, config }).ensureBootstrapAdmin()
      expect(result).toEqual({ created: false, blockedBy: 'taken-name' })
    } finally {
      await t.db.execute(sql`UPDATE users SET roles = array_append(roles, 'admin') WHERE lower(username) = 'admin'`)
    }
    const fresh = await createSessionService({
      ...deps,
      config: { ...t.app.config, ADMIN_USERNAME: 'brand-new' }
    }).ensureBootstrapAdmin()
    expect(fresh.created).toBe(false)
  })
})
