import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import ldap from 'ldapjs'
import type { DirectoryServer } from './directory-server.js'

/**
 * An in-process LDAP server (ldapjs) serving the same two trees as the shared slapd fixture
 * (users-openldap.ldif, users-ad.ldif), so the default test run still speaks real LDAP protocol:
 * simple binds with DN and password, subtree searches whose filters ldapjs parses and matches,
 * memberOf kept from the groups' member values as the slapd memberof overlay does, paged results,
 * and AD's in-chain and bit-and matching rules, which slapd cannot evaluate.
 */

interface FakeEntry {
  dn: string
  attributes: Record<string, string[]>
  password?: string
}

/**
 * ldapjs 3 turns each received search filter into text and parses it again, and its escaping on the
 * way is lossy (a raw backslash or `\2c` in a value comes back changed), so values like
 * `Star (*) Admin \ backslash` could never match. Keep the filter exactly as it was BER-decoded.
 */
function keepDecodedFilters() {
  const fromLdapjs = createRequire(createRequire(import.meta.url).resolve('ldapjs'))
  const { SearchRequest } = fromLdapjs('@ldapjs/messages')
  const { BerReader } = fromLdapjs('@ldapjs/asn1')
  const filters = fromLdapjs('@ldapjs/filter')
  if (SearchRequest.parseToPojo.keepsFilters) return
  const original = SearchRequest.parseToPojo
  SearchRequest.parseToPojo = Object.assign(
    (ber: { offset: number; buffer: Buffer }) => {
      const start = ber.offset
      const pojo = original.call(SearchRequest, ber)
      // Read the same bytes again, up to the filter, and decode it once more without the text trip
      const again = new BerReader(ber.buffer)
      again.setOffset(start)
      again.readSequence()
      for (const read of ['readString', 'readEnumeration', 'readEnumeration', 'readInt', 'readInt', 'readBoolean'])
        again[read]()
      pojo.filter = filters.parseBer(new BerReader(again.readRawBuffer(again.peek())))
      return pojo
    },
    { keepsFilters: true }
  )
}

export const ROOT_PASSWORD = 'test-admin-secret'
const IN_CHAIN = '1.2.840.113556.1.4.1941'
const BIT_AND = '1.2.840.113556.1.4.803'

/** DN text as ldapjs writes it (`\,` becomes `\2c`), so entry names and member values compare equal. */
// @types/ldapjs leaves the controls out; ldapjs 3 exports them
const { PagedResultsControl } = ldap as unknown as {
  PagedResultsControl: {
    OID: string
    new (o: { value: { size: number; cookie: Buffer } }): object
  }
}

const dnText = (dn: string): string => ldap.parseDN(dn).toString()
const dnKey = (dn: string): string => dnText(dn).toLowerCase()

