import { and, asc, eq, gt, ilike, inArray, type SQL, sql } from 'drizzle-orm'
import { authorize, can } from '../../auth/policy.js'
import { teamLayers, teamMembers, teams, users } from '../../db/schema/index.js'
import type { Ctx, Deps, Queryable } from '../../lib/context.js'
import { conflict, conflictField, fieldError, notFound } from '../../lib/errors.js'
import { uuidv7 } from '../../lib/ids.js'
import { diff, recordAudit } from '../audit/audit.service.js'
import type { CreateTeamInput, ListInput, TeamMemberInput, UpdateTeamInput } from './identity.schemas.js'
import { pageFromRows, parseIdCursor } from './paging.js'

type TeamRow = typeof teams.$inferSelect
export interface TeamLayerView {
  level: number
  name: string
  /** user ids, in order */
  members: string[]
}
export interface TeamView extends TeamRow {
  layers: TeamLayerView[]
}

const DEFAULT_LAYERS = [{ name: '1st line' }, { name: '2nd line' }, { name: '3rd line' }]

async function assertUser(q: Queryable, id: string | null | undefined, field: string) {
  if (!id) return
  const [row] = await q.select({ id: users.id, active: users.active }).from(users).where(eq(users.id, id))
  if (!row) throw fieldError(field, 'no such user')
  if (!row.active) throw fieldError(field, 'user is disabled')
}

