/**
 * One spelling of every key that identifies a configuration item, so the CMDB (what it stores and what
 * it is searched by), the events engine (which CI an alert concerns) and tickets (CI references) find
 * the same CI for `DB1.Example.COM.`, `db1.example.com` and `db1`. Pure: no database, no module.
 */

/** The identification keys a CI is known by, each in its one stored spelling. */
export interface CiKeys {
  id?: string
  hostname?: string
  fqdn?: string
  serial?: string
  macAddress?: string
  systemUuid?: string
}

/**
 * Host names and FQDNs compare case-insensitively in DNS: lower-case, trimmed, without the root dot
 * (`db1.example.com.` is `db1.example.com`). Blank is null.
 */
export function normaliseHost(raw: string | null | undefined): string | null {
  if (typeof raw !== 'string') return null
  const host = raw.trim().toLowerCase().replace(/\.+$/, '')
  return host || null
}

/** An IP literal names an address, not a host: it never splits into a short name. */
const isIpLiteral = (host: string) => /^[0-9.]+$/.test(host) || host.includes(':')

/** The first label of an FQDN (`db1` of `db1.example.com`); an IP literal stays whole. */
export function shortHost(host: string): string {
  return isIpLiteral(host) ? host : host.split('.')[0]!
}

/**
 * A host as a sender writes it (`srv-app01.corp.example.com:9100`, `[::1]:80`, `DB1.`) split into
 * identification keys: an FQDN and its short host name, or a host name alone. The port never names a CI.
 */
export function hostKeys(raw: string | null | undefined): Pick<CiKeys, 'hostname' | 'fqdn'> | null {
  let host = typeof raw === 'string' ? raw.trim() : ''
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(host)
  if (bracketed) host = bracketed[1]!
  else if (/^[^:]+:\d+$/.test(host)) host = host.replace(/:\d+$/, '')
  const h = normaliseHost(host)
  if (!h) return null
  if (isIpLiteral(h) || !h.includes('.')) return { hostname: h }
  return { fqdn: h, hostname: shortHost(h) }
}

/**
 * What firmware writes when nobody filled the serial in: these name no machine (thousands of boards
 * share them), so they identify nothing. Compared upper-case with inner spacing collapsed.
 */
const PLACEHOLDER_SERIALS = new Set([
  '0',
  '00000000',
  '0000000000',
  '123456789',
  'NONE',
  'NULL',
  'N/A',
  'NA',
  'UNKNOWN',
  'NOT SPECIFIED',
  'NOT APPLICABLE',
  'NOT AVAILABLE',
  'DEFAULT STRING',
  'TO BE FILLED BY O.E.M.',
  'TO BE FILLED BY OEM',
  'SYSTEM SERIAL NUMBER',
  'CHASSIS SERIAL NUMBER',
  'SERIAL NUMBER',
  'INVALID',
  'O.E.M.',
  'OEM',
  'OEM_SERIAL',
  'XXXXXXXXXX',
  'EMPTY',
  '0123456789',
  '1234567890',
  'SYSTEM SERIAL',
  'BASE BOARD SERIAL NUMBER',
  'CHASSIS SERIAL',
  'DEFAULT',
  'NOT DEFINED',
  'TBD'
])

/** A serial number trimmed and upper-case; a placeholder (`To be filled by O.E.M.`, `0`, `None`) is null. */
export function normaliseSerial(raw: string | null | undefined): string | null {
  if (typeof raw !== 'string') return null
  const s = raw.trim().replace(/\s+/g, ' ').toUpperCase()
  if (!s || PLACEHOLDER_SERIALS.has(s) || /^[-.\s_]+$/.test(s)) return null
  // GLPI's deny-list regexes: all ones, or only zeros and ones (10101010), also covers all zeros
  if (/^[01]+$/.test(s)) return null
  return s
}

