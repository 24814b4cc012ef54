import { and, desc, eq, gte, lt, type SQL, sql } from 'drizzle-orm'
import { authorize } from '../../auth/policy.js'
import { authEvents } from '../../db/schema/index.js'
import type { Ctx, Deps, Queryable } from '../../lib/context.js'
import { decodeCursor, pageOf } from '../../lib/cursor.js'
import { AppError } from '../../lib/errors.js'

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
export function createAuthEventService({ db, config }: Deps) {
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

  /**
   * Refuses a login when the user, or the address, failed too often within the window. Failures
   * before the user's last success do not count against the user.
   */
  async function assertNotLocked(username: string, ip: string | undefined): Promise<void> {
    const since = sql`now() - make_interval(mins => ${config.LOCKOUT_WINDOW_MINUTES})`
    const name = username.toLowerCase()
    const result = await db.execute(sql`
      SELECT
        (SELECT count(*)::int FROM auth_events f
          WHERE lower(f.username) = ${name} AND f.kind = 'login.failure' AND f.at > ${since}
            AND f.at > coalesce((SELECT max(s.at) FROM auth_events s
                                 WHERE lower(s.username) = ${name} AND s.kind IN ('login.success', 'sso.login')), '-infinity')
        ) AS user_failures,
        (SELECT count(*)::int FROM auth_events f
          WHERE f.ip = ${ip ?? ''} AND f.kind = 'login.failure' AND f.at > ${since}) AS ip_failures`)
    const row = (result as unknown as { rows: { user_failures: number; ip_failures: number }[] }).rows[0]
    const userLocked = Number(row?.user_failures ?? 0) >= config.LOCKOUT_USER_FAILURES
    const ipLocked = ip !== undefined && Number(row?.ip_failures ?? 0) >= config.LOCKOUT_IP_FAILURES
    if (userLocked || ipLocked) {
      await record(db, {
        kind: 'login.locked',
        username,
        ip: ip ?? null,
        detail: { by: userLocked ? 'user' : 'address' }
      })
      throw new AppError(
        'ACCOUNT_LOCKED',
        429,
        'Too Many Requests',
        `too many failed logins; try again in ${config.LOCKOUT_WINDOW_MINUTES} minutes`,
        undefined,
        { retryAfter: config.LOCKOUT_WINDOW_MINUTES * 60 }
      )
    }
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

  return { record, assertNotLocked, list }
}

export type AuthEventService = ReturnType<typeof createAuthEventService>
