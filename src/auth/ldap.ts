import { readFileSync } from 'node:fs'
import { isIP } from 'node:net'
import type { ConnectionOptions } from 'node:tls'
import type { FastifyBaseLogger } from 'fastify'
import { Client, type Entry, FilterParser, InvalidCredentialsError, ResultCodeError } from 'ldapts'
import { type Config, ConfigError } from '../config.js'
import { AppError } from '../lib/errors.js'
import type { DirectoryIdentity, PasswordDirectory } from './directory.js'
import { canonicalDn, fillFilter, groupFilter, loginName, syncFilter, userFilter } from './ldap-syntax.js'

/** One person as directory sync sees them: who they are, and whether the directory has switched them off. */
export interface DirectoryEntry {
  identity: DirectoryIdentity
  disabled: boolean
}

export interface LdapDirectory extends PasswordDirectory {
  /** The identity of a login name without a password (header SSO); null when unknown, ambiguous or disabled. */
  lookup(username: string): Promise<DirectoryIdentity | null>
  /** Every user the sync filter matches, a page at a time (paged results, so AD's 1,000 cap is no limit). */
  pageUsers(pageSize?: number): AsyncGenerator<DirectoryEntry[]>
}

/** AD userAccountControl ACCOUNTDISABLE. */
const ACCOUNT_DISABLE = 2
/** AD accountExpires: 100 ns ticks since 1601; 0 and the largest int64 mean never. */
const NEVER_EXPIRES = new Set(['0', '9223372036854775807'])
const EPOCH_1601_MS = 11_644_473_600_000n

export const directoryUnavailable = (detail = 'the directory is unreachable') =>
  new AppError('DIRECTORY_UNAVAILABLE', 503, 'Service Unavailable', detail)

/**
 * Password checks against LDAP or Active Directory with ldapts. A service account (or an anonymous
 * bind) finds the one entry the escaped user filter matches, then the password is bound against that
 * entry's DN, never a DN built from what was typed. Every call has its own connections, closed at the
 * end, and a deadline: a directory that is down answers 503, never a hang or a 500.
 */