/** Teams with ordered escalation layers and members per layer. */
export function createTeamService({ db }: Deps) {
  async function withLayers(q: Queryable, rows: TeamRow[]): Promise<TeamView[]> {
    if (rows.length === 0) return []
    const ids = rows.map(r => r.id)
    const [layers, members] = await Promise.all([
      q.select().from(teamLayers).where(inArray(teamLayers.teamId, ids)).orderBy(asc(teamLayers.level)),
      q.select().from(teamMembers).where(inArray(teamMembers.teamId, ids)).orderBy(asc(teamMembers.createdAt))
    ])
    return rows.map(team => ({
      ...team,
      layers: layers
        .filter(l => l.teamId === team.id)
        .map(l => ({
          level: l.level,
          name: l.name,
          members: members.filter(m => m.teamId === team.id && m.level === l.level).map(m => m.userId)
        }))
    }))
  }

  async function load(q: Queryable, id: string): Promise<TeamView> {
    const [row] = await q.select().from(teams).where(eq(teams.id, id))
    if (!row) throw notFound('team')
    return (await withLayers(q, [row]))[0]!
  }

  async function assertNameFree(q: Queryable, name: string, exceptId?: string) {
    const [row] = await q.select({ id: teams.id }).from(teams).where(sql`lower(${teams.name}) = lower(${name})`)
    if (row && row.id !== exceptId) throw conflictField('name', 'a team with this name exists')
  }

  return {
    async get(ctx: Ctx, id: string) {
      authorize(ctx.actor, 'directory.read')
      return load(db, id)
    },

    async list(ctx: Ctx, input: ListInput) {
      authorize(ctx.actor, 'directory.read')
      const limit = input.limit ?? 50
      const where: SQL[] = []
      if (input.q) where.push(ilike(teams.name, `%${input.q.replace(/[\\%_]/g, m => `\\${m}`)}%`))
      if (input.cursor) where.push(gt(teams.id, parseIdCursor(input.cursor)))
      const rows = await db
        .select()
        .from(teams)
        .where(and(...where))
        .orderBy(asc(teams.id))
        .limit(limit + 1)
      const page = pageFromRows(rows, limit)
      return { items: await withLayers(db, page.items), nextCursor: page.nextCursor }
    },

    /** Teams by id for loaders. Anyone who sees a ticket may see which team works it; members only with directory access. */
    async byIds(ctx: Ctx, ids: readonly string[]) {
      const rows = ids.length
        ? await db
            .select()
            .from(teams)
            .where(inArray(teams.id, [...ids]))
        : []
      const views = await withLayers(db, rows)
      const full = can(ctx.actor, 'directory.read')
      const byId = new Map(
        views.map(v => [v.id, full ? v : { ...v, layers: v.layers.map(l => ({ ...l, members: [] as string[] })) }])
      )
      return ids.map(id => byId.get(id) ?? null)
    },

    async create(ctx: Ctx, input: CreateTeamInput) {
      authorize(ctx.actor, 'team.manage')
      return db.transaction(async tx => {
        await assertNameFree(tx, input.name)
        await assertUser(tx, input.managerId, 'managerId')
        const id = uuidv7()
        await tx.insert(teams).values({
          id,
          name: input.name,
          description: input.description ?? null,
          managerId: input.managerId ?? null
        })
        const layers = input.layers ?? DEFAULT_LAYERS
        await tx.insert(teamLayers).values(layers.map((l, i) => ({ teamId: id, level: i + 1, name: l.name })))
        await recordAudit(tx, ctx, {
          entityType: 'team',
          entityId: id,
          action: 'created',
          changes: [
            { field: 'name', old: null, new: input.name },
            { field: 'managerId', old: null, new: input.managerId ?? null },
            { field: 'layers', old: null, new: layers.map(l => l.name) }
          ]
        })
        return load(tx, id)
      })
    },

    async update(ctx: Ctx, id: string, input: UpdateTeamInput) {
      authorize(ctx.actor, 'team.manage')
      return db.transaction(async tx => {
        const [before] = await tx.select().from(teams).where(eq(teams.id, id)).for('update')
        if (!before) throw notFound('team')
        if (input.name) await assertNameFree(tx, input.name, id)
        if (input.managerId !== undefined) await assertUser(tx, input.managerId, 'managerId')
        const { layers, ...fields } = input
        const changes = diff(before, fields, ['name', 'description', 'managerId'])
        if (Object.keys(fields).length > 0) {
          await tx
            .update(teams)
            .set({ ...fields, updatedAt: new Date() })
            .where(eq(teams.id, id))
        }
        if (layers) {
          const current = (await withLayers(tx, [before]))[0]!.layers
          const dropped = current.filter(l => l.level > layers.length)
          const busy = dropped.find(l => l.members.length > 0)
          if (busy) throw conflict(`layer ${busy.level} (${busy.name}) still has members; move them first`)
          if (dropped.length > 0) {
            await tx.delete(teamLayers).where(and(eq(teamLayers.teamId, id), gt(teamLayers.level, layers.length)))
          }
          for (const [i, l] of layers.entries()) {
            await tx
              .insert(teamLayers)
              .values({ teamId: id, level: i + 1, name: l.name })
              .onConflictDoUpdate({ target: [teamLayers.teamId, teamLayers.level], set: { name: l.name } })
          }
          changes.push({ field: 'layers', old: current.map(l => l.name), new: layers.map(l => l.name) })
        }
        await recordAudit(tx, ctx, { entityType: 'team', entityId: id, action: 'updated', changes })
        return load(tx, id)
      })
    },

    async addMember(ctx: Ctx, teamId: string, input: TeamMemberInput) {
      authorize(ctx.actor, 'team.manage')
      return db.transaction(async tx => {
        const team = await load(tx, teamId)
        if (!team.layers.some(l => l.level === input.level)) {
          throw fieldError('level', `team has layers 1 to ${team.layers.length}`)
        }
        await assertUser(tx, input.userId, 'userId')
        const inserted = await tx
          .insert(teamMembers)
          .values({ teamId, level: input.level, userId: input.userId })
          .onConflictDoNothing()
          .returning()
        if (inserted.length > 0) {
          await recordAudit(tx, ctx, {
            entityType: 'team',
            entityId: teamId,
            action: 'member.added',
            changes: [{ field: `layers.${input.level}.members`, old: null, new: input.userId }]
          })
        }
        return load(tx, teamId)
      })
    },

    async removeMember(ctx: Ctx, teamId: string, userId: string, level?: number) {
      authorize(ctx.actor, 'team.manage')
      return db.transaction(async tx => {
        await load(tx, teamId)
        const where = [eq(teamMembers.teamId, teamId), eq(teamMembers.userId, userId)]
        if (level !== undefined) where.push(eq(teamMembers.level, level))
        const removed = await tx
          .delete(teamMembers)
          .where(and(...where))
          .returning()
        if (removed.length === 0) throw notFound('team member')
        await recordAudit(
          tx,
          ctx,
          removed.map(m => ({
            entityType: 'team',
            entityId: teamId,
            action: 'member.removed',
            changes: [{ field: `layers.${m.level}.members`, old: userId, new: null }]
          }))
        )
        return load(tx, teamId)
      })
    },

    /** Whether a user may be assigned work at this team and layer. */
    async isMember(q: Queryable, teamId: string, level: number, userId: string): Promise<boolean> {
      const [row] = await q
        .select({ userId: teamMembers.userId })
        .from(teamMembers)
        .where(and(eq(teamMembers.teamId, teamId), eq(teamMembers.level, level), eq(teamMembers.userId, userId)))
      return !!row
    },

    load
  }
}
