import { and, asc, eq, gt, or, type SQL, sql } from 'drizzle-orm'
import { authorize } from '../../auth/policy.js'
import { eventRoutingRules, teams } from '../../db/schema/index.js'
import type { Ctx, Deps, Queryable } from '../../lib/context.js'
import { decodeCursor, encodeCursor, pageOf } from '../../lib/cursor.js'
import { conflictField, fieldError, isUniqueViolation, notFound } from '../../lib/errors.js'
import { uuidv7 } from '../../lib/ids.js'
import { diff, recordAudit } from '../audit/audit.service.js'
import type { NormalisedEvent } from './events.model.js'
import type { RoutingRuleInput, RoutingRulePatchInput, RuleListInput, RuleMatchInput } from './events.schemas.js'

type RuleRow = typeof eventRoutingRules.$inferSelect
const SORT = 'routing-rules'
const CACHE_MS = 2000
const FIELDS = ['name', 'position', 'enabled', 'match', 'teamId', 'impact', 'urgency'] as const

const view = (r: RuleRow) => ({ ...r, match: r.match as RuleMatchInput })

export type RoutingRule = ReturnType<typeof view>

/** The first rule whose match holds for the event, or null. */
export const ruleFor = (rules: RoutingRule[], e: NormalisedEvent) => rules.find(r => ruleMatches(r.match, e)) ?? null

/** Does the rule's match hold for the event? Every named condition must. */
export function ruleMatches(match: RuleMatchInput, e: NormalisedEvent): boolean {
  if (match.source && match.source !== e.source) return false
  if (match.severities && !match.severities.includes(e.severity)) return false
  if (match.summaryContains && !e.summary.toLowerCase().includes(match.summaryContains.toLowerCase())) return false
  if (match.labels) {
    for (const [k, v] of Object.entries(match.labels)) if (e.labels[k] !== v) return false
  }
  return true
}

/**
 * Admin routing of monitoring events: the first enabled rule (lowest position) whose match holds names
 * the incident's team and, optionally, its impact and urgency. The ingest path reads the enabled rules
 * through a two-second per-process cache.
 */
export function createRoutingRuleService({ db }: Deps) {
  let cached: { at: number; rules: ReturnType<typeof view>[] } | null = null

  async function assertTeam(q: Queryable, id: string | null | undefined) {
    if (!id) return
    const [row] = await q.select({ id: teams.id }).from(teams).where(eq(teams.id, id))
    if (!row) throw fieldError('teamId', 'no such team')
  }

  async function mustLoad(q: Queryable, id: string, lock = false) {
    const query = q.select().from(eventRoutingRules).where(eq(eventRoutingRules.id, id))
    const [row] = lock ? await query.for('update') : await query
    if (!row) throw notFound('routing rule')
    return row
  }

  return {
    /** The enabled rules in order (read before an ingest transaction opens: PGlite has one connection). */
    async active() {
      if (!cached || Date.now() - cached.at > CACHE_MS) {
        const rows = await db
          .select()
          .from(eventRoutingRules)
          .where(eq(eventRoutingRules.enabled, true))
          .orderBy(asc(eventRoutingRules.position), asc(eventRoutingRules.id))
        cached = { at: Date.now(), rules: rows.map(view) }
      }
      return cached.rules
    },

    async list(ctx: Ctx, input: RuleListInput) {
      authorize(ctx.actor, 'event.read')
      const limit = input.limit ?? 50
      const where: SQL[] = []
      if (input.cursor) {
        const c = decodeCursor(input.cursor, SORT)
        where.push(
          or(
            gt(eventRoutingRules.position, Number(c.value)),
            and(eq(eventRoutingRules.position, Number(c.value)), gt(eventRoutingRules.id, c.id))
          ) as SQL
        )
      }
      const rows = await db
        .select()
        .from(eventRoutingRules)
        .where(and(...where))
        .orderBy(asc(eventRoutingRules.position), asc(eventRoutingRules.id))
        .limit(limit + 1)
      return pageOf(rows, limit, last => ({ sort: SORT, value: last.position, id: last.id }), view)
    },

    cursorOf: (r: { id: string; position: number }) => encodeCursor({ sort: SORT, value: r.position, id: r.id }),

    async get(ctx: Ctx, id: string) {
      authorize(ctx.actor, 'event.read')
      return view(await mustLoad(db, id))
    },

    async create(ctx: Ctx, input: RoutingRuleInput) {
      authorize(ctx.actor, 'config.manage')
      try {
        const created = await db.transaction(async tx => {
          await assertTeam(tx, input.teamId)
          const position =
            input.position ??
            Number(
              (
                await tx
                  .select({ next: sql<number>`coalesce(max(${eventRoutingRules.position}) + 10, 10)` })
                  .from(eventRoutingRules)
              )[0]?.next ?? 10
            )
          const [row] = await tx
            .insert(eventRoutingRules)
            .values({
              id: uuidv7(),
              name: input.name.trim(),
              position,
              enabled: input.enabled ?? true,
              match: input.match,
              teamId: input.teamId ?? null,
              impact: input.impact ?? null,
              urgency: input.urgency ?? null
            })
            .returning()
          await recordAudit(tx, ctx, {
            entityType: 'event_routing_rule',
            entityId: row!.id,
            action: 'created',
            changes: FIELDS.map(f => ({ field: f, old: null, new: row![f] ?? null }))
          })
          return view(row!)
        })
        cached = null
        return created
      } catch (err) {
        if (isUniqueViolation(err)) throw conflictField('name', 'a routing rule with this name exists')
        throw err
      }
    },

    async update(ctx: Ctx, id: string, input: RoutingRulePatchInput) {
      authorize(ctx.actor, 'config.manage')
      try {
        const updated = await db.transaction(async tx => {
          const before = await mustLoad(tx, id, true)
          if (input.teamId !== undefined) await assertTeam(tx, input.teamId)
          const set = { ...input, ...(input.name !== undefined ? { name: input.name.trim() } : {}) }
          const [row] = await tx
            .update(eventRoutingRules)
            .set({ ...set, updatedAt: new Date() })
            .where(eq(eventRoutingRules.id, id))
            .returning()
          const changes = diff<Record<string, unknown>>(before, set, [...FIELDS])
          if (changes.length) {
            await recordAudit(tx, ctx, { entityType: 'event_routing_rule', entityId: id, action: 'updated', changes })
          }
          return view(row!)
        })
        cached = null
        return updated
      } catch (err) {
        if (isUniqueViolation(err)) throw conflictField('name', 'a routing rule with this name exists')
        throw err
      }
    },

    async remove(ctx: Ctx, id: string) {
      authorize(ctx.actor, 'config.manage')
      await db.transaction(async tx => {
        const before = await mustLoad(tx, id, true)
        await tx.delete(eventRoutingRules).where(eq(eventRoutingRules.id, id))
        await recordAudit(tx, ctx, {
          entityType: 'event_routing_rule',
          entityId: id,
          action: 'deleted',
          changes: FIELDS.map(f => ({ field: f, old: before[f] ?? null, new: null }))
        })
      })
      cached = null
    }
  }
}

export type RoutingRuleService = ReturnType<typeof createRoutingRuleService>
