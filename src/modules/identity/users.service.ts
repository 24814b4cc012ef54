import { and, asc, eq, gt, ilike, inArray, isNull, ne, or, type SQL, sql } from 'drizzle-orm'
import type { Role } from '../../auth/actor.js'
import type { Authenticator } from '../../auth/authenticate.js'
import { authorize, can, organisationPin } from '../../auth/policy.js'
import { apiTokens, organisations, sessions, smsBlockedNumbers, users } from '../../db/schema/index.js'
import type { Ctx, Deps, Queryable } from '../../lib/context.js'
import { conflictField, fieldError, notFound } from '../../lib/errors.js'
import { uuidv7 } from '../../lib/ids.js'
import { hashPassword } from '../../lib/secrets.js'
import { checkVersion } from '../../lib/version.js'
import { diff, recordAudit } from '../audit/audit.service.js'
import type { CreateUserInput, UpdateUserInput, UserListInput } from './identity.schemas.js'
import { pageFromRows, parseIdCursor } from './paging.js'

export type UserRow = typeof users.$inferSelect

/** What the API shows of a user: never the password hash. */
export function publicUser(row: UserRow) {
  const { passwordHash: _hidden, ...rest } = row
  return { ...rest, roles: row.roles as Role[] }
}
export type PublicUser = ReturnType<typeof publicUser>

const AUDITED: (keyof UserRow)[] = ['displayName', 'email', 'phone', 'organisationId', 'roles', 'active']

export async function assertOrganisation(q: Queryable, id: string | null | undefined, field = 'organisationId') {
  if (!id) return
  const [row] = await q.select({ id: organisations.id }).from(organisations).where(eq(organisations.id, id))
  if (!row) throw fieldError(field, 'no such organisation')
}

/**
 * Ends a user's credentials for good (revoked rows are never revived): every session but `keepSessionId`
 * and, when `tokens`, every API token. Other instances drop their cached copies within
 * AUTH_CACHE_TTL_MS, since every cache miss reads `revoked_at`.
 */
export async function endCredentials(
  q: Queryable,
  userId: string,
  opts: { tokens: boolean; keepSessionId?: string | null }
): Promise<{ sessions: number; tokens: number }> {
  const now = new Date()
  const ended = await q
    .update(sessions)
    .set({ revokedAt: now })
    .where(
      and(
        eq(sessions.userId, userId),
        isNull(sessions.revokedAt),
        opts.keepSessionId ? ne(sessions.id, opts.keepSessionId) : undefined
      )
    )
    .returning({ id: sessions.id })
  const tokens = opts.tokens
    ? await q
        .update(apiTokens)
        .set({ revokedAt: now })
        .where(and(eq(apiTokens.userId, userId), isNull(apiTokens.revokedAt)))
        .returning({ id: apiTokens.id })
    : []
  return { sessions: ended.length, tokens: tokens.length }
}