/**
 * A MAC address in one form, lower-case colon pairs (`aa:bb:cc:dd:ee:ff`), from `AA-BB-CC-DD-EE-FF`,
 * `aabb.ccdd.eeff` (Cisco) or bare hex. Anything that is not 48 bits, and the all-zero and broadcast
 * addresses, is null.
 */
export function normaliseMac(raw: string | null | undefined): string | null {
  if (typeof raw !== 'string') return null
  const t = raw.trim().toLowerCase()
  const forms = [
    /^([0-9a-f]{2})([:-])([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})$/,
    /^[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}$/,
    /^[0-9a-f]{12}$/
  ]
  if (!forms.some(f => f.test(t))) return null
  const hex = t.replace(/[^0-9a-f]/g, '')
  if (/^0+$/.test(hex) || /^f+$/.test(hex)) return null
  const mac = hex.match(/../g)!.join(':')
  if (SHARED_MACS.has(mac) || SHARED_MAC_PREFIXES.some(p => mac.startsWith(p))) return null
  return mac
}

/**
 * MACs many machines share, so they identify none (GLPI's deny-list and friends): the broadcast-like
 * FE:FF:FF:FF:FF:FF, the Windows "RAS"/"PPP" adapters, VirtualBox's and VMware's host-only adapters.
 */
const SHARED_MACS = new Set(['fe:ff:ff:ff:ff:ff', '02:00:4e:43:50:49', '20:41:53:59:4e:ff', '0a:00:27:00:00:00'])
const SHARED_MAC_PREFIXES = ['00:50:56:c0:']

/** SMBIOS UUIDs boards ship unset with: they identify nothing. */
const PLACEHOLDER_UUIDS = new Set(['03000200-0400-0500-0006-000700080009', '01010101-0101-0101-0101-010101010101'])

/**
 * A system (SMBIOS) UUID lower-case with dashes, braces and `urn:uuid:` dropped; the nil UUID and the
 * all-F one (what unset firmware reports) are null.
 */
export function normaliseUuid(raw: string | null | undefined): string | null {
  if (typeof raw !== 'string') return null
  const t = raw
    .trim()
    .toLowerCase()
    .replace(/^urn:uuid:/, '')
    .replace(/^\{(.*)\}$/, '$1')
  const hex = t.replace(/-/g, '')
  if (!/^[0-9a-f]{32}$/.test(hex) || !/^[0-9a-f]{8}(-?[0-9a-f]{4}){3}-?[0-9a-f]{12}$/.test(t)) return null
  if (/^0+$/.test(hex) || /^f+$/.test(hex)) return null
  const uuid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
  return PLACEHOLDER_UUIDS.has(uuid) ? null : uuid
}

/**
 * A CI reference as given (an event's `ci`, a list filter) in stored spellings: blanks and placeholders
 * dropped; a host name written as an FQDN also gives the FQDN. Null when nothing identifying is left.
 */
export function ciKeys(ref: {
  id?: string | null
  hostname?: string | null
  fqdn?: string | null
  serial?: string | null
  macAddress?: string | null
  systemUuid?: string | null
}): CiKeys | null {
  const out: CiKeys = {}
  const id = normaliseUuid(ref.id)
  if (id) out.id = id
  const serial = normaliseSerial(ref.serial)
  if (serial) out.serial = serial
  const mac = normaliseMac(ref.macAddress)
  if (mac) out.macAddress = mac
  const uuid = normaliseUuid(ref.systemUuid)
  if (uuid) out.systemUuid = uuid
  const fqdn = normaliseHost(ref.fqdn)
  if (fqdn) out.fqdn = fqdn
  const host = normaliseHost(ref.hostname)
  if (host) out.hostname = host
  return Object.keys(out).length ? out : null
}

/**
 * The order identification tries keys in, strongest first: the CI's own id, then what hardware burns
 * in (serial, system UUID, MAC), then DNS names. A host name also matches a CI whose FQDN
 * is spelled the same (a sender that only knows `db1.example.com` as its host).
 */
export const IDENTIFICATION_ORDER = ['id', 'serial', 'systemUuid', 'macAddress', 'fqdn', 'hostname'] as const