function entries(): FakeEntry[] {
  const person = (dn: string, attrs: Record<string, string | string[]>, password: string): FakeEntry => ({
    dn,
    password,
    attributes: Object.fromEntries(Object.entries(attrs).map(([k, v]) => [k, Array.isArray(v) ? v : [v]]))
  })
  const org = 'dc=example,dc=org'
  const corp = 'dc=corp,dc=example,dc=com'
  const inet = ['inetOrgPerson']
  const adUser = ['top', 'person', 'organizationalPerson', 'user']
  const group = (dn: string, oc: string[], members: string[], extra: Record<string, string> = {}): FakeEntry => ({
    dn,
    attributes: { objectClass: oc, cn: [dn.split(',')[0]!.slice(3)], member: members, ...wrap(extra) }
  })
  return [
    {
      dn: `cn=admin,${org}`,
      password: ROOT_PASSWORD,
      attributes: { objectClass: ['organizationalRole'], cn: ['admin'] }
    },
    {
      dn: `cn=admin,${corp}`,
      password: ROOT_PASSWORD,
      attributes: { objectClass: ['organizationalRole'], cn: ['admin'] }
    },
    person(
      `cn=svc-itsm,ou=services,${org}`,
      { objectClass: ['applicationProcess', 'simpleSecurityObject'], cn: 'svc-itsm' },
      'svc-bind-secret'
    ),
    person(
      `uid=jdoe,ou=people,${org}`,
      {
        objectClass: inet,
        uid: 'jdoe',
        cn: 'Jane Doe',
        sn: 'Doe',
        givenName: 'Jane',
        mail: 'jane.doe@example.org',
        telephoneNumber: '+1 555 0100',
        mobile: '+15550100',
        employeeNumber: '1001'
      },
      'jdoe-pass'
    ),
    person(
      `uid=bsmith,ou=people,${org}`,
      { objectClass: inet, uid: 'bsmith', cn: 'Bob Smith', sn: 'Smith', mail: 'bob.smith@example.org' },
      'bsmith-pass'
    ),
    person(
      `cn=O'Brien\\, Pat,ou=people,${org}`,
      { objectClass: inet, uid: 'pobrien', cn: "O'Brien, Pat", sn: "O'Brien", mail: 'pat.obrien@example.org' },
      'pobrien-pass'
    ),
    person(
      `uid=admin-star,ou=people,${org}`,
      { objectClass: inet, uid: 'admin-star', cn: 'Star (*) Admin \\ backslash', sn: 'Admin' },
      'star-pass'
    ),
    person(
      `uid=mmuller,ou=people,${org}`,
      { objectClass: inet, uid: 'mmuller', cn: 'Müller, Marie', sn: 'Müller', mail: 'marie.mueller@example.org' },
      'mmuller-pass'
    ),
    group(
      `cn=itsm-agents,ou=groups,${org}`,
      ['groupOfNames'],
      [`uid=jdoe,ou=people,${org}`, `cn=O'Brien\\, Pat,ou=people,${org}`]
    ),
    group(`cn=itsm-admins,ou=groups,${org}`, ['groupOfNames'], [`uid=jdoe,ou=people,${org}`]),
    group(
      `cn=network-team,ou=groups,${org}`,
      ['groupOfNames'],
      [`uid=bsmith,ou=people,${org}`, `uid=mmuller,ou=people,${org}`]
    ),
    person(
      `CN=Doe\\, Jane,ou=Staff,${corp}`,
      {
        objectClass: adUser,
        cn: 'Doe, Jane',
        sn: 'Doe',
        givenName: 'Jane',
        displayName: 'Jane Doe',
        sAMAccountName: 'jdoe',
        userPrincipalName: 'jdoe@corp.example.com',
        mail: 'Jane.Doe@corp.example.com',
        userAccountControl: '512'
      },
      'jdoe-ad-pass'
    ),
    person(
      `CN=Old\\, Account,ou=Staff,${corp}`,
      {
        objectClass: adUser,
        cn: 'Old, Account',
        sn: 'Account',
        sAMAccountName: 'olduser',
        userPrincipalName: 'olduser@corp.example.com',
        userAccountControl: '514'
      },
      'old-pass'
    ),
    group(
      `CN=ITSM Agents,ou=Groups,${corp}`,
      ['top', 'group'],
      [`CN=Doe\\, Jane,ou=Staff,${corp}`, `CN=Old\\, Account,ou=Staff,${corp}`],
      { sAMAccountName: 'ITSM Agents', groupType: '-2147483646' }
    ),
    group(`CN=Domain Users,ou=Groups,${corp}`, ['top', 'group'], [`CN=Doe\\, Jane,ou=Staff,${corp}`], {
      sAMAccountName: 'Domain Users',
      groupType: '-2147483646'
    })
  ].map(e => ({ ...e, dn: dnText(e.dn), attributes: normaliseMembers(e.attributes) }))
}

const wrap = (o: Record<string, string>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, [v]]))

function normaliseMembers(attrs: Record<string, string[]>): Record<string, string[]> {
  return attrs.member ? { ...attrs, member: attrs.member.map(dnText) } : attrs
}

