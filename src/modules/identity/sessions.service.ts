import { and, eq, isNull, sql } from 'drizzle-orm'
import { systemActor, userActor } from '../../auth/actor.js'
import type { Authenticator } from '../../auth/authenticate.js'
import { sessions, users } from '../../db/schema/index.js'
import type { Ctx, Deps, Queryable } from '../../lib/context.js'
import { AppError, badRequest, conflict, fieldError, notFound } from '../../lib/errors.js'
import { uuidv7 } from '../../lib/ids.js'
import { hashPassword, newToken, verifyPassword } from '../../lib/secrets.js'
import { recordAudit } from '../audit/audit.service.js'
import type { AuthEventService } from './auth-events.service.js'
import {
  type DirectoryIdentity,
  directoryMapping,
  type PasswordDirectory,
  provisionFromDirectory
} from './directory.js'
import type { ChangePasswordInput, LoginInput } from './identity.schemas.js'
import { endCredentials, publicUser } from './users.service.js'

const invalidLogin = () => new AppError('INVALID_CREDENTIALS', 401, 'Unauthorized', 'invalid username or password')

/** Sessions: password login (local or directory), logout, who am I, the bootstrap admin. */
export function createSessionService(
  deps: Deps & { authenticator: Authenticator; authEvents: AuthEventService; directory: PasswordDirectory | null }
) {
  const { db, config } = deps
  const mapping = directoryMapping(config)

  async function me(ctx: Ctx) {
    if (!ctx.actor.id) throw notFound('user')
    const [row] = await db.select().from(users).where(eq(users.id, ctx.actor.id))
    if (!row) throw notFound('user')
    return publicUser(row)
  }

  async function startSession(
    user: typeof users.$inferSelect,
    method: string,
    meta: { ip?: string; requestId?: string; log: Ctx['log'] }
  ) {
    const { token, hash } = newToken('session')
    const expiresAt = new Date(Date.now() + config.SESSION_TTL_MINUTES * 60_000)
    const id = uuidv7()
    await db.transaction(async tx => {
      await tx.insert(sessions).values({ id, userId: user.id, tokenHash: hash, method, ip: meta.ip ?? null, expiresAt })
      await tx.update(users).set({ lastLoginAt: new Date() }).where(eq(users.id, user.id))
      await recordAudit(tx, sessionCtx(tx, user, meta), {
        entityType: 'user',
        entityId: user.id,
        action: 'login',
        changes: [{ field: 'method', old: null, new: method }]
      })
      await deps.authEvents.record(tx, {
        kind: 'login.success',
        method: method === 'ldap' ? 'ldap' : 'password',
        username: user.username,
        userId: user.id,
        ip: meta.ip ?? null
      })
    })
    return { token, expiresAt, user: publicUser(user) }
  }

  return {
    /**
     * Password login: local users by scrypt, directory users by binding to the directory (and then
     * created or updated from it). Locked-out users and addresses are refused before any check.
     */
    async login(input: LoginInput, meta: { ip?: string; requestId?: string; log: Ctx['log'] }) {
      const username = input.username.trim().normalize('NFC')
      const fail = async (reason: string, userId?: string) => {
        await deps.authEvents.record(db, {
          kind: 'login.failure',
          method: 'password',
          username,
          userId: userId ?? null,
          ip: meta.ip ?? null,
          detail: { reason }
        })
        meta.log.info({ username: username.slice(0, 200), ip: meta.ip, reason }, 'login failed')
        return invalidLogin()
      }
      // An empty password is an unauthenticated bind to many directories: never let one through
      if (input.password.trim() === '') throw await fail('empty password')
      await deps.authEvents.claimAttempt(username, meta.ip)

      const [local] = await db.select().from(users).where(sql`lower(${users.username}) = lower(${username})`)
      let user: typeof users.$inferSelect | undefined
      let method: 'password' | 'ldap' = 'password'
      if (deps.directory && (!local || local.authSource === 'ldap')) {
        method = 'ldap'
        let identity: DirectoryIdentity | null
        try {
          identity = await deps.directory.verify(username, input.password)
        } catch (err) {
          if (err instanceof AppError && err.status === 503) {
            await deps.authEvents.record(db, { kind: 'directory.unavailable', method, username, ip: meta.ip ?? null })
          }
          throw err
        }
        if (!identity) throw await fail('directory refused', local?.id)
        const id = identity
        user = (await db.transaction(tx => provisionFromDirectory(tx, id, mapping, config))).user
        if (local && local.id !== user.id) throw await fail('directory user clash', local.id)
        deps.authenticator.forgetUser(user.id)
      } else {
        // verifyPassword spends a full scrypt even without a user, so timing does not reveal who exists
        const ok = await verifyPassword(input.password, local?.authSource === 'local' ? local.passwordHash : null)
        if (local && ok) user = local
      }
      if (!user) throw await fail('bad credentials', local?.id)
      if (!user.active) throw await fail('user disabled', user.id)
      await deps.authEvents.loginSucceeded(username, meta.ip)
      return startSession(user, method, meta)
    },

    async logout(ctx: Ctx): Promise<void> {
      if (ctx.actor.via === 'token') {
        throw badRequest('an API token is not a session: revoke it with DELETE /api/v1/api-tokens/{id}')
      }
      if (ctx.actor.via !== 'session' || !ctx.actor.credentialId) return
      await deps.authEvents.record(db, {
        kind: 'logout',
        method: 'password',
        username: ctx.actor.username,
        userId: ctx.actor.id,
        ip: ctx.ip ?? null
      })
      await db
        .update(sessions)
        .set({ revokedAt: new Date() })
        .where(and(eq(sessions.id, ctx.actor.credentialId), isNull(sessions.revokedAt)))
      deps.authenticator.forgetCredential(ctx.actor.credentialId)
    },

    /**
     * A person changes their own local password, proving the current one (counted like a login, so a
     * stolen session cannot brute-force it). Every other session of theirs ends; API tokens stay.
     */
    async changePassword(ctx: Ctx, input: ChangePasswordInput): Promise<void> {
      if (ctx.actor.via === 'token' || !ctx.actor.id) {
        throw badRequest('an API token cannot change a password: sign in as the person')
      }
      const userId = ctx.actor.id
      const [row] = await db.select().from(users).where(eq(users.id, userId))
      if (!row) throw notFound('user')
      if (row.authSource !== 'local') throw conflict('your password is kept by the directory: change it there')
      await deps.authEvents.claimAttempt(row.username, ctx.ip)
      if (!(await verifyPassword(input.currentPassword, row.passwordHash))) {
        await deps.authEvents.record(db, {
          kind: 'login.failure',
          method: 'password',
          username: row.username,
          userId,
          ip: ctx.ip ?? null,
          detail: { reason: 'wrong current password' }
        })
        throw fieldError('currentPassword', 'is not your current password')
      }
      await deps.authEvents.loginSucceeded(row.username, ctx.ip)
      const passwordHash = await hashPassword(input.newPassword)
      const keep = ctx.actor.via === 'session' ? ctx.actor.credentialId : null
      await db.transaction(async tx => {
        await tx
          .update(users)
          .set({ passwordHash, version: sql`${users.version} + 1`, updatedAt: new Date() })
          .where(eq(users.id, userId))
        const ended = await endCredentials(tx, userId, { tokens: false, keepSessionId: keep })
        await recordAudit(tx, ctx, {
          entityType: 'user',
          entityId: userId,
          action: 'updated',
          changes: [
            { field: 'password', old: '(hidden)', new: '(changed)' },
            ...(ended.sessions ? [{ field: 'sessions', old: ended.sessions, new: 'revoked' }] : [])
          ]
        })
      })
      deps.authenticator.forgetUser(userId)
    },

    /** Who is asking, how they signed in, and a token's scopes: `GET /auth/me` and GraphQL `me`. */
    async whoAmI(ctx: Ctx) {
      return {
        user: await me(ctx),
        via: ctx.actor.via,
        scopes: ctx.actor.scopes ? [...ctx.actor.scopes] : null
      }
    },

    me,

    /** First start: make the bootstrap admin when no admin exists yet. Returns a generated password, if any. */
    async ensureBootstrapAdmin(): Promise<{ created: boolean; generatedPassword?: string; blockedBy?: string }> {
      const [existing] = await db
        .select({ id: users.id })
        .from(users)
        .where(sql`'admin' = ANY(${users.roles})`)
        .limit(1)
      if (existing) return { created: false }
      const [taken] = await db
        .select({ id: users.id })
        .from(users)
        .where(sql`lower(${users.username}) = lower(${config.ADMIN_USERNAME})`)
      if (taken) return { created: false, blockedBy: config.ADMIN_USERNAME }
      const generated = config.ADMIN_PASSWORD ? undefined : newToken('session').token.slice(4, 28)
      const password = config.ADMIN_PASSWORD ?? generated!
      const id = uuidv7()
      await db.transaction(async tx => {
        await tx.insert(users).values({
          id,
          username: config.ADMIN_USERNAME,
          displayName: 'Administrator',
          roles: ['admin'],
          passwordHash: await hashPassword(password)
        })
        await recordAudit(
          tx,
          { actor: systemActor('bootstrap'), log: deps.log, db: tx },
          {
            entityType: 'user',
            entityId: id,
            action: 'created',
            changes: [{ field: 'roles', old: null, new: ['admin'] }]
          }
        )
      })
      return generated ? { created: true, generatedPassword: generated } : { created: true }
    }
  }
}

function sessionCtx(
  db: Queryable,
  user: typeof users.$inferSelect,
  meta: { ip?: string; requestId?: string; log: Ctx['log'] }
): Ctx {
  return {
    db,
    actor: userActor(user, 'session'),
    log: meta.log,
    ...(meta.ip ? { ip: meta.ip } : {}),
    ...(meta.requestId ? { requestId: meta.requestId } : {})
  }
}
