import { and, eq, sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { auditLog, users } from '../../src/db/schema/index.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeTeam, makeUser } from '../helpers/factories.js'
import { expectProblem } from '../helpers/problem.js'
import type { DirectoryServer } from './directory-server.js'

/**
 * The LDAP cases, run against the real slapd fixture and against the in-process ldapjs directory:
 * the same trees, the same expectations (reliability test 11, lifecycle test 13).
 */

export const ORG = 'dc=example,dc=org'
export const CORP = 'dc=corp,dc=example,dc=com'
const JDOE = `uid=jdoe,ou=people,${ORG}`
const AGENTS = `cn=itsm-agents,ou=groups,${ORG}`
const ADMINS = `cn=itsm-admins,ou=groups,${ORG}`
const NETWORK = `cn=network-team,ou=groups,${ORG}`
const AD_JDOE = `CN=Doe\\, Jane,ou=Staff,${CORP}`

export const SERVICE_ACCOUNT = {
  LDAP_BIND_DN: `cn=svc-itsm,ou=services,${ORG}`,
  LDAP_BIND_PASSWORD: 'svc-bind-secret',
  LDAP_TIMEOUT_MS: '3000',
  // Injection probes are many failures from one address: keep lockout out of the way
  LOCKOUT_USER_FAILURES: '10000',
  LOCKOUT_IP_FAILURES: '10000'
}

/** OpenLDAP tree; users may also sign in by cn, so the hostile cn values are login names. */
export const openLdapEnv = (url: string): Record<string, string> => ({
  ...SERVICE_ACCOUNT,
  LDAP_URL: url,
  LDAP_BASE_DN: ORG,
  LDAP_USER_FILTER: '(&(objectClass=inetOrgPerson)(|(uid={username})(cn={username})))',
  DIRECTORY_ROLE_MAP: JSON.stringify({ [AGENTS]: ['technician'], [ADMINS]: ['supervisor'], [NETWORK]: ['technician'] }),
  DIRECTORY_TEAM_MAP: JSON.stringify({
    [AGENTS]: { team: 'Service Desk', level: 1 },
    [NETWORK]: { team: 'Network', level: 2 }
  })
})

export const adEnv = (url: string): Record<string, string> => ({
  ...SERVICE_ACCOUNT,
  LDAP_URL: url,
  LDAP_BASE_DN: CORP,
  LDAP_USER_FILTER: '(&(objectClass=user)(sAMAccountName={username}))',
  LDAP_USERNAME_ATTRIBUTE: 'sAMAccountName',
  LDAP_ACTIVE_DIRECTORY: 'true',
  // AD spells DNs its own way: the mapping still matches, case and spacing aside
  DIRECTORY_ROLE_MAP: JSON.stringify({ 'CN=ITSM Agents, OU=Groups, DC=corp, DC=example, DC=com': ['technician'] })
})

const login = (t: TestApp, username: string, password: string) =>
  t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password } })

const ldapUserCount = async (t: TestApp) =>
  (await t.db.select({ n: sql<number>`count(*)::int` }).from(users).where(eq(users.authSource, 'ldap')))[0]!.n

