import type { IncomingMessage } from 'node:http'
import { BlockList, isIP } from 'node:net'
import type { Config } from '../config.js'

/** Why a request's identity headers were not believed. */
export type SsoRejection =
  | 'untrusted peer'
  | 'header repeated'
  | 'alias spelling present'
  | 'empty value'
  | 'list value'
  | 'no session header'
  | 'unknown user'
  | 'user disabled'
  | 'local account'

export interface SsoClaim {
  username: string
  displayName: string | null
  email: string | null
  /** Null when the proxy sent no groups header: roles are then left as they are. */
  groups: string[] | null
  session: string | null
}

const plain = (address: string) =>
  address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address

/** The proxies whose identity headers we believe: IPs and CIDRs, IPv4 and IPv6. */
export function trustedProxies(list: string): BlockList {
  const block = new BlockList()
  for (const raw of list
    .split(',')
    .map(s => s.trim())
    .filter(Boolean)) {
    const [address, bits] = raw.split('/') as [string, string | undefined]
    const family = isIP(address)
    if (!family) throw new Error(`SSO_TRUSTED_PROXIES: "${raw}" is not an IP address or CIDR`)
    const type = family === 4 ? 'ipv4' : 'ipv6'
    if (bits === undefined) block.addAddress(address, type)
    else block.addSubnet(address, Number(bits), type)
  }
  return block
}

export function isTrusted(block: BlockList, peer: string | undefined): boolean {
  if (!peer) return false
  const address = plain(peer)
  const family = isIP(address)
  return family !== 0 && block.check(address, family === 4 ? 'ipv4' : 'ipv6')
}

/** Every raw occurrence of a header, by exact name (case-insensitive), from the socket's own list. */
function occurrences(raw: IncomingMessage, name: string): string[] {
  const out: string[] = []
  const want = name.toLowerCase()
  for (let i = 0; i + 1 < raw.rawHeaders.length; i += 2) {
    if (raw.rawHeaders[i]!.toLowerCase() === want) out.push(raw.rawHeaders[i + 1]!)
  }
  return out
}

const alias = (name: string) => (name.includes('_') ? name.replace(/_/g, '-') : name.replace(/-/g, '_'))

/** CORP\jdoe and jdoe@corp.example.com are jdoe; NFC, trimmed. */
export function normaliseLogin(value: string, stripDomain: boolean): string {
  let v = value.trim().normalize('NFC')
  if (stripDomain) {
    const backslash = v.lastIndexOf('\\')
    if (backslash >= 0) v = v.slice(backslash + 1)
    const at = v.indexOf('@')
    if (at > 0) v = v.slice(0, at)
  }
  return v
}

/**
 * Reads the identity a trusted proxy asserts. Returns null when the request carries no identity
 * header at all, a rejection when it carries one we must not believe, or the claim.
 */
export function readSsoClaim(raw: IncomingMessage, config: Config): SsoClaim | { rejected: SsoRejection } | null {
  const userHeader = config.SSO_USER_HEADER
  if (!userHeader) return null
  const values = occurrences(raw, userHeader)
  const aliased = alias(userHeader) !== userHeader ? occurrences(raw, alias(userHeader)) : []
  if (values.length === 0 && aliased.length === 0) return null
  if (aliased.length > 0) return { rejected: 'alias spelling present' }
  if (values.length > 1) return { rejected: 'header repeated' }
  const value = values[0]!.trim()
  if (!value) return { rejected: 'empty value' }
  if (value.includes(',')) return { rejected: 'list value' }
  let session: string | null = null
  if (config.SSO_SESSION_HEADER) {
    const s = occurrences(raw, config.SSO_SESSION_HEADER)
    if (s.length !== 1 || !s[0]!.trim()) return { rejected: 'no session header' }
    session = s[0]!.trim()
  }
  const single = (name: string | undefined) => {
    if (!name) return null
    const v = occurrences(raw, name)
    return v.length === 1 && v[0]!.trim() ? v[0]!.trim() : null
  }
  const groupsRaw = single(config.SSO_GROUPS_HEADER)
  const sep = config.SSO_GROUPS_SEPARATOR
  // Shibboleth escapes a literal separator as "\;"
  const groups = groupsRaw
    ? groupsRaw
        .split(new RegExp(`(?<!\\\\)${sep.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`))
        .map(g => g.replace(new RegExp(`\\\\${sep.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'g'), sep).trim())
        .filter(Boolean)
    : null
  return {
    username: normaliseLogin(value, config.SSO_STRIP_DOMAIN),
    displayName: single(config.SSO_NAME_HEADER),
    email: single(config.SSO_MAIL_HEADER),
    groups,
    session
  }
}

export const isRejection = (v: SsoClaim | { rejected: SsoRejection }): v is { rejected: SsoRejection } =>
  'rejected' in v