export function createLdapDirectory(config: Config, log: FastifyBaseLogger): LdapDirectory {
  const url = config.LDAP_URL
  const base = config.LDAP_BASE_DN
  if (!url || !base) throw new ConfigError('invalid configuration: LDAP_URL and LDAP_BASE_DN are required')
  // A template that does not parse would fail every login: refuse it at start instead
  for (const [name, template] of [
    ['LDAP_USER_FILTER', config.LDAP_USER_FILTER],
    ['LDAP_GROUP_SEARCH_FILTER', config.LDAP_GROUP_SEARCH_FILTER],
    ['LDAP_SYNC_FILTER', syncFilter(config)]
  ] as const) {
    if (!template) continue
    try {
      FilterParser.parseString(fillFilter(template, { username: 'x', dn: 'cn=x' }))
    } catch {
      throw new ConfigError(`invalid configuration: ${name} is not a valid LDAP filter`)
    }
  }
  const timeout = config.LDAP_TIMEOUT_MS
  const tlsOptions = tlsFor(url, config)
  const secure = url.toLowerCase().startsWith('ldaps:')
  const groupBase = config.LDAP_GROUP_BASE_DN ?? base
  const attributes = [
    ...new Set([
      config.LDAP_USERNAME_ATTRIBUTE,
      config.LDAP_NAME_ATTRIBUTE,
      'cn',
      config.LDAP_MAIL_ATTRIBUTE,
      config.LDAP_PHONE_ATTRIBUTE,
      config.LDAP_DEPARTMENT_ATTRIBUTE,
      'memberOf',
      ...(config.LDAP_ACTIVE_DIRECTORY ? ['userAccountControl', 'accountExpires'] : [])
    ])
  ]

  /** Clients opened for one piece of work, all closed when it ends or its deadline passes. */
  function clients() {
    const open: Client[] = []
    return {
      async connect(): Promise<Client> {
        // ldapts speaks TLS from the first byte whenever tlsOptions is given: only for ldaps://
        const client = new Client({
          url: url as string,
          timeout,
          connectTimeout: timeout,
          ...(secure ? { tlsOptions: { ...tlsOptions } } : {})
        })
        open.push(client)
        // startTLS keeps the socket in the options it is handed: a fresh copy each time
        if (config.LDAP_STARTTLS && !secure) await client.startTLS({ ...tlsOptions })
        return client
      },
      async service(): Promise<Client> {
        const client = await this.connect()
        if (config.LDAP_BIND_DN) {
          try {
            await client.bind(config.LDAP_BIND_DN, config.LDAP_BIND_PASSWORD)
          } catch (err) {
            // A refused service account is our misconfiguration, not the user's: say so in the log
            if (err instanceof InvalidCredentialsError) log.error('LDAP service account bind refused')
            throw err
          }
        }
        return client
      },
      async close(): Promise<void> {
        await Promise.allSettled(open.splice(0).map(c => c.unbind()))
      }
    }
  }

  /** Network trouble and timeouts: unreachable. Any other LDAP result: the directory refused to work. */
  function unavailable(err: unknown, what: string): Error {
    if (err instanceof AppError) return err
    // Our own bugs stay 500s, loudly; everything else from the wire is the directory's trouble
    if (err instanceof TypeError || err instanceof RangeError || err instanceof ReferenceError) return err
    if (err instanceof ResultCodeError) {
      log.error({ ldapCode: err.code, ldapMessage: err.message, what }, 'LDAP request failed')
      return directoryUnavailable('the directory could not answer')
    }
    log.warn({ err: err instanceof Error ? err.message : String(err), what }, 'LDAP directory unreachable')
    return directoryUnavailable()
  }

  /**
   * Each operation has its own timeout; this bounds a whole exchange too, because ldapts leaves a
   * StartTLS handshake unbounded. The caller closes its sockets afterwards, which fails what is pending.
   */
  async function withDeadline<T>(ms: number, work: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        log.warn({ ms }, 'LDAP directory did not answer in time')
        reject(directoryUnavailable())
      }, ms)
    })
    work.catch(() => {})
    try {
      return await Promise.race([work, deadline])
    } finally {
      clearTimeout(timer)
    }
  }

  async function bindAs(c: ReturnType<typeof clients>, dn: string, password: string): Promise<boolean> {
    const client = await c.connect()
    try {
      await client.bind(dn, password)
      return true
    } catch (err) {
      // Wrong password, expired or locked (AD says 49 for each): a refusal, not an outage
      if (err instanceof InvalidCredentialsError) return false
      throw err
    }
  }

  async function groupsOf(client: Client, entry: Entry, username: string): Promise<string[]> {
    const filter = groupFilter(config, entry.dn, username)
    if (!filter) return values(entry, 'memberOf').map(canonicalDn)
    const found = await client.search(groupBase, {
      scope: 'sub',
      filter,
      attributes: ['1.1'],
      paged: { pageSize: 500 }
    })
    return found.searchEntries.map(e => canonicalDn(e.dn))
  }

  function toIdentity(entry: Entry, groups: string[]): DirectoryIdentity | null {
    const username = first(entry, config.LDAP_USERNAME_ATTRIBUTE)?.normalize('NFC')
    if (!username) return null
    return {
      source: 'ldap',
      externalId: canonicalDn(entry.dn),
      username,
      displayName: first(entry, config.LDAP_NAME_ATTRIBUTE) ?? first(entry, 'cn') ?? username,
      email: first(entry, config.LDAP_MAIL_ATTRIBUTE) ?? null,
      phone: first(entry, config.LDAP_PHONE_ATTRIBUTE) ?? null,
      department: first(entry, config.LDAP_DEPARTMENT_ATTRIBUTE) ?? null,
      groups: [...new Set(groups)]
    }
  }

  const disabledInAd = (entry: Entry) => config.LDAP_ACTIVE_DIRECTORY && adAccountOff(entry)

  return {
    name: 'ldap',

    /** The identity for a right password; null for a wrong one, an unknown or ambiguous name, or a disabled AD account. */
    async verify(username: string, password: string): Promise<DirectoryIdentity | null> {
      // An empty password is an unauthenticated bind, which many servers answer with success
      if (password === '') return null
      const login = loginName(username, config)
      if (!login) return null
      const c = clients()
      // Up to five round trips, each bounded by the timeout; a healthy directory needs milliseconds
      const work = async () => {
        const service = await c.service()
        const found = await service.search(base, {
          scope: 'sub',
          filter: userFilter(login),
          attributes,
          sizeLimit: 2
        })
        if (found.searchEntries.length !== 1) {
          if (found.searchEntries.length > 1) log.warn('LDAP user filter matched more than one entry; login refused')
          return null
        }
        const entry = found.searchEntries[0] as Entry
        if (disabledInAd(entry)) return null
        if (!(await bindAs(c, entry.dn, password))) return null
        const name = first(entry, config.LDAP_USERNAME_ATTRIBUTE) ?? ''
        const identity = toIdentity(entry, await groupsOf(service, entry, name))
        if (!identity) log.warn({ attribute: config.LDAP_USERNAME_ATTRIBUTE }, 'LDAP entry has no username attribute')
        return identity
      }
      try {
        return await withDeadline(timeout * 2, work())
      } catch (err) {
        throw unavailable(err, 'login')
      } finally {
        await c.close()
      }
    },

    async lookup(username: string): Promise<DirectoryIdentity | null> {
      const login = loginName(username, config)
      if (!login) return null
      const c = clients()
      const work = async () => {
        const service = await c.service()
        const found = await service.search(base, { scope: 'sub', filter: userFilter(login), attributes, sizeLimit: 2 })
        if (found.searchEntries.length !== 1) return null
        const entry = found.searchEntries[0] as Entry
        if (disabledInAd(entry)) return null
        const name = first(entry, config.LDAP_USERNAME_ATTRIBUTE) ?? ''
        return toIdentity(entry, await groupsOf(service, entry, name))
      }
      try {
        return await withDeadline(timeout * 2, work())
      } catch (err) {
        throw unavailable(err, 'lookup')
      } finally {
        await c.close()
      }
    },

    async *pageUsers(pageSize = 500): AsyncGenerator<DirectoryEntry[]> {
      const c = clients()
      try {
        // Opening (TCP, StartTLS, service bind) is bounded as a whole; each page by the operation timeout
        let client: Client
        try {
          client = await withDeadline(timeout * 2, c.service())
        } catch (err) {
          throw unavailable(err, 'sync')
        }
        const filter = syncFilter(config)
        try {
          for await (const page of client.searchPaginated(base, {
            scope: 'sub',
            filter,
            attributes,
            paged: { pageSize }
          })) {
            const out: DirectoryEntry[] = []
            for (const entry of page.searchEntries) {
              const name = first(entry, config.LDAP_USERNAME_ATTRIBUTE) ?? ''
              const identity = toIdentity(entry, name ? await groupsOf(client, entry, name) : [])
              if (identity) out.push({ identity, disabled: disabledInAd(entry) })
            }
            yield out
          }
        } catch (err) {
          throw unavailable(err, 'sync')
        }
      } finally {
        await c.close()
      }
    }
  }
}