interface IdentifiedRow {
  id: string
  hostname: string | null
  fqdn: string | null
  serial: string | null
  macAddress: string | null
  systemUuid: string | null
}

/**
 * The row (of candidates fetched by any of the keys) these keys identify, and the key that did it.
 * Candidates are expected in a stable order (by id), so the same keys always pick the same CI.
 */
export function identify<R extends IdentifiedRow>(keys: CiKeys, rows: readonly R[]): { row: R; by: string } | null {
  for (const key of IDENTIFICATION_ORDER) {
    const want = keys[key]
    if (!want) continue
    const hit =
      key === 'hostname'
        ? (rows.find(r => r.hostname === want) ?? rows.find(r => r.fqdn === want))
        : rows.find(r => r[key] === want)
    if (hit) return { row: hit, by: key }
  }
  return null
}

/** Models and manufacturers firmware reports when nobody filled them in: not worth storing. */
const PLACEHOLDER_MODELS = new Set([
  'SYSTEM PRODUCT NAME',
  'TO BE FILLED BY O.E.M.',
  'ALL SERIES',
  'SYSTEM MANUFACTURER',
  'SYSTEM VERSION',
  'DEFAULT STRING',
  'NOT SPECIFIED',
  'NONE'
])
export function normaliseModel(raw: string | null | undefined): string | null {
  if (typeof raw !== 'string') return null
  const s = raw.trim().replace(/\s+/g, ' ')
  return !s || PLACEHOLDER_MODELS.has(s.toUpperCase()) ? null : s
}

/** Addresses every machine has (unspecified, loopback, link-local v6): they say nothing of this one. */
export function usefulIp(raw: string | null | undefined): string | null {
  if (typeof raw !== 'string') return null
  const ip = raw.trim().toLowerCase()
  if (!ip || ip === '0.0.0.0' || ip === '::' || ip === '::1' || ip.startsWith('127.') || ip.startsWith('fe80:'))
    return null
  return ip
}

/** What discovery knows a machine by, each in its stored spelling (placeholders already dropped). */
export interface DiscoveredKeys {
  serial: string | null
  systemUuid: string | null
  macAddresses: string[]
  fqdn: string | null
  name: string
  className: string
}

export interface DiscoveryCandidate {
  id: string
  name: string
  ciClass: string
  serial: string | null
  systemUuid: string | null
  macAddresses: string[]
  fqdn: string | null
}

/**
 * GLPI's link rules, in order: serial + UUID, serial, UUID, MAC, FQDN, name + class (`sameClass` says
 * whether a candidate's class is the item's or below it). The first rule that finds anything decides;
 * when it finds two CIs the item is ambiguous and answers the reason instead of guessing.
 */
export function identifyDiscovered<R extends DiscoveryCandidate>(
  keys: DiscoveredKeys,
  rows: readonly R[],
  sameClass: (candidateClass: string) => boolean
): { row: R; by: string } | { conflict: string } | null {
  const rules: [string, (r: R) => boolean][] = [
    [
      'serial+systemUuid',
      r => !!keys.serial && !!keys.systemUuid && r.serial === keys.serial && r.systemUuid === keys.systemUuid
    ],
    ['serial', r => !!keys.serial && r.serial === keys.serial],
    ['systemUuid', r => !!keys.systemUuid && r.systemUuid === keys.systemUuid],
    ['macAddress', r => keys.macAddresses.some(m => r.macAddresses.includes(m))],
    ['fqdn', r => !!keys.fqdn && r.fqdn === keys.fqdn],
    ['name+class', r => r.name.toLowerCase() === keys.name.toLowerCase() && sameClass(r.ciClass)]
  ]
  for (const [by, match] of rules) {
    const hits = rows.filter(match)
    if (hits.length === 1) return { row: hits[0]!, by }
    if (hits.length > 1)
      return { conflict: `${by} matches ${hits.length} configuration items: ${hits.map(h => h.id).join(', ')}` }
  }
  return null
}
