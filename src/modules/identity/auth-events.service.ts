import { and, desc, eq, gte, inArray, lt, type SQL, sql } from 'drizzle-orm'
import { authorize, organisationPin } from '../../auth/policy.js'
import { authEvents, users } from '../../db/schema/index.js'
import type { Ctx, Deps, Queryable } from '../../lib/context.js'
import { decodeCursor, pageOf } from '../../lib/cursor.js'
import { AppError } from '../../lib/errors.js'
import type { RateCounter } from '../../lib/rate-counter.js'

export type AuthEventKind =
  | 'login.success'
  | 'login.failure'
  | 'login.locked'
  | 'logout'
  | 'sso.login'
  | 'sso.rejected'
  | 'token.new_address'
  | 'directory.unavailable'

export interface AuthEvent {
  kind: AuthEventKind
  method?: 'password' | 'ldap' | 'sso' | 'token'
  username?: string | null
  userId?: string | null
  ip?: string | null
  detail?: Record<string, unknown>
}

export interface AuthEventQuery {
  kind?: string
  username?: string
  ip?: string
  from?: string
  to?: string
  limit?: number
  cursor?: string
}

/** Auth audit: every login, failure, lockout, SSO rejection and token use from a new address. */
export function createAuthEventService({ db, config, rateCounter }: Deps & { rateCounter: RateCounter }) {
  async function record(q: Queryable, e: AuthEvent): Promise<void> {
    await q.insert(authEvents).values({
      kind: e.kind,
      method: e.method ?? null,
      username: e.username?.slice(0, 256) ?? null,
      userId: e.userId ?? null,
      ip: e.ip ?? null,
      detail: e.detail ?? {}
    })
  }

  const windowMs = config.LOCKOUT_WINDOW_MINUTES * 60_000
  const userKey = (username: string) => `lockout:user:${username.toLowerCase()}`
  const ipKey = (ip: string) => `lockout:ip:${ip}`

  /**
   * Claims one password check for this user and address, or refuses with 429 before any check. The
   * claim is counted first, in one upsert per key (the row lock serialises concurrent claims), so
   * however many attempts race on however many instances, at most the limit are ever checked. A
   * success clears the user's count and hands the address its claim back (`loginSucceeded`), so what
   * stays counted are failures (and checks still in flight) within the window.
   */
  async function claimAttempt(username: string, ip: string | undefined): Promise<void> {
    const [user, address] = await Promise.all([
      rateCounter.hit(userKey(username), windowMs),
      ip === undefined ? null : rateCounter.hit(ipKey(ip), windowMs)
    ])
    const userLocked = user.hits > config.LOCKOUT_USER_FAILURES
    const ipLocked = address !== null && address.hits > config.LOCKOUT_IP_FAILURES
    if (!userLocked && !ipLocked) return
    await record(db, {
      kind: 'login.locked',
      username,
      ip: ip ?? null,
      detail: { by: userLocked ? 'user' : 'address' }
    })
    const resetMs = Math.max(userLocked ? user.resetMs : 0, ipLocked ? (address?.resetMs ?? 0) : 0)
    const minutes = Math.max(1, Math.ceil(resetMs / 60_000))
    throw new AppError(
      'ACCOUNT_LOCKED',
      429,
      'Too Many Requests',
      `too many failed logins; try again in ${minutes} minute${minutes === 1 ? '' : 's'}`,
      undefined,
      { retryAfter: Math.max(1, Math.ceil(resetMs / 1000)) }
    )
  }

  /** A correct password: the user's failures are forgiven and the address's claim is not a failure. */
  async function loginSucceeded(username: string, ip: string | undefined): Promise<void> {
    await Promise.all([rateCounter.reset(userKey(username)), ip === undefined ? null : rateCounter.giveBack(ipKey(ip))])
  }

  async function list(ctx: Ctx, input: AuthEventQuery) {
    authorize(ctx.actor, 'audit.read')
    const limit = input.limit ?? 50
    const where: SQL[] = []
    if (input.kind) where.push(eq(authEvents.kind, input.kind))
    if (input.username) where.push(sql`lower(${authEvents.username}) = lower(${input.username})`)
    if (input.ip) where.push(eq(authEvents.ip, input.ip))
    if (input.from) where.push(gte(authEvents.at, new Date(input.from)))
    if (input.to) where.push(lt(authEvents.at, new Date(input.to)))
    if (input.cursor) where.push(lt(authEvents.id, Number(decodeCursor(input.cursor, 'auth-events').value)))
    // A pinned token reads the sign-ins of its organisation's people only
    const pin = organisationPin(ctx.actor)
    if (pin) {
      where.push(
        inArray(authEvents.userId, db.select({ id: users.id }).from(users).where(eq(users.organisationId, pin)))
      )
    }
    const rows = await db
      .select()
      .from(authEvents)
      .where(and(...where))
      .orderBy(desc(authEvents.id))
      .limit(limit + 1)
    return pageOf(
      rows,
      limit,
      last => ({ sort: 'auth-events', value: last.id, id: String(last.id) }),
      e => ({ ...e, detail: e.detail as Record<string, unknown> })
    )
  }

  return { record, claimAttempt, loginSucceeded, list }
}

export type AuthEventService = ReturnType<typeof createAuthEventService>