/** The values of an attribute, whatever case the server spelled its name in. */
function values(entry: Entry, name: string): string[] {
  const want = name.toLowerCase()
  for (const [key, value] of Object.entries(entry)) {
    if (key === 'dn' || key.toLowerCase() !== want) continue
    const list = Array.isArray(value) ? value : [value]
    return list.map(v => (Buffer.isBuffer(v) ? v.toString('utf8') : String(v)))
  }
  return []
}

const first = (entry: Entry, name: string): string | undefined => {
  const v = values(entry, name)[0]?.trim()
  return v ? v : undefined
}

/** AD: switched off (userAccountControl bit 2) or past accountExpires. */
export function adAccountOff(entry: Entry, now = Date.now()): boolean {
  const uac = Number(first(entry, 'userAccountControl') ?? 0)
  if (Number.isFinite(uac) && (uac & ACCOUNT_DISABLE) !== 0) return true
  const expires = first(entry, 'accountExpires')
  if (!expires || NEVER_EXPIRES.has(expires) || !/^\d+$/.test(expires)) return false
  return Number(BigInt(expires) / 10_000n - EPOCH_1601_MS) < now
}

/** LDAPS and StartTLS verify the server against LDAP_CA_FILE when given (else the system CAs). */
function tlsFor(url: string, config: Config): ConnectionOptions {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '')
  const options: ConnectionOptions = { host, minVersion: 'TLSv1.2', rejectUnauthorized: true }
  // SNI takes names only
  if (!isIP(host)) options.servername = host
  if (config.LDAP_CA_FILE) {
    try {
      options.ca = [readFileSync(config.LDAP_CA_FILE)]
    } catch {
      throw new ConfigError(`invalid configuration: LDAP_CA_FILE cannot be read: ${config.LDAP_CA_FILE}`)
    }
  }
  return options
}
