import { and, eq, isNull, sql } from 'drizzle-orm'
import { systemActor } from '../../auth/actor.js'
import type { Authenticator } from '../../auth/authenticate.js'
import { sessions, users } from '../../db/schema/index.js'
import type { Ctx, Deps } from '../../lib/context.js'
import { AppError, badRequest, notFound } from '../../lib/errors.js'
import { uuidv7 } from '../../lib/ids.js'
import { hashPassword, newToken, verifyPassword } from '../../lib/secrets.js'
import { recordAudit } from '../audit/audit.service.js'
import type { LoginInput } from './identity.schemas.js'
import { publicUser } from './users.service.js'

const invalidLogin = () => new AppError('INVALID_CREDENTIALS', 401, 'Unauthorized', 'invalid username or password')

/** Local password login (LDAP and header SSO plug in beside it and end in the same session). */
export function createSessionService(deps: Deps & { authenticator: Authenticator }) {
  const { db, config } = deps

  return {
    async login(input: LoginInput, meta: { ip?: string; requestId?: string; log: Ctx['log'] }) {
      const [user] = await db.select().from(users).where(sql`lower(${users.username}) = lower(${input.username})`)
      // verifyPassword spends a full scrypt even without a user, so timing does not reveal who exists
      const ok = await verifyPassword(input.password, user?.authSource === 'local' ? user.passwordHash : null)
      if (!user || !ok || !user.active) {
        meta.log.info({ username: input.username.slice(0, 200), ip: meta.ip }, 'login failed')
        throw invalidLogin()
      }
      const { token, hash } = newToken('session')
      const expiresAt = new Date(Date.now() + config.SESSION_TTL_MINUTES * 60_000)
      const id = uuidv7()
      await db.transaction(async tx => {
        await tx.insert(sessions).values({ id, userId: user.id, tokenHash: hash, ip: meta.ip ?? null, expiresAt })
        const ctx = sessionCtx(user, meta)
        await recordAudit(tx, ctx, { entityType: 'user', entityId: user.id, action: 'login' })
      })
      return { token, expiresAt, user: publicUser(user) }
    },

    async logout(ctx: Ctx): Promise<void> {
      if (ctx.actor.via === 'token') {
        throw badRequest('an API token is not a session: revoke it with DELETE /api/v1/api-tokens/{id}')
      }
      if (ctx.actor.via !== 'session' || !ctx.actor.credentialId) return
      await db
        .update(sessions)
        .set({ revokedAt: new Date() })
        .where(and(eq(sessions.id, ctx.actor.credentialId), isNull(sessions.revokedAt)))
      deps.authenticator.forgetCredential(ctx.actor.credentialId)
    },

    async me(ctx: Ctx) {
      if (!ctx.actor.id) throw notFound('user')
      const [row] = await db.select().from(users).where(eq(users.id, ctx.actor.id))
      if (!row) throw notFound('user')
      return publicUser(row)
    },

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
          { actor: systemActor('bootstrap'), log: deps.log },
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

function sessionCtx(user: typeof users.$inferSelect, meta: { ip?: string; requestId?: string; log: Ctx['log'] }): Ctx {
  return {
    actor: {
      kind: 'user',
      id: user.id,
      username: user.username,
      displayName: user.displayName,
      roles: new Set(),
      organisationId: user.organisationId,
      via: 'session',
      credentialId: null,
      scopes: null,
      tokenOrganisationId: null
    },
    log: meta.log,
    ...(meta.ip ? { ip: meta.ip } : {}),
    ...(meta.requestId ? { requestId: meta.requestId } : {})
  }
}