export function directoryCases(name: string, start: () => Promise<DirectoryServer>, skip: string | null = null) {
  describe.skipIf(skip !== null)(`LDAP sign-in against ${name}`, () => {
    let dir: DirectoryServer
    let t: TestApp
    let serviceDesk: { id: string }
    beforeAll(async () => {
      dir = await start()
      t = await buildTestApp(openLdapEnv(dir.url))
      serviceDesk = await makeTeam(t, [], 'Service Desk')
      await makeTeam(t, [], 'Network')
    })
    afterAll(async () => {
      await t?.close()
      await dir?.stop()
    })

    it('jdoe signs in; the user is created from the directory with mapped roles and team places', async () => {
      const res = await login(t, 'jdoe', 'jdoe-pass')
      expect(res.statusCode, res.body).toBe(200)
      const user = res.json().user
      expect(user).toMatchObject({
        username: 'jdoe',
        displayName: 'Jane Doe',
        email: 'jane.doe@example.org',
        phone: '+15550100',
        authSource: 'ldap',
        active: true
      })
      const [row] = await t.db.select().from(users).where(eq(users.id, user.id))
      expect(row!.externalId).toBe(JDOE)
      expect([...user.roles].sort()).toEqual(['supervisor', 'technician'])
      const team = (await t.api('GET', `/api/v1/teams/${serviceDesk.id}`)).json()
      expect(team.layers.find((l: { level: number }) => l.level === 1).members).toContain(user.id)
      // The session works like any other
      const me = await t.api('GET', '/api/v1/auth/me', { token: res.json().token })
      expect(me.json().user.id).toBe(user.id)
    })

    it('a wrong password and an unknown user answer the same 401', async () => {
      const wrong = expectProblem(await login(t, 'jdoe', 'not-her-password'), 401, 'INVALID_CREDENTIALS')
      const unknown = expectProblem(await login(t, 'nobody-at-all', 'whatever-1'), 401, 'INVALID_CREDENTIALS')
      expect(wrong.detail).toBe(unknown.detail)
    })

    it('an empty password never reaches the directory', async () => {
      const before = dir.binds()
      const empty = await login(t, 'jdoe', '')
      expect([400, 401]).toContain(empty.statusCode)
      expectProblem(await login(t, 'jdoe', '   '), 401)
      if (before !== null) expect(dir.binds()).toBe(before)
    })

    it('filter metacharacters in the username never sign anyone in', async () => {
      const count = await ldapUserCount(t)
      const probes = [
        '*',
        '*)(uid=*',
        'jdoe)(|(uid=*',
        'jdoe)(uid=*))(|(uid=*',
        '*)(|(objectClass=*',
        'j*',
        '*doe',
        'jdoe*',
        '\\00',
        '\\2a',
        'jdoe\\',
        '(uid=jdoe)',
        ')(cn=*))(|(cn=*',
        'x'.repeat(65_536)
      ]
      for (const username of probes) {
        for (const password of ['jdoe-pass', '*']) {
          const res = await login(t, username, password)
          expect([400, 401], `${JSON.stringify(username.slice(0, 40))}: ${res.body}`).toContain(res.statusCode)
        }
      }
      expect(await ldapUserCount(t)).toBe(count)
    })

    // PostgreSQL text cannot hold NUL: the login schema refuses control characters before any query
    it('a NUL character in the username answers 400 or 401', async () => {
      for (const username of ['\u0000', 'jdoe\u0000']) {
        expect([400, 401]).toContain((await login(t, username, 'jdoe-pass')).statusCode)
      }
    })

    it("hostile but legal names sign in: O'Brien, Pat; Müller, Marie; Star (*) Admin \\", async () => {
      for (const [typed, password, username] of [
        ["O'Brien, Pat", 'pobrien-pass', 'pobrien'],
        ['Müller, Marie', 'mmuller-pass', 'mmuller'],
        ['Star (*) Admin \\ backslash', 'star-pass', 'admin-star']
      ] as const) {
        const res = await login(t, typed, password)
        expect(res.statusCode, `${typed}: ${res.body}`).toBe(200)
        expect(res.json().user.username).toBe(username)
      }
      const pat = (await login(t, 'pobrien', 'pobrien-pass')).json().user
      expect(pat.displayName).toBe("O'Brien, Pat")
      expect(pat.roles).toEqual(['technician'])
      const marie = (await login(t, 'mmuller', 'mmuller-pass')).json().user
      expect(marie.displayName).toBe('Müller, Marie')
    })

    it('a group change in the directory takes effect on the next login', async () => {
      await dir.removeMember(AGENTS, JDOE)
      try {
        const res = await login(t, 'jdoe', 'jdoe-pass')
        expect(res.statusCode, res.body).toBe(200)
        const user = res.json().user
        expect(user.roles).toEqual(['supervisor'])
        const team = (await t.api('GET', `/api/v1/teams/${serviceDesk.id}`)).json()
        expect(team.layers.find((l: { level: number }) => l.level === 1).members).not.toContain(user.id)
      } finally {
        await dir.addMember(AGENTS, JDOE)
      }
      const again = (await login(t, 'jdoe', 'jdoe-pass')).json().user
      expect([...again.roles].sort()).toEqual(['supervisor', 'technician'])
    })

    it('a locally disabled directory user is refused with the right password', async () => {
      const first = await login(t, 'bsmith', 'bsmith-pass')
      expect(first.statusCode, first.body).toBe(200)
      const { token, user } = first.json()
      expect((await t.edit(`/api/v1/users/${user.id}`, { body: { active: false } })).statusCode).toBe(200)
      expectProblem(await login(t, 'bsmith', 'bsmith-pass'), 401, 'INVALID_CREDENTIALS')
      expectProblem(await t.api('GET', '/api/v1/auth/me', { token }), 401)
      // The directory does not switch them back on
      const [row] = await t.db.select().from(users).where(eq(users.id, user.id))
      expect(row!.active).toBe(false)
      expect((await t.edit(`/api/v1/users/${user.id}`, { body: { active: true } })).statusCode).toBe(200)
      expect((await login(t, 'bsmith', 'bsmith-pass')).statusCode).toBe(200)
    })

    it('groups can come from a group search instead of memberOf', async () => {
      const g = await buildTestApp({
        ...openLdapEnv(dir.url),
        LDAP_GROUP_SEARCH_FILTER: '(&(objectClass=groupOfNames)(member={dn}))',
        LDAP_GROUP_BASE_DN: `ou=groups,${ORG}`
      })
      try {
        const jdoe = await login(g, 'jdoe', 'jdoe-pass')
        expect([...jdoe.json().user.roles].sort()).toEqual(['supervisor', 'technician'])
        // The DN with an escaped comma goes into the group filter escaped once more, and still matches
        const pat = await login(g, "O'Brien, Pat", 'pobrien-pass')
        expect(pat.json().user.roles).toEqual(['technician'])
      } finally {
        await g.close()
      }
    })

    describe('Active Directory tree', () => {
      let ad: TestApp
      beforeAll(async () => {
        ad = await buildTestApp(adEnv(dir.url))
      })
      afterAll(async () => ad?.close())

      it('jdoe signs in by sAMAccountName, CORP\\jdoe and UPN, all as one user', async () => {
        const plain = await login(ad, 'jdoe', 'jdoe-ad-pass')
        expect(plain.statusCode, plain.body).toBe(200)
        const user = plain.json().user
        expect(user).toMatchObject({ username: 'jdoe', displayName: 'Jane Doe', roles: ['technician'] })
        const [row] = await ad.db.select().from(users).where(eq(users.id, user.id))
        // The DN as one canonical spelling, whichever escape the server used (`\,` or `\2C`)
        expect(row!.externalId).toBe('cn=Doe\\, Jane,ou=Staff,dc=corp,dc=example,dc=com')
        for (const typed of ['CORP\\jdoe', 'jdoe@corp.example.com']) {
          const res = await login(ad, typed, 'jdoe-ad-pass')
          expect(res.statusCode, `${typed}: ${res.body}`).toBe(200)
          expect(res.json().user.id).toBe(user.id)
        }
        // A UPN of another realm is not jdoe, nor is a NetBIOS domain other than ours (CORP)
        expectProblem(await login(ad, 'jdoe@elsewhere.example.net', 'jdoe-ad-pass'), 401)
        expectProblem(await login(ad, 'OTHER\\jdoe', 'jdoe-ad-pass'), 401)
        expectProblem(await login(ad, 'EVIL.CORP\\jdoe', 'jdoe-ad-pass'), 401)
        expectProblem(await login(ad, 'CORP\\jdoe', 'jdoe-pass'), 401)
      })

      it('a disabled account (userAccountControl 514) is refused without a bind', async () => {
        const before = dir.binds()
        expectProblem(await login(ad, 'olduser', 'old-pass'), 401, 'INVALID_CREDENTIALS')
        // one bind: the service account's; the account itself is never tried
        if (before !== null) expect(dir.binds()).toBe(before + 1)
      })

      it('sync leaves disabled accounts out, and disables a user AD switches off', async () => {
        const first = (await ad.api('POST', '/api/v1/directory/sync')).json()
        expect(first).toMatchObject({ disabled: 0, errors: [] })
        const [old] = await ad.db.select().from(users).where(eq(users.username, 'olduser'))
        expect(old).toBeUndefined()
        const token = await ad.login('jdoe', 'jdoe-ad-pass')
        await dir.replace(AD_JDOE, 'userAccountControl', ['514'])
        try {
          const report = (await ad.api('POST', '/api/v1/directory/sync')).json()
          expect(report).toMatchObject({ created: 0, disabled: 1, errors: [] })
          expectProblem(await ad.api('GET', '/api/v1/auth/me', { token }), 401)
          expectProblem(await login(ad, 'jdoe', 'jdoe-ad-pass'), 401)
        } finally {
          await dir.replace(AD_JDOE, 'userAccountControl', ['512'])
        }
      })
    })

    describe('directory sync', () => {
      let s: TestApp
      beforeAll(async () => {
        s = await buildTestApp(openLdapEnv(dir.url))
        await makeTeam(s, [], 'Service Desk')
      })
      afterAll(async () => s?.close())

      it('creates everyone, then a second run reports all unchanged', async () => {
        const first = await s.api('POST', '/api/v1/directory/sync')
        expect(first.statusCode, first.body).toBe(200)
        expect(first.json()).toEqual({ created: 5, updated: 0, unchanged: 0, disabled: 0, errors: [] })
        const second = (await s.api('POST', '/api/v1/directory/sync')).json()
        expect(second).toEqual({ created: 0, updated: 0, unchanged: 5, disabled: 0, errors: [] })
        const [jdoe] = await s.db.select().from(users).where(eq(users.username, 'jdoe'))
        expect([...jdoe!.roles].sort()).toEqual(['supervisor', 'technician'])
        const audits = await s.db
          .select()
          .from(auditLog)
          .where(and(eq(auditLog.entityType, 'directory'), eq(auditLog.action, 'directory.synced')))
        expect(audits).toHaveLength(2)
        expect(audits[0]!.actorLabel).toBe('admin')
      })

      it('updates changed entries and disables users gone from the directory, ending their sessions', async () => {
        const token = await s.login('admin-star', 'star-pass')
        await dir.replace(`uid=bsmith,ou=people,${ORG}`, 'mail', ['robert.smith@example.org'])
        await dir.remove(`uid=admin-star,ou=people,${ORG}`)
        const report = (await s.api('POST', '/api/v1/directory/sync')).json()
        expect(report).toEqual({ created: 0, updated: 1, unchanged: 3, disabled: 1, errors: [] })
        const [bob] = await s.db.select().from(users).where(eq(users.username, 'bsmith'))
        expect(bob!.email).toBe('robert.smith@example.org')
        const [star] = await s.db.select().from(users).where(eq(users.username, 'admin-star'))
        expect(star!.active).toBe(false)
        expectProblem(await s.api('GET', '/api/v1/auth/me', { token }), 401)
        // Idempotent again; GraphQL answers the same report
        const gql = await s.gql(
          'mutation { syncDirectory { created updated unchanged disabled errors { username message } } }'
        )
        expect(gql.body.errors).toBeUndefined()
        expect(gql.body.data?.syncDirectory).toEqual({ created: 0, updated: 0, unchanged: 4, disabled: 0, errors: [] })
      })

      it('is for admins only: a technician gets 403 on REST and GraphQL', async () => {
        const tech = await makeUser(s, ['technician'])
        expectProblem(await s.api('POST', '/api/v1/directory/sync', { token: tech.token }), 403, 'FORBIDDEN')
        const gql = await s.gql('mutation { syncDirectory { created } }', {}, tech.token)
        expect(gql.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN')
      })
    })
  })
}
