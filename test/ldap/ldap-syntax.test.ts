import { type AndFilter, EqualityFilter, ExtensibleFilter, FilterParser } from 'ldapts'
import { describe, expect, it } from 'vitest'
import { adAccountOff } from '../../src/auth/ldap.js'
import {
  canonicalDn,
  dnKey,
  escapeFilterValue,
  fillFilter,
  groupFilter,
  IN_CHAIN_RULE,
  loginName,
  parseDn,
  sameDn,
  syncFilter,
  userFilter
} from '../../src/auth/ldap-syntax.js'
import { loadConfig } from '../../src/config.js'

const config = (env: Record<string, string> = {}) =>
  loadConfig({ LDAP_URL: 'ldap://127.0.0.1:389', LDAP_BASE_DN: 'dc=example,dc=org', ...env })
const AD = {
  LDAP_USER_FILTER: '(&(objectClass=user)(sAMAccountName={username}))',
  LDAP_USERNAME_ATTRIBUTE: 'sAMAccountName',
  LDAP_ACTIVE_DIRECTORY: 'true',
  LDAP_NETBIOS_DOMAINS: 'CORP'
}

describe('RFC 4515 filter values', () => {
  it('escapes the five metacharacters and leaves UTF-8 alone', () => {
    expect(escapeFilterValue('*)(uid=*')).toBe('\\2a\\29\\28uid=\\2a')
    expect(escapeFilterValue('Star (*) Admin \\ x')).toBe('Star \\28\\2a\\29 Admin \\5c x')
    expect(escapeFilterValue('a\u0000b')).toBe('a\\00b')
    expect(escapeFilterValue('Müller, Marie')).toBe('Müller, Marie')
  })

  it('filled filters parse to exactly one assertion of the literal value', () => {
    for (const hostile of ['*', 'jdoe)(|(uid=*', '*)(objectClass=*', '\\2a', 'a\\', '$&$1 $$']) {
      const f = FilterParser.parseString(fillFilter('(uid={username})', { username: hostile }))
      expect(f).toBeInstanceOf(EqualityFilter)
      expect((f as EqualityFilter).value).toBe(hostile)
    }
  })

  it('an injection attempt inside the configured filter stays inside its assertion', () => {
    const filter = userFilter({ value: 'jdoe)(|(uid=*', template: '(&(objectClass=inetOrgPerson)(uid={username}))' })
    const f = FilterParser.parseString(filter) as AndFilter
    expect(f.filters).toHaveLength(2)
    expect((f.filters[1] as EqualityFilter).value).toBe('jdoe)(|(uid=*')
  })
})

describe('RFC 4514 DNs', () => {
  it('parses escapes, hex escapes, quoted values and multi-valued RDNs', () => {
    expect(parseDn("cn=O'Brien\\, Pat,ou=people")).toEqual([
      [{ type: 'cn', value: "O'Brien, Pat" }],
      [{ type: 'ou', value: 'people' }]
    ])
    expect(parseDn("CN=O'Brien\\2C Pat, OU=people")[0]).toEqual([{ type: 'cn', value: "O'Brien, Pat" }])
    expect(parseDn('cn=M\\C3\\BCller')[0]![0]!.value).toBe('Müller')
    expect(parseDn('cn="a, b",dc=x')[0]![0]!.value).toBe('a, b')
    expect(parseDn('cn=a+uid=b,dc=x')[0]).toHaveLength(2)
    expect(parseDn('cn=\\ lead\\ ,dc=x')[0]![0]!.value).toBe(' lead ')
    expect(parseDn('')).toEqual([])
    expect(() => parseDn('no equals here')).toThrow()
  })

  it('compares DNs parsed, not as strings', () => {
    expect(
      sameDn("cn=O'Brien\\2C Pat,ou=people,dc=example,dc=org", "CN=o'brien\\, pat, OU=People, DC=example, DC=org")
    ).toBe(true)
    expect(sameDn('uid=jdoe,dc=example,dc=org', 'uid=jdoe2,dc=example,dc=org')).toBe(false)
    expect(sameDn('cn=a+uid=b,dc=x', 'uid=b+cn=a,dc=x')).toBe(true)
    expect(dnKey('CN=Doe\\, Jane,OU=Staff')).toBe('cn=doe\\, jane,ou=staff')
  })

  it('writes one canonical spelling, keeping case', () => {
    expect(canonicalDn("cn=O'Brien\\2C Pat, ou=people,dc=example,dc=org")).toBe(
      "cn=O'Brien\\, Pat,ou=people,dc=example,dc=org"
    )
    expect(canonicalDn('CN=Star (*) Admin \\5c x,dc=x')).toBe('cn=Star (*) Admin \\\\ x,dc=x')
    expect(canonicalDn('cn=#x,dc=x')).toBe('cn=#x,dc=x')
  })
})

