import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { adEnv, CORP, directoryCases, openLdapEnv } from './directory.cases.js'
import { startFakeDirectory } from './fake-directory.js'

directoryCases('the in-process ldapjs directory', startFakeDirectory)

// What slapd cannot show: AD's in-chain rule (nested groups), evaluated by the fake as AD would
describe('nested AD groups through the in-chain rule (fake directory only)', () => {
  let dir: Awaited<ReturnType<typeof startFakeDirectory>>
  let t: TestApp
  const STAFF = `CN=Service Desk Staff,ou=Groups,${CORP}`
  beforeAll(async () => {
    dir = await startFakeDirectory()
    t = await buildTestApp({
      ...adEnv(dir.url),
      LDAP_NESTED_GROUPS: 'true',
      DIRECTORY_ROLE_MAP: JSON.stringify({ [STAFF]: ['supervisor'] })
    })
  })
  afterAll(async () => {
    await t?.close()
    await dir?.stop()
  })

  it('a group that contains a group of the user maps too', async () => {
    const before = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'jdoe', password: 'jdoe-ad-pass' }
    })
    expect(before.json().user.roles).toEqual(['customer'])
    // Service Desk Staff holds ITSM Agents, which holds jdoe
    await dir.addGroup(STAFF, [`CN=ITSM Agents,ou=Groups,${CORP}`])
    const after = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'jdoe', password: 'jdoe-ad-pass' }
    })
    expect(after.statusCode, after.body).toBe(200)
    expect(after.json().user.roles).toEqual(['supervisor'])
  })
})

describe('header SSO matched to the directory', () => {
  let dir: Awaited<ReturnType<typeof startFakeDirectory>>
  let t: TestApp
  beforeAll(async () => {
    dir = await startFakeDirectory()
    t = await buildTestApp({
      ...openLdapEnv(dir.url),
      SSO_USER_HEADER: 'X-Remote-User',
      SSO_TRUSTED_PROXIES: '10.0.0.5'
    })
  })
  afterAll(async () => {
    await t?.close()
    await dir?.stop()
  })

  const me = (user: string) =>
    t.app.inject({ url: '/api/v1/auth/me', remoteAddress: '10.0.0.5', headers: { 'x-remote-user': user } })

  it('creates a user the proxy names from their directory entry, roles from the groups, never admin', async () => {
    const res = await me('jdoe')
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json()).toMatchObject({ via: 'sso', user: { username: 'jdoe', authSource: 'ldap' } })
    expect(res.json().user.roles).toContain('technician')
    expect(res.json().user.roles).not.toContain('admin')
  })

  it('refuses a name the directory does not know (no provisioning from headers configured)', async () => {
    expect((await me('nobody-here')).statusCode).toBe(401)
  })
})
