import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeIncident, makeUser } from '../helpers/factories.js'
import { errorWith } from '../helpers/graphql.js'
import { expectProblem } from '../helpers/problem.js'

/**
 * One edit-conflict rule for every mutable resource: If-Match or `version` in the body names what was
 * edited; neither is 428, a stale one 412 with `currentVersion`, over REST and GraphQL alike.
 */
describe('one edit rule for tickets, users and configuration items', () => {
  let t: TestApp
  let userId: string
  let ciId: string
  let incidentId: string

  beforeAll(async () => {
    t = await buildTestApp()
    userId = (await makeUser(t, ['technician'])).id
    const ci = await t.api('POST', '/api/v1/cis', { body: { name: 'db-01' } })
    expect(ci.statusCode, ci.body).toBe(201)
    ciId = ci.json().id
    incidentId = (await makeIncident(t)).id
  })
  afterAll(async () => t?.close())

  const cases = () => [
    { url: `/api/v1/users/${userId}`, body: { displayName: 'Edited' } },
    { url: `/api/v1/cis/${ciId}`, body: { name: 'db-01 (edited)' } },
    { url: `/api/v1/incidents/${incidentId}`, body: { title: 'Edited title' } }
  ]

  it('REST: 428 without a version, 200 with If-Match or body version, 412 when stale', async () => {
    for (const { url, body } of cases()) {
      const read = await t.api('GET', url)
      expect(read.statusCode, url).toBe(200)
      const version = read.json().version as number
      // The ETag is the version and a digest of the representation ("3-<digest>")
      expect(read.headers.etag, url).toMatch(new RegExp(`^"${version}(-[A-Za-z0-9_-]+)?"$`))

      const none = expectProblem(await t.api('PATCH', url, { body }), 428, 'PRECONDITION_REQUIRED')
      expect(none.detail, url).toMatch(/If-Match/)

      const byHeader = await t.api('PATCH', url, { body, headers: { 'if-match': `"${version}"` } })
      expect(byHeader.statusCode, `${url} ${byHeader.body}`).toBe(200)
      expect(byHeader.headers.etag).toMatch(new RegExp(`^"${version + 1}(-[A-Za-z0-9_-]+)?"$`))
      expect(byHeader.json().version).toBe(version + 1)

      const again = Object.fromEntries(Object.entries(body).map(([k, v]) => [k, `${v} again`]))
      const byBody = await t.api('PATCH', url, { body: { ...again, version: version + 1 } })
      expect(byBody.statusCode, `${url} ${byBody.body}`).toBe(200)
      expect(byBody.json().version).toBe(version + 2)

      const stale = expectProblem(await t.api('PATCH', url, { body: { ...body, version } }), 412, 'PRECONDITION_FAILED')
      expect(stale.currentVersion, url).toBe(version + 2)
      const staleHeader = await t.api('PATCH', url, { body, headers: { 'if-match': `W/"${version}"` } })
      expectProblem(staleHeader, 412, 'PRECONDITION_FAILED')
      expectProblem(await t.api('PATCH', url, { body, headers: { 'if-match': 'yesterday' } }), 400)
    }
  })

  it('GraphQL: updateUser and updateCi take the version read, like updateIncident', async () => {
    const user = (await t.gql('query($id: ID!) { user(id: $id) { version } }', { id: userId })).body.data!.user
    const ok = await t.gql(
      'mutation($id: ID!, $v: Int!) { updateUser(id: $id, version: $v, input: { displayName: "By GraphQL" }) { displayName version } }',
      { id: userId, v: user.version }
    )
    expect(ok.body.errors).toBeUndefined()
    expect(ok.body.data!.updateUser).toEqual({ displayName: 'By GraphQL', version: user.version + 1 })
    const stale = await t.gql(
      'mutation($id: ID!, $v: Int!) { updateUser(id: $id, version: $v, input: { displayName: "Stale" }) { id } }',
      { id: userId, v: user.version }
    )
    expect(errorWith(stale.body, 'PRECONDITION_FAILED').extensions.currentVersion).toBe(user.version + 1)

    const ci = (await t.gql('query($id: ID!) { ci(id: $id) { version } }', { id: ciId })).body.data!.ci
    const ciOk = await t.gql(
      'mutation($id: ID!, $v: Int!) { updateCi(id: $id, version: $v, input: { status: "maintenance" }) { status version } }',
      { id: ciId, v: ci.version }
    )
    expect(ciOk.body.errors).toBeUndefined()
    expect(ciOk.body.data!.updateCi).toEqual({ status: 'maintenance', version: ci.version + 1 })
    const ciStale = await t.gql(
      'mutation($id: ID!, $v: Int!) { updateCi(id: $id, version: $v, input: { status: "live" }) { id } }',
      { id: ciId, v: ci.version }
    )
    expect(errorWith(ciStale.body, 'PRECONDITION_FAILED').extensions.currentVersion).toBe(ci.version + 1)
  })
})
