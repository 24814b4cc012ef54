import type { IncomingMessage } from 'node:http'
import { sql } from 'drizzle-orm'
import type { FastifyBaseLogger } from 'fastify'
import { type Actor, userActor } from '../../auth/actor.js'
import { isRejection, isTrusted, readSsoClaim, type SsoRejection, trustedProxies } from '../../auth/sso.js'
import { users } from '../../db/schema/index.js'
import type { Deps } from '../../lib/context.js'
import { unauthenticated } from '../../lib/errors.js'
import type { AuthEventService } from './auth-events.service.js'
import { type DirectoryIdentity, directoryMapping, provisionFromDirectory } from './directory.js'

const SEEN_EVERY_MS = 60 * 60_000
const REJECT_LOG_EVERY_MS = 60_000

/**
 * Request-header SSO (Shibboleth, mod_auth_mellon, SiteMinder, JOSSO, oauth2-proxy…): the identity a
 * trusted reverse proxy asserts becomes the same actor a login would give. Headers from any other
 * peer are ignored, recorded and logged.
 */
export function createSsoService(
  deps: Deps & {
    authEvents: AuthEventService
    /** A directory to match users the proxy names but who are not here yet. */
    directory?: { lookup(username: string): Promise<DirectoryIdentity | null> } | null
  }
) {
  const { db, config } = deps
  const proxies =
    config.SSO_USER_HEADER && config.SSO_TRUSTED_PROXIES ? trustedProxies(config.SSO_TRUSTED_PROXIES) : null
  const mapping = directoryMapping(config)
  const cache = new Map<string, { actor: Actor; until: number }>()
  const seen = new Map<string, number>()
  const rejectedLogged = new Map<string, number>()

  async function reject(
    reason: SsoRejection,
    peer: string | undefined,
    username: string | null,
    log: FastifyBaseLogger
  ) {
    const key = `${peer}:${reason}`
    const now = Date.now()
    if ((rejectedLogged.get(key) ?? 0) + REJECT_LOG_EVERY_MS > now) return
    if (rejectedLogged.size > 10_000) rejectedLogged.clear()
    rejectedLogged.set(key, now)
    log.warn({ peer, reason, username }, 'identity headers refused')
    await deps.authEvents
      .record(db, { kind: 'sso.rejected', method: 'sso', username, ip: peer ?? null, detail: { reason } })
      .catch(err => log.error({ err }, 'could not record an SSO rejection'))
  }

  async function actorFor(
    username: string,
    claim: Exclude<ReturnType<typeof readSsoClaim>, null>,
    peer: string | undefined,
    log: FastifyBaseLogger
  ) {
    if (isRejection(claim)) return null
    const [found] = await db.select().from(users).where(sql`lower(${users.username}) = lower(${username})`)
    let user = found
    const fromHeaders = {
      source: 'sso' as const,
      externalId: username,
      username,
      displayName: claim.displayName ?? username,
      email: claim.email,
      phone: null,
      department: null,
      groups: claim.groups ?? []
    }
    if (!user && deps.directory) {
      // The proxy names someone the directory knows: create them from the directory entry
      const entry = await deps.directory.lookup(username)
      if (entry) {
        user = (
          await db.transaction(tx =>
            provisionFromDirectory(tx, entry, mapping, config, undefined, { neverAdmin: true })
          )
        ).user
      }
    }
    if (!user && config.SSO_PROVISION) {
      user = (
        await db.transaction(tx =>
          provisionFromDirectory(tx, fromHeaders, mapping, config, undefined, { neverAdmin: true })
        )
      ).user
    } else if (user?.authSource === 'sso' && claim.groups !== null) {
      user = (
        await db.transaction(tx =>
          provisionFromDirectory(tx, fromHeaders, mapping, config, undefined, { neverAdmin: true })
        )
      ).user
    }
    if (!user) {
      await reject('unknown user', peer, username, log)
      return null
    }
    if (!user.active) {
      await reject('user disabled', peer, username, log)
      return null
    }
    // An account with its own local password (the bootstrap admin, break-glass accounts) signs in with
    // that password: a proxy asserting the same name must not stand in for it unless allowed
    if (user.authSource === 'local' && user.passwordHash !== null && !config.SSO_ALLOW_LOCAL_ACCOUNTS) {
      await reject('local account', peer, username, log)
      return null
    }
    const now = Date.now()
    if ((seen.get(user.id) ?? 0) + SEEN_EVERY_MS < now) {
      seen.set(user.id, now)
      await deps.authEvents.record(db, {
        kind: 'sso.login',
        method: 'sso',
        username: user.username,
        userId: user.id,
        ip: peer ?? null
      })
    }
    return userActor(user, 'sso')
  }

  return {
    enabled: proxies !== null,

    /**
     * undefined: the request asserts no identity by header (or comes from an untrusted peer, which is
     * logged); an actor: the proxy's user. Throws 401 when a trusted proxy asserts someone we refuse.
     */
    async authenticate(raw: IncomingMessage, log: FastifyBaseLogger): Promise<Actor | undefined> {
      if (!proxies) return undefined
      const claim = readSsoClaim(raw, config)
      if (claim === null) return undefined
      const peer = raw.socket.remoteAddress
      if (!isTrusted(proxies, peer)) {
        await reject('untrusted peer', peer, isRejection(claim) ? null : claim.username, log)
        return undefined
      }
      if (isRejection(claim)) {
        await reject(claim.rejected, peer, null, log)
        throw unauthenticated('identity headers refused')
      }
      const key = `${claim.username.toLowerCase()}\u0000${claim.groups?.join('\u0000') ?? '-'}`
      const hit = cache.get(key)
      if (hit && hit.until > Date.now()) return hit.actor
      const actor = await actorFor(claim.username, claim, peer, log)
      if (!actor) throw unauthenticated('identity headers refused')
      if (config.AUTH_CACHE_TTL_MS > 0) {
        if (cache.size > 10_000) cache.clear()
        cache.set(key, { actor, until: Date.now() + config.AUTH_CACHE_TTL_MS })
      }
      return actor
    },

    forgetUser(userId: string) {
      for (const [key, entry] of cache) if (entry.actor.id === userId) cache.delete(key)
    }
  }
}
