import type { Config } from '../config.js'

/**
 * LDAP text rules as plain functions: filter escaping (RFC 4515), DN parsing and comparison
 * (RFC 4514), and the filters the directory plugin sends. Kept free of I/O so they are unit-tested.
 */

const FILTER_ESCAPES: Record<string, string> = {
  '\\': '\\5c',
  '*': '\\2a',
  '(': '\\28',
  ')': '\\29',
  '\u0000': '\\00'
}

/**
 * RFC 4515 escaping of one assertion value. Non-ASCII stays UTF-8, as the RFC allows: ldapts decodes
 * each `\XX` escape as one Latin-1 character, so hex-escaping UTF-8 bytes would garble them.
 */
export function escapeFilterValue(value: string): string {
  let out = ''
  for (const ch of value) out += FILTER_ESCAPES[ch] ?? ch
  return out
}

/** Fills `{name}` placeholders with escaped values; a function replacer, so `$&` in a value stays text. */
export function fillFilter(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in values ? escapeFilterValue(values[name] as string) : whole
  )
}

export interface AttributeValue {
  /** Lower-cased attribute type (name or OID). */
  type: string
  /** The value unescaped: what the directory stores. */
  value: string
}
/** One RDN: usually one type=value, several when joined with `+`. */
export type Rdn = AttributeValue[]

const TYPE = /^(?:[A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)*)$/

/**
 * Parses an RFC 4514 DN (also accepting RFC 2253 quoted values and `;` separators). Escapes are
 * resolved, so `cn=O'Brien\, Pat` and `cn=O'Brien\2C Pat` parse to the same value. Throws on bad syntax.
 */
export function parseDn(dn: string): Rdn[] {
  const s = dn
  let i = 0
  const skipSpaces = () => {
    while (s[i] === ' ') i++
  }
  skipSpaces()
  if (i >= s.length) return []
  const rdns: Rdn[] = []
  let rdn: Rdn = []
  for (;;) {
    skipSpaces()
    const eq = s.indexOf('=', i)
    if (eq < 0) throw new Error('DN: attribute type without "="')
    const type = s.slice(i, eq).trim()
    if (!TYPE.test(type)) throw new Error('DN: bad attribute type')
    i = eq + 1
    skipSpaces()
    let value: string
    if (s[i] === '#') {
      // A BER-encoded value: compared as its hex text
      let j = i + 1
      while (j < s.length && /[0-9A-Fa-f]/.test(s[j] as string)) j++
      value = s.slice(i, j).toLowerCase()
      i = j
      skipSpaces()
    } else if (s[i] === '"') {
      let out = ''
      i++
      while (i < s.length && s[i] !== '"') {
        if (s[i] === '\\' && i + 1 < s.length) i++
        out += s[i]
        i++
      }
      if (s[i] !== '"') throw new Error('DN: unterminated quoted value')
      i++
      skipSpaces()
      value = out
    } else {
      const bytes: number[] = []
      // Unescaped trailing spaces are not part of the value; escaped ones are
      let significant = 0
      while (i < s.length && !',;+'.includes(s[i] as string)) {
        if (s[i] === '\\') {
          const hex = s.slice(i + 1, i + 3)
          if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
            bytes.push(Number.parseInt(hex, 16))
            i += 3
          } else {
            const cp = s.codePointAt(i + 1)
            if (cp === undefined) throw new Error('DN: dangling escape')
            const ch = String.fromCodePoint(cp)
            bytes.push(...Buffer.from(ch, 'utf8'))
            i += 1 + ch.length
          }
          significant = bytes.length
        } else {
          const ch = String.fromCodePoint(s.codePointAt(i) as number)
          bytes.push(...Buffer.from(ch, 'utf8'))
          i += ch.length
          if (ch !== ' ') significant = bytes.length
        }
      }
      value = Buffer.from(bytes.slice(0, significant)).toString('utf8')
    }
    rdn.push({ type: type.toLowerCase(), value })
    if (i >= s.length) {
      rdns.push(rdn)
      return rdns
    }
    const sep = s[i]
    i++
    if (sep === '+') continue
    if (sep !== ',' && sep !== ';') throw new Error('DN: expected a separator')
    rdns.push(rdn)
    rdn = []
  }
}

/** RFC 4514 escaping of one attribute value for a DN string. */
export function escapeDnValue(value: string): string {
  let out = value.replace(/["+,;<>\\]/g, c => `\\${c}`).replaceAll('\u0000', '\\00')
  if (out.startsWith('#') || out.startsWith(' ')) out = `\\${out}`
  if (out.endsWith(' ') && out.length > 1) out = `${out.slice(0, -1)}\\ `
  return out
}

const formatRdns = (rdns: Rdn[], fold: (v: string) => string) =>
  rdns
    .map(rdn =>
      [...rdn]
        .sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0))
        .map(ava => `${ava.type}=${escapeDnValue(fold(ava.value))}`)
        .join('+')
    )
    .join(',')