/** With `tls` (PEM certificate and key) the directory speaks LDAPS from the first byte. */
export async function startFakeDirectory(tls?: {
  certificate: string
  key: string
}): Promise<DirectoryServer & { hang: boolean; addGroup(dn: string, members: string[]): Promise<void> }> {
  const data = new Map(entries().map(e => [dnKey(e.dn), e]))
  const state = { binds: 0, hang: false }
  keepDecodedFilters()
  const server = ldap.createServer(tls ?? {})

  /** memberOf as the overlay keeps it: every group listing the entry as a member. */
  const withMemberOf = (e: FakeEntry): Record<string, string[]> => {
    const key = dnKey(e.dn)
    const groups = [...data.values()].filter(g => g.attributes.member?.some(m => dnKey(m) === key)).map(g => g.dn)
    return groups.length ? { ...e.attributes, memberOf: groups } : e.attributes
  }

  /** Groups whose member chain reaches `dn` (what AD's in-chain rule answers). */
  const chainOf = (dn: string, seen = new Set<string>()): Set<string> => {
    for (const g of data.values()) {
      const gk = dnKey(g.dn)
      if (seen.has(gk) || !g.attributes.member?.some(m => dnKey(m) === dnKey(dn))) continue
      seen.add(gk)
      chainOf(g.dn, seen)
    }
    return seen
  }

  // ldapjs evaluates the leaves; and/or/not are walked here only so AD's matching rules can be answered
  interface Named {
    toString(): string
  }
  interface BindReq {
    dn: Named
    credentials: string
  }
  interface SearchReq {
    dn: Named
    scopeName: string
    filter: Filter
    attributes: string[]
    sizeLimit: number
    controls: { type: string; value: { size: number; cookie: Buffer } }[]
    connection: { ldap: { bindDN: Named } }
  }
  interface Res {
    attributes: string[]
    status: number
    end(): void
    send(entry: object, noFiltering?: boolean): void
    addControl(control: object): void
  }
  type Next = (err?: unknown) => void
  type Filter = {
    type: string
    filters?: Filter[]
    filter?: Filter
    matchingRule?: string
    matchType?: string
    attribute?: string
    value?: string
    matches(o: object, strict?: boolean): boolean
  }
  const evaluate = (f: Filter, e: FakeEntry, attrs: Record<string, string[]>): boolean => {
    switch (f.type) {
      case 'AndFilter':
        return (f.filters ?? []).every(x => evaluate(x, e, attrs))
      case 'OrFilter':
        return (f.filters ?? []).some(x => evaluate(x, e, attrs))
      case 'NotFilter':
        return !evaluate(f.filter as Filter, e, attrs)
      case 'ExtensibleFilter': {
        const wanted = String(f.value)
        if (f.matchingRule === IN_CHAIN && f.matchType?.toLowerCase() === 'member') {
          return chainOf(wanted).has(dnKey(e.dn))
        }
        if (f.matchingRule === BIT_AND) {
          const name = Object.keys(attrs).find(k => k.toLowerCase() === f.matchType?.toLowerCase())
          return (attrs[name ?? '']?.map(Number) ?? []).some(v => (v & Number(wanted)) === Number(wanted))
        }
        return false
      }
      case 'EqualityFilter': {
        // Case folded on both sides, as the caseIgnoreMatch of uid, cn and DNs does; ldapjs matches
        const value = String(f.value).toLowerCase()
        if (value === '') return false
        const folded = Object.fromEntries(Object.entries(attrs).map(([k, v]) => [k, v.map(x => x.toLowerCase())]))
        return new ldap.EqualityFilter({ attribute: String(f.attribute), value }).matches(folded)
      }
      default:
        return f.matches(attrs, false)
    }
  }

  const anonymous = (req: SearchReq) => req.connection.ldap.bindDN.toString() === 'cn=anonymous'

  server.bind('', (req: BindReq, res: Res, next: Next) => {
    state.binds++
    if (state.hang) return
    const entry = data.get(dnKey(req.dn.toString()))
    if (!entry?.password || entry.password !== req.credentials) return next(new ldap.InvalidCredentialsError())
    res.end()
    return next()
  })

  server.search('', (req: SearchReq, res: Res, next: Next) => {
    if (state.hang) return
    // Like the fixture's ACLs: anonymous users read nothing
    if (anonymous(req)) {
      res.end()
      return next()
    }
    const base = ldap.parseDN(req.dn.toString())
    const scope: string = req.scopeName
    const matched = [...data.values()].filter(e => {
      const dn = ldap.parseDN(e.dn)
      const inScope =
        scope === 'base'
          ? dnKey(e.dn) === dnKey(base.toString())
          : scope === 'single'
            ? dn.parent()?.toString().toLowerCase() === base.toString().toLowerCase()
            : dnKey(e.dn) === dnKey(base.toString()) || base.parentOf(dn)
      return inScope && evaluate(req.filter, e, withMemberOf(e))
    })
    const paging = req.controls.find(c => c.type === PagedResultsControl.OID)
    let list = matched
    if (paging) {
      const offset = paging.value.cookie?.length ? Number(paging.value.cookie.toString()) : 0
      const size = paging.value.size || matched.length
      list = matched.slice(offset, offset + size)
      const next = offset + size < matched.length ? String(offset + size) : ''
      res.addControl(new PagedResultsControl({ value: { size: matched.length, cookie: Buffer.from(next) } }))
    }
    const limit: number = req.sizeLimit
    // Only what was asked for ('1.1': nothing), attribute names matched without regard to case
    const wanted = (req.attributes as string[]).map(a => a.toLowerCase())
    // ldapjs would filter again by the names as sent, case-sensitively: it gets nothing to filter by
    res.attributes = []
    const pick = (attrs: Record<string, string[]>) =>
      Object.fromEntries(
        Object.entries(attrs).filter(
          ([k]) => wanted.length === 0 || wanted.includes('*') || wanted.includes(k.toLowerCase())
        )
      )
    for (const e of limit ? list.slice(0, limit) : list) res.send({ dn: e.dn, attributes: pick(withMemberOf(e)) }, true)
    if (limit && list.length > limit) res.status = 4 // sizeLimitExceeded, as slapd answers
    res.end()
    return next()
  })

  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', () => resolve()))
  const port = (server as unknown as { server: { address(): AddressInfo } }).server.address().port
  const find = (dn: string) => {
    const e = data.get(dnKey(dn))
    if (!e) throw new Error(`fake directory: no entry ${dn}`)
    return e
  }

  return {
    kind: 'fake',
    url: `${tls ? 'ldaps' : 'ldap'}://127.0.0.1:${port}`,
    get hang() {
      return state.hang
    },
    set hang(v: boolean) {
      state.hang = v
    },
    binds: () => state.binds,
    async addMember(groupDn, memberDn) {
      const g = find(groupDn)
      g.attributes.member = [...(g.attributes.member ?? []), dnText(memberDn)]
    },
    async removeMember(groupDn, memberDn) {
      const g = find(groupDn)
      g.attributes.member = (g.attributes.member ?? []).filter(m => dnKey(m) !== dnKey(memberDn))
    },
    async replace(dn, attribute, values) {
      find(dn).attributes[attribute] = values
    },
    /** A new AD-style group (slapd's fixture has no nested groups to test with). */
    async addGroup(dn, members) {
      const e: FakeEntry = {
        dn: dnText(dn),
        attributes: { objectClass: ['top', 'group'], cn: [dn.split(',')[0]!.slice(3)], member: members.map(dnText) }
      }
      data.set(dnKey(dn), e)
    },
    async remove(dn) {
      find(dn)
      data.delete(dnKey(dn))
      // referential integrity, as the fixture's refint overlay keeps it
      for (const g of data.values()) {
        if (g.attributes.member) g.attributes.member = g.attributes.member.filter(m => dnKey(m) !== dnKey(dn))
      }
    },
    async stop() {
      await new Promise<void>(resolve => server.close(() => resolve()))
    }
  }
}
