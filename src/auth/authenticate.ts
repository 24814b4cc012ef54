import { and, eq, gt, isNull, or, sql } from 'drizzle-orm'
import type { FastifyBaseLogger } from 'fastify'
import type { Db } from '../db/client.js'
import { apiTokenAddresses, apiTokens, sessions, users } from '../db/schema/index.js'
import { hashToken } from '../lib/secrets.js'
import { type Actor, userActor } from './actor.js'

interface CacheEntry {
  actor: Actor
  until: number
}

type Found = { actor: Actor; expiresAt: Date | null }

const MAX_CACHE = 10_000
const LAST_USED_EVERY_MS = 60_000

/**
 * Turns a bearer token into an actor: one indexed lookup of a SHA-256, never a slow hash per
 * request. Answers are cached for AUTH_CACHE_TTL_MS; logout, revocation and user changes drop the
 * entries on this instance at once (other instances within the TTL).
 */
export function createAuthenticator(deps: {
  db: Db
  log: FastifyBaseLogger
  cacheTtlMs: number
  /** Called once per token and new client address, to record it in the auth audit. */
  onNewTokenAddress?: (actor: Actor, ip: string) => Promise<void>
}) {
  const cache = new Map<string, CacheEntry>()
  const tokenLastWritten = new Map<string, number>()
  const userListeners: ((userId: string) => void)[] = []

  const sessionQuery = deps.db
    .select({
      credentialId: sessions.id,
      expiresAt: sessions.expiresAt,
      id: users.id,
      username: users.username,
      displayName: users.displayName,
      roles: users.roles,
      organisationId: users.organisationId
    })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(
      and(
        eq(sessions.tokenHash, sql.placeholder('hash')),
        isNull(sessions.revokedAt),
        gt(sessions.expiresAt, sql`now()`),
        eq(users.active, true)
      )
    )
    .prepare('auth_session')

  const tokenQuery = deps.db
    .select({
      credentialId: apiTokens.id,
      expiresAt: apiTokens.expiresAt,
      scopes: apiTokens.scopes,
      tokenOrganisationId: apiTokens.organisationId,
      id: users.id,
      username: users.username,
      displayName: users.displayName,
      roles: users.roles,
      organisationId: users.organisationId
    })
    .from(apiTokens)
    .innerJoin(users, eq(users.id, apiTokens.userId))
    .where(
      and(
        eq(apiTokens.tokenHash, sql.placeholder('hash')),
        isNull(apiTokens.revokedAt),
        or(isNull(apiTokens.expiresAt), gt(apiTokens.expiresAt, sql`now()`)),
        eq(users.active, true)
      )
    )
    .prepare('auth_token')

  async function lookup(token: string): Promise<Found | null> {
    const hash = hashToken(token)
    if (token.startsWith('sds_')) {
      const [row] = await sessionQuery.execute({ hash })
      if (!row) return null
      const actor = userActor(row, 'session', { id: row.credentialId })
      return { actor, expiresAt: row.expiresAt }
    }
    if (token.startsWith('sdt_')) {
      const [row] = await tokenQuery.execute({ hash })
      if (!row) return null
      const actor = userActor(row, 'token', {
        id: row.credentialId,
        scopes: row.scopes,
        organisationId: row.tokenOrganisationId
      })
      return { actor, expiresAt: row.expiresAt }
    }
    return null
  }

  const knownAddresses = new Map<string, Set<string>>()

  /** First use of a token from an address is recorded once, whichever instance sees it first. */
  function noteAddress(actor: Actor, ip: string): void {
    const tokenId = actor.credentialId!
    let known = knownAddresses.get(tokenId)
    if (known?.has(ip)) return
    if (!known) {
      if (knownAddresses.size >= MAX_CACHE) knownAddresses.clear()
      known = new Set()
      knownAddresses.set(tokenId, known)
    }
    if (known.size >= 1000) known.clear()
    known.add(ip)
    deps.db
      .insert(apiTokenAddresses)
      .values({ tokenId, ip })
      .onConflictDoNothing()
      .returning({ ip: apiTokenAddresses.ip })
      .then(rows => (rows.length > 0 && deps.onNewTokenAddress ? deps.onNewTokenAddress(actor, ip) : undefined))
      .catch(err => deps.log.warn({ err }, 'could not record a token address'))
  }

  function touchToken(actor: Actor, ip: string | undefined): void {
    if (actor.via !== 'token' || !actor.credentialId) return
    if (ip) noteAddress(actor, ip)
    const now = Date.now()
    const last = tokenLastWritten.get(actor.credentialId) ?? 0
    if (now - last < LAST_USED_EVERY_MS) return
    tokenLastWritten.set(actor.credentialId, now)
    deps.db
      .update(apiTokens)
      .set({ lastUsedAt: new Date(now), lastUsedIp: ip ?? null })
      .where(eq(apiTokens.id, actor.credentialId))
      .catch(err => deps.log.warn({ err }, 'could not record token use'))
  }

  return {
    /** Null when the token is unknown, expired, revoked, or its user is disabled. */
    async authenticate(token: string, ip?: string): Promise<Actor | null> {
      if (token.length < 20 || token.length > 200) return null
      const now = Date.now()
      const hit = cache.get(token)
      if (hit && hit.until > now) {
        touchToken(hit.actor, ip)
        return hit.actor
      }
      const found = await lookup(token)
      if (!found) return null
      if (deps.cacheTtlMs > 0) {
        if (cache.size >= MAX_CACHE) cache.clear()
        // A cached credential never outlives its own expiry
        const until = Math.min(now + deps.cacheTtlMs, found.expiresAt?.getTime() ?? Number.POSITIVE_INFINITY)
        cache.set(token, { actor: found.actor, until })
      }
      touchToken(found.actor, ip)
      return found.actor
    },
    /** Forget every cached credential of a user (disabled, roles changed, password changed). */
    forgetUser(userId: string): void {
      for (const [key, entry] of cache) if (entry.actor.id === userId) cache.delete(key)
      for (const listener of userListeners) listener(userId)
    },
    /** Other credential caches (header SSO) forget a user whenever this one does. */
    onForgetUser(listener: (userId: string) => void): void {
      userListeners.push(listener)
    },
    /** Forget one credential (logout, token revoked). */
    forgetCredential(credentialId: string): void {
      for (const [key, entry] of cache) if (entry.actor.credentialId === credentialId) cache.delete(key)
    }
  }
}

export type Authenticator = ReturnType<typeof createAuthenticator>