/**
 * One spelling of a DN with the directory's case kept: lower-case types, minimal RFC 4514 escaping
 * (`\,` rather than `\2C`), no spaces around separators. A DN that does not parse is returned as given.
 */
export function canonicalDn(dn: string): string {
  try {
    return formatRdns(parseDn(dn), v => v)
  } catch {
    return dn
  }
}

/**
 * The comparison key of a DN: canonical, values case-folded with inner whitespace collapsed (the
 * caseIgnoreMatch most naming attributes use). Two DNs name one entry when their keys are equal.
 */
export function dnKey(dn: string): string {
  try {
    return formatRdns(parseDn(dn), v => v.normalize('NFC').replace(/ +/g, ' ').toLowerCase())
  } catch {
    return dn.trim().toLowerCase()
  }
}

export const sameDn = (a: string, b: string): boolean => dnKey(a) === dnKey(b)

/** The value of a DN's first RDN (a group's `cn`), or null. */
export function firstRdnValue(dn: string): string | null {
  try {
    return parseDn(dn)[0]?.[0]?.value ?? null
  } catch {
    return null
  }
}

/** What a person typed, as the filter will look for it. */
export interface LoginName {
  /** The value put in for {username}. */
  value: string
  /** The user filter to fill (the configured one, or its userPrincipalName variant). */
  template: string
}

// A NetBIOS domain: letters, digits and a few marks, no spaces; so `Star (*) Admin \ x` is not one
const DOWN_LEVEL = /^([A-Za-z0-9][A-Za-z0-9._-]{0,14})\\([^\\]+)$/
const UPN = /^[^@\s]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/

/**
 * The NetBIOS domains a `DOMAIN\user` logon may name: LDAP_NETBIOS_DOMAINS, or else the first `dc=`
 * of LDAP_BASE_DN (`dc=corp,dc=example,dc=com` is CORP), upper-cased.
 */
export function netbiosDomains(config: Config): ReadonlySet<string> {
  const listed = config.LDAP_NETBIOS_DOMAINS?.split(',')
    .map(d => d.trim().toUpperCase())
    .filter(Boolean)
  if (listed?.length) return new Set(listed)
  const first = /(?:^|,)\s*dc\s*=\s*([^,]+)/i.exec(config.LDAP_BASE_DN ?? '')
  return new Set(first ? [first[1]!.trim().toUpperCase()] : [])
}

/**
 * Active Directory logon forms: `CORP\jdoe` is looked up as `jdoe` (only for our own NetBIOS
 * domains: `OTHER\jdoe` is no one here), and `jdoe@corp.example.com` by
 * userPrincipalName (never by its local part alone, or `jdoe@anything` would sign in as jdoe).
 * Other directories get the name as typed. Null: nothing usable was typed.
 */
export function loginName(input: string, config: Config): LoginName | null {
  const typed = input.normalize('NFC')
  if (typed.trim() === '') return null
  const template = config.LDAP_USER_FILTER
  if (!config.LDAP_ACTIVE_DIRECTORY) return { value: typed, template }
  const downLevel = DOWN_LEVEL.exec(typed)
  if (downLevel) {
    if (!netbiosDomains(config).has((downLevel[1] as string).toUpperCase())) return null
    return { value: downLevel[2] as string, template }
  }
  if (UPN.test(typed)) {
    // Swap the logon-name assertion for a UPN one; a filter that already names UPN is left as it is
    const attr = config.LDAP_USERNAME_ATTRIBUTE.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    const assertion = new RegExp(`\\(${attr}=\\{username\\}\\)`, 'i')
    if (!/userPrincipalName/i.test(template) && assertion.test(template)) {
      return { value: typed, template: template.replace(assertion, () => '(userPrincipalName={username})') }
    }
  }
  return { value: typed, template }
}

/** The user search filter for one login. */
export const userFilter = (login: LoginName): string => fillFilter(login.template, { username: login.value })

/** AD's LDAP_MATCHING_RULE_IN_CHAIN: the server walks nested groups itself. */
export const IN_CHAIN_RULE = '1.2.840.113556.1.4.1941'

/**
 * How a user's groups are found: LDAP_GROUP_SEARCH_FILTER with {dn} (and {username}) filled in; or, for
 * nested groups, every group whose member chain reaches the user; or null: read memberOf.
 */
export function groupFilter(config: Config, userDn: string, username: string): string | null {
  if (config.LDAP_GROUP_SEARCH_FILTER) {
    return fillFilter(config.LDAP_GROUP_SEARCH_FILTER, { dn: userDn, username })
  }
  if (config.LDAP_NESTED_GROUPS) {
    return `(&(objectClass=group)(member:${IN_CHAIN_RULE}:=${escapeFilterValue(userDn)}))`
  }
  return null
}

/** Which entries directory sync pages through: LDAP_SYNC_FILTER, or the user filter matching anyone. */
export function syncFilter(config: Config): string {
  return config.LDAP_SYNC_FILTER ?? config.LDAP_USER_FILTER.replace(/\{username\}/g, '*')
}