export function createUserService(deps: Deps & { authenticator: Authenticator }) {
  const { db } = deps

  async function getUser(ctx: Ctx, id: string): Promise<PublicUser> {
    if (ctx.actor.id !== id) authorize(ctx.actor, 'directory.read')
    const [row] = await db.select().from(users).where(eq(users.id, id))
    const pin = organisationPin(ctx.actor)
    if (!row || (pin && row.id !== ctx.actor.id && row.organisationId !== pin)) throw notFound('user')
    return publicUser(row)
  }

  async function listUsers(ctx: Ctx, input: UserListInput) {
    authorize(ctx.actor, 'directory.read')
    const limit = input.limit ?? 50
    const where: SQL[] = []
    if (input.q) {
      const like = `%${input.q.replace(/[\\%_]/g, m => `\\${m}`)}%`
      where.push(or(ilike(users.username, like), ilike(users.displayName, like), ilike(users.email, like))!)
    }
    if (input.organisationId) where.push(eq(users.organisationId, input.organisationId))
    const pin = organisationPin(ctx.actor)
    if (pin) where.push(eq(users.organisationId, pin))
    if (input.role) where.push(sql`${input.role} = ANY(${users.roles})`)
    if (input.active !== undefined) where.push(eq(users.active, input.active))
    if (input.cursor) where.push(gt(users.id, parseIdCursor(input.cursor)))
    const rows = await db
      .select()
      .from(users)
      .where(and(...where))
      .orderBy(asc(users.id))
      .limit(limit + 1)
    return pageFromRows(rows.map(publicUser), limit)
  }

  async function createUser(ctx: Ctx, input: CreateUserInput): Promise<PublicUser> {
    authorize(ctx.actor, 'user.manage')
    const passwordHash = input.password ? await hashPassword(input.password) : null
    return db.transaction(async tx => {
      await assertOrganisation(tx, input.organisationId)
      const [existing] = await tx
        .select({ id: users.id })
        .from(users)
        .where(sql`lower(${users.username}) = lower(${input.username})`)
      if (existing) throw conflictField('username', 'already taken')
      const [row] = await tx
        .insert(users)
        .values({
          id: uuidv7(),
          username: input.username,
          displayName: input.displayName,
          email: input.email ?? null,
          phone: input.phone ?? null,
          organisationId: input.organisationId ?? null,
          roles: input.roles,
          passwordHash,
          active: input.active ?? true
        })
        .returning()
      const user = row!
      await recordAudit(tx, ctx, {
        entityType: 'user',
        entityId: user.id,
        action: 'created',
        changes: AUDITED.map(f => ({ field: f, old: null, new: user[f] ?? null }))
      })
      return publicUser(user)
    })
  }

  async function updateUser(
    ctx: Ctx,
    id: string,
    input: UpdateUserInput,
    expectedVersion?: number
  ): Promise<PublicUser> {
    authorize(ctx.actor, 'user.manage')
    const passwordHash = input.password ? await hashPassword(input.password) : undefined
    const updated = await db.transaction(async tx => {
      const [before] = await tx.select().from(users).where(eq(users.id, id)).for('update')
      if (!before) throw notFound('user')
      checkVersion('user', before.version, expectedVersion)
      if (input.organisationId !== undefined) await assertOrganisation(tx, input.organisationId)
      if (before.id === ctx.actor.id && (input.active === false || (input.roles && !input.roles.includes('admin')))) {
        throw fieldError(input.active === false ? 'active' : 'roles', 'you cannot disable or demote yourself')
      }
      const { password: _pw, ...fields } = input
      const changes = diff(before, fields, AUDITED)
      if (passwordHash) changes.push({ field: 'password', old: '(hidden)', new: '(changed)' })
      const [row] = await tx
        .update(users)
        .set({
          ...fields,
          ...(passwordHash ? { passwordHash } : {}),
          version: sql`${users.version} + 1`,
          updatedAt: new Date()
        })
        .where(eq(users.id, id))
        .returning()
      // An edit of the number is the user's answer to a refused one: their SMS blocks go with it
      if (changes.some(c => c.field === 'phone')) {
        const cleared = await tx.delete(smsBlockedNumbers).where(eq(smsBlockedNumbers.userId, id)).returning()
        if (cleared.length) changes.push({ field: 'smsBlocks', old: cleared.map(b => b.phone), new: null })
      }
      // A new password ends every other session; disabling ends sessions and tokens, for good
      const disabling = input.active === false && before.active
      if (passwordHash || disabling) {
        const keep = ctx.actor.id === id && ctx.actor.via === 'session' ? ctx.actor.credentialId : null
        const ended = await endCredentials(tx, id, { tokens: disabling, keepSessionId: disabling ? null : keep })
        if (ended.sessions) changes.push({ field: 'sessions', old: ended.sessions, new: 'revoked' })
        if (ended.tokens) changes.push({ field: 'apiTokens', old: ended.tokens, new: 'revoked' })
      }
      await recordAudit(tx, ctx, { entityType: 'user', entityId: id, action: 'updated', changes })
      return row!
    })
    deps.authenticator.forgetUser(id)
    return publicUser(updated)
  }

  /** Users by id for loaders; unknown ids come back as null. */
  async function usersByIds(ctx: Ctx, ids: readonly string[]): Promise<(PublicUser | null)[]> {
    const pin = organisationPin(ctx.actor)
    const visible = can(ctx.actor, 'directory.read')
    const rows = ids.length
      ? await db
          .select()
          .from(users)
          .where(inArray(users.id, [...ids]))
      : []
    const byId = new Map(rows.map(r => [r.id, r]))
    return ids.map(id => {
      const row = byId.get(id)
      if (!row) return null
      // Customers see who works their tickets, but only names, never contact details of staff
      // (so does an organisation pin, for people outside its organisation)
      if ((!visible || (pin && row.organisationId !== pin)) && row.id !== ctx.actor.id) {
        return { ...publicUser(row), email: null, phone: null }
      }
      return publicUser(row)
    })
  }

  return { getUser, listUsers, createUser, updateUser, usersByIds }
}

export const hasRole = (row: { roles: string[] }, role: Role) => row.roles.includes(role)
