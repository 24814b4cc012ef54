import { and, asc, eq } from 'drizzle-orm'
import { can } from '../../auth/policy.js'
import { smsBlockedNumbers, users } from '../../db/schema/index.js'
import type { Ctx, Deps } from '../../lib/context.js'
import { forbidden, notFound } from '../../lib/errors.js'
import { recordAudit } from '../audit/audit.service.js'

/** The user themselves or a user admin. */
function authorizeFor(ctx: Ctx, userId: string) {
  if (ctx.actor.kind === 'system' || ctx.actor.id === userId || can(ctx.actor, 'user.manage')) return
  throw forbidden('only the user themselves or a user admin sees their SMS blocks')
}

/**
 * Numbers an SMS gateway refused for good (SMTP 5xx for that address): not texted again until the
 * user edits their number (users.service clears them then) or someone clears the block here.
 */
export function createSmsBlockService({ db }: Deps) {
  async function mustExist(ctx: Ctx, userId: string) {
    authorizeFor(ctx, userId)
    const [u] = await db.select({ id: users.id }).from(users).where(eq(users.id, userId))
    if (!u) throw notFound('user')
  }
  return {
    async list(ctx: Ctx, userId: string) {
      await mustExist(ctx, userId)
      const items = await db
        .select({
          phone: smsBlockedNumbers.phone,
          reason: smsBlockedNumbers.reason,
          createdAt: smsBlockedNumbers.createdAt
        })
        .from(smsBlockedNumbers)
        .where(eq(smsBlockedNumbers.userId, userId))
        .orderBy(asc(smsBlockedNumbers.phone))
      return { items, nextCursor: null }
    },
    async clear(ctx: Ctx, userId: string, phone: string) {
      await mustExist(ctx, userId)
      await db.transaction(async tx => {
        const gone = await tx
          .delete(smsBlockedNumbers)
          .where(and(eq(smsBlockedNumbers.userId, userId), eq(smsBlockedNumbers.phone, phone)))
          .returning()
        if (gone.length === 0) throw notFound('SMS block')
        await recordAudit(tx, ctx, {
          entityType: 'user',
          entityId: userId,
          action: 'sms_block.cleared',
          changes: [{ field: 'smsBlocks', old: [phone], new: null }]
        })
      })
    }
  }
}

export type SmsBlockService = ReturnType<typeof createSmsBlockService>
