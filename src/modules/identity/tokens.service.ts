import { and, asc, eq, gt, isNull, type SQL } from 'drizzle-orm'
import type { Scope } from '../../auth/actor.js'
import type { Authenticator } from '../../auth/authenticate.js'
import { authorize, can } from '../../auth/policy.js'
import { apiTokens, users } from '../../db/schema/index.js'
import type { Ctx, Deps } from '../../lib/context.js'
import { conflict, fieldError, notFound } from '../../lib/errors.js'
import { uuidv7 } from '../../lib/ids.js'
import { newToken } from '../../lib/secrets.js'
import { recordAudit } from '../audit/audit.service.js'
import type { CreateTokenInput, ListInput } from './identity.schemas.js'
import { pageFromRows, parseIdCursor } from './paging.js'
import { assertOrganisation } from './users.service.js'

type TokenRow = typeof apiTokens.$inferSelect
const view = ({ tokenHash: _h, createdBy: _c, ...rest }: TokenRow) => ({ ...rest, scopes: rest.scopes as Scope[] })

/**
 * Integrator tokens: long random secrets, stored as SHA-256 only and shown once. A token acts as its
 * owner, narrowed by its scopes and optionally pinned to one organisation. Rotation: create the new
 * token, move the integration, revoke the old; both work in between.
 */
export function createTokenService(deps: Deps & { authenticator: Authenticator }) {
  const { db } = deps

  function assertManage(ctx: Ctx, ownerId: string) {
    if (ownerId === ctx.actor.id) authorize(ctx.actor, 'token.manageOwn')
    else authorize(ctx.actor, 'token.manageAll')
  }

  return {
    async create(ctx: Ctx, input: CreateTokenInput) {
      const ownerId = input.userId ?? ctx.actor.id
      if (!ownerId) throw fieldError('userId', 'required for the system actor')
      assertManage(ctx, ownerId)
      if (input.expiresAt && new Date(input.expiresAt).getTime() <= Date.now()) {
        throw fieldError('expiresAt', 'must be in the future')
      }
      const { token, hash, prefix } = newToken('api')
      const row = await db.transaction(async tx => {
        const [owner] = await tx
          .select({ active: users.active, roles: users.roles, organisationId: users.organisationId })
          .from(users)
          .where(eq(users.id, ownerId))
        if (!owner) throw fieldError('userId', 'no such user')
        if (!owner.active) throw fieldError('userId', 'user is disabled')
        // A pin narrows what the owner sees; pinning a customer's token elsewhere would leave it seeing nothing
        const staff = owner.roles.some(r => r !== 'customer' && r !== 'finance')
        if (input.organisationId && !staff && input.organisationId !== owner.organisationId) {
          throw fieldError('organisationId', "must be the owner's own organisation")
        }
        await assertOrganisation(tx, input.organisationId)
        const [created] = await tx
          .insert(apiTokens)
          .values({
            id: uuidv7(),
            userId: ownerId,
            name: input.name,
            tokenHash: hash,
            prefix,
            scopes: input.scopes,
            organisationId: input.organisationId ?? null,
            createdBy: ctx.actor.id,
            expiresAt: input.expiresAt ? new Date(input.expiresAt) : null
          })
          .returning()
        await recordAudit(tx, ctx, {
          entityType: 'api_token',
          entityId: created!.id,
          action: 'created',
          changes: [
            { field: 'userId', old: null, new: ownerId },
            { field: 'scopes', old: null, new: input.scopes },
            { field: 'organisationId', old: null, new: input.organisationId ?? null }
          ]
        })
        return created!
      })
      return { ...view(row), token }
    },

    /**
     * Rotation without downtime: a successor with the same owner, scopes and pin, while the old token
     * keeps working for `graceMinutes` so the integration can switch over.
     */
    async rotate(ctx: Ctx, id: string, input: { graceMinutes?: number; name?: string }) {
      const grace = input.graceMinutes ?? 60
      const { token, hash, prefix } = newToken('api')
      const row = await db.transaction(async tx => {
        const [old] = await tx.select().from(apiTokens).where(eq(apiTokens.id, id)).for('update')
        const mayManage =
          old && (old.userId === ctx.actor.id ? can(ctx.actor, 'token.manageOwn') : can(ctx.actor, 'token.manageAll'))
        if (!old || !mayManage) throw notFound('token')
        if (old.revokedAt || (old.expiresAt && old.expiresAt.getTime() <= Date.now())) {
          throw conflict('this token is revoked or expired; create a new one instead')
        }
        const oldUntil = new Date(Date.now() + grace * 60_000)
        const [created] = await tx
          .insert(apiTokens)
          .values({
            id: uuidv7(),
            userId: old.userId,
            name: input.name ?? old.name,
            tokenHash: hash,
            prefix,
            scopes: old.scopes,
            organisationId: old.organisationId,
            createdBy: ctx.actor.id,
            expiresAt: old.expiresAt
          })
          .returning()
        const newExpiry = old.expiresAt && old.expiresAt < oldUntil ? old.expiresAt : oldUntil
        await tx.update(apiTokens).set({ expiresAt: newExpiry }).where(eq(apiTokens.id, id))
        await recordAudit(tx, ctx, [
          {
            entityType: 'api_token',
            entityId: id,
            action: 'rotated',
            changes: [
              { field: 'expiresAt', old: old.expiresAt?.toISOString() ?? null, new: newExpiry.toISOString() },
              { field: 'successor', old: null, new: created!.id }
            ]
          },
          {
            entityType: 'api_token',
            entityId: created!.id,
            action: 'created',
            changes: [{ field: 'rotatedFrom', old: null, new: id }]
          }
        ])
        return created!
      })
      deps.authenticator.forgetCredential(id)
      return { ...view(row), token }
    },

    async list(ctx: Ctx, input: ListInput & { userId?: string }) {
      const all = can(ctx.actor, 'token.manageAll')
      if (!all) authorize(ctx.actor, 'token.manageOwn')
      const limit = input.limit ?? 50
      const where: SQL[] = []
      const owner = all ? input.userId : ctx.actor.id
      if (owner) where.push(eq(apiTokens.userId, owner))
      if (input.cursor) where.push(gt(apiTokens.id, parseIdCursor(input.cursor)))
      const rows = await db
        .select()
        .from(apiTokens)
        .where(and(...where))
        .orderBy(asc(apiTokens.id))
        .limit(limit + 1)
      return pageFromRows(rows.map(view), limit)
    },

    async revoke(ctx: Ctx, id: string): Promise<void> {
      await db.transaction(async tx => {
        const [row] = await tx.select().from(apiTokens).where(eq(apiTokens.id, id)).for('update')
        // A token you may not manage is answered as absent
        if (
          !row ||
          !(row.userId === ctx.actor.id ? can(ctx.actor, 'token.manageOwn') : can(ctx.actor, 'token.manageAll'))
        ) {
          throw notFound('token')
        }
        if (row.revokedAt) return
        await tx
          .update(apiTokens)
          .set({ revokedAt: new Date() })
          .where(and(eq(apiTokens.id, id), isNull(apiTokens.revokedAt)))
        await recordAudit(tx, ctx, {
          entityType: 'api_token',
          entityId: id,
          action: 'revoked',
          changes: [{ field: 'revokedAt', old: null, new: new Date().toISOString() }]
        })
      })
      deps.authenticator.forgetCredential(id)
    }
  }
}
