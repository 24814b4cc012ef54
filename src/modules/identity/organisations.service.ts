import { and, asc, eq, gt, ilike, inArray, type SQL, sql } from 'drizzle-orm'
import { authorize, can, organisationPin } from '../../auth/policy.js'
import { organisations } from '../../db/schema/index.js'
import type { Ctx, Deps } from '../../lib/context.js'
import { conflictField, notFound } from '../../lib/errors.js'
import { uuidv7 } from '../../lib/ids.js'
import { diff, recordAudit } from '../audit/audit.service.js'
import type { ListInput, OrganisationInput } from './identity.schemas.js'
import { pageFromRows, parseIdCursor } from './paging.js'

export type OrganisationRow = typeof organisations.$inferSelect

export function createOrganisationService({ db }: Deps) {
  async function assertNameFree(name: string, exceptId?: string) {
    const [row] = await db
      .select({ id: organisations.id })
      .from(organisations)
      .where(sql`lower(${organisations.name}) = lower(${name})`)
    if (row && row.id !== exceptId) throw conflictField('name', 'an organisation with this name exists')
  }

  return {
    async get(ctx: Ctx, id: string): Promise<OrganisationRow> {
      // A customer may read their own organisation; reading others is directory access
      if (ctx.actor.organisationId !== id) authorize(ctx.actor, 'directory.read')
      const pin = organisationPin(ctx.actor)
      const [row] = await db.select().from(organisations).where(eq(organisations.id, id))
      if (!row || (pin && row.id !== pin)) throw notFound('organisation')
      return row
    },

    async list(ctx: Ctx, input: ListInput) {
      authorize(ctx.actor, 'directory.read')
      const limit = input.limit ?? 50
      const where: SQL[] = []
      if (input.q) where.push(ilike(organisations.name, `%${input.q.replace(/[\\%_]/g, m => `\\${m}`)}%`))
      if (input.cursor) where.push(gt(organisations.id, parseIdCursor(input.cursor)))
      const pin = organisationPin(ctx.actor)
      if (pin) where.push(eq(organisations.id, pin))
      const rows = await db
        .select()
        .from(organisations)
        .where(and(...where))
        .orderBy(asc(organisations.id))
        .limit(limit + 1)
      return pageFromRows(rows, limit)
    },

    async create(ctx: Ctx, input: OrganisationInput): Promise<OrganisationRow> {
      authorize(ctx.actor, 'organisation.manage')
      await assertNameFree(input.name)
      return db.transaction(async tx => {
        const [row] = await tx.insert(organisations).values({ id: uuidv7(), name: input.name }).returning()
        await recordAudit(tx, ctx, {
          entityType: 'organisation',
          entityId: row!.id,
          action: 'created',
          changes: [{ field: 'name', old: null, new: row!.name }]
        })
        return row!
      })
    },

    async update(ctx: Ctx, id: string, input: OrganisationInput): Promise<OrganisationRow> {
      authorize(ctx.actor, 'organisation.manage')
      await assertNameFree(input.name, id)
      return db.transaction(async tx => {
        const [before] = await tx.select().from(organisations).where(eq(organisations.id, id)).for('update')
        if (!before) throw notFound('organisation')
        const [row] = await tx
          .update(organisations)
          .set({ name: input.name, updatedAt: new Date() })
          .where(eq(organisations.id, id))
          .returning()
        await recordAudit(tx, ctx, {
          entityType: 'organisation',
          entityId: id,
          action: 'updated',
          changes: diff(before, input, ['name'])
        })
        return row!
      })
    },

    async byIds(ctx: Ctx, ids: readonly string[]): Promise<(OrganisationRow | null)[]> {
      const all = can(ctx.actor, 'directory.read')
      const rows = ids.length
        ? await db
            .select()
            .from(organisations)
            .where(inArray(organisations.id, [...ids]))
        : []
      const byId = new Map(rows.map(r => [r.id, r]))
      return ids.map(id => (all || id === ctx.actor.organisationId ? (byId.get(id) ?? null) : null))
    }
  }
}
