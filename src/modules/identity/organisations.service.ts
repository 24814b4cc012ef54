import { and, asc, eq, gt, ilike, inArray, type SQL, sql } from 'drizzle-orm'
import { authorize, can, organisationPin } from '../../auth/policy.js'
import { costCentres, organisations } from '../../db/schema/index.js'
import type { Ctx, Deps } from '../../lib/context.js'
import { conflictField, fieldError, notFound } from '../../lib/errors.js'
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

  /** The cost centre an organisation names must exist (422 naming costCentreId). */
  async function checkCostCentre(id: string | null | undefined) {
    if (!id) return
    const [row] = await db.select({ id: costCentres.id }).from(costCentres).where(eq(costCentres.id, id))
    if (!row) throw fieldError('costCentreId', 'no such cost centre')
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
      await checkCostCentre(input.costCentreId)
      const costCentreId = input.costCentreId?.toLowerCase() ?? null
      return db.transaction(async tx => {
        const [row] = await tx
          .insert(organisations)
          .values({ id: uuidv7(), name: input.name, costCentreId })
          .returning()
        await recordAudit(tx, ctx, {
          entityType: 'organisation',
          entityId: row!.id,
          action: 'created',
          changes: [
            { field: 'name', old: null, new: row!.name },
            ...(costCentreId ? [{ field: 'costCentreId', old: null, new: costCentreId }] : [])
          ]
        })
        return row!
      })
    },

    async update(ctx: Ctx, id: string, input: OrganisationInput): Promise<OrganisationRow> {
      authorize(ctx.actor, 'organisation.manage')
      await assertNameFree(input.name, id)
      await checkCostCentre(input.costCentreId)
      const set = {
        name: input.name,
        ...(input.costCentreId !== undefined ? { costCentreId: input.costCentreId?.toLowerCase() ?? null } : {})
      }
      return db.transaction(async tx => {
        const [before] = await tx.select().from(organisations).where(eq(organisations.id, id)).for('update')
        if (!before) throw notFound('organisation')
        const [row] = await tx
          .update(organisations)
          .set({ ...set, updatedAt: new Date() })
          .where(eq(organisations.id, id))
          .returning()
        await recordAudit(tx, ctx, {
          entityType: 'organisation',
          entityId: id,
          action: 'updated',
          changes: diff(before, set, ['name', 'costCentreId'])
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