describe('login names', () => {
  it('other directories look up the name as typed', () => {
    expect(loginName('CORP\\jdoe', config())).toMatchObject({ value: 'CORP\\jdoe' })
    expect(loginName('   ', config())).toBeNull()
  })

  it('AD: CORP\\jdoe is jdoe; a UPN is looked up by userPrincipalName, never by its local part', () => {
    const ad = config(AD)
    expect(loginName('CORP\\jdoe', ad)).toEqual({ value: 'jdoe', template: AD.LDAP_USER_FILTER })
    const upn = loginName('jdoe@corp.example.com', ad)!
    expect(userFilter(upn)).toBe('(&(objectClass=user)(userPrincipalName=jdoe@corp.example.com))')
    // Not a down-level name: spaces and parentheses
    expect(loginName('Star (*) Admin \\ x', ad)!.value).toBe('Star (*) Admin \\ x')
    // A filter that already handles UPN is left to do so
    const both = config({ ...AD, LDAP_USER_FILTER: '(|(sAMAccountName={username})(userPrincipalName={username}))' })
    expect(loginName('jdoe@corp.example.com', both)!.template).toBe(both.LDAP_USER_FILTER)
  })
})

describe('group filters', () => {
  const dn = 'CN=Doe\\, Jane,OU=Staff,DC=corp,DC=example,DC=com'

  it('nested groups use the AD in-chain rule with the DN as one escaped value', () => {
    const filter = groupFilter(config({ ...AD, LDAP_NESTED_GROUPS: 'true' }), dn, 'jdoe')!
    expect(filter).toBe(
      `(&(objectClass=group)(member:${IN_CHAIN_RULE}:=CN=Doe\\5c, Jane,OU=Staff,DC=corp,DC=example,DC=com))`
    )
    // What goes on the wire: an extensible match on member with that rule and the DN unchanged
    const parsed = FilterParser.parseString(filter) as AndFilter
    const chain = parsed.filters[1] as ExtensibleFilter
    expect(chain).toBeInstanceOf(ExtensibleFilter)
    expect(chain.matchType).toBe('member')
    expect(chain.rule).toBe(IN_CHAIN_RULE)
    expect(chain.value).toBe(dn)
  })

  it('a configured group search fills {dn} and {username} escaped; without either, memberOf is read', () => {
    const c = config({ LDAP_GROUP_SEARCH_FILTER: '(|(member={dn})(memberUid={username}))' })
    expect(groupFilter(c, 'cn=a*b,dc=x', 'j(d)')).toBe('(|(member=cn=a\\2ab,dc=x)(memberUid=j\\28d\\29))')
    expect(groupFilter(config(), dn, 'jdoe')).toBeNull()
  })

  it('sync pages through the user filter matching anyone, or LDAP_SYNC_FILTER', () => {
    expect(syncFilter(config())).toBe('(&(objectClass=inetOrgPerson)(uid=*))')
    expect(syncFilter(config({ LDAP_SYNC_FILTER: '(objectClass=person)' }))).toBe('(objectClass=person)')
  })
})

describe('AD account state', () => {
  const entry = (attrs: Record<string, string>) => ({ dn: 'cn=x', ...attrs })
  it('userAccountControl bit 2 and a past accountExpires switch an account off', () => {
    expect(adAccountOff(entry({ userAccountControl: '512' }))).toBe(false)
    expect(adAccountOff(entry({ userAccountControl: '514' }))).toBe(true)
    expect(adAccountOff(entry({ userAccountControl: '66050' }))).toBe(true)
    expect(adAccountOff(entry({ accountExpires: '0' }))).toBe(false)
    expect(adAccountOff(entry({ accountExpires: '9223372036854775807' }))).toBe(false)
    // 2001-01-01 in 100 ns ticks since 1601
    expect(adAccountOff(entry({ accountExpires: '126227808000000000' }))).toBe(true)
  })
})
