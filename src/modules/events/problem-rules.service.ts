import { and, asc, eq, gt, or, type SQL } from 'drizzle-orm'
import type { Actor } from '../../auth/actor.js'
import { authorize } from '../../auth/policy.js'
import { problemRules, teams } from '../../db/schema/index.js'
import type { Ctx, Deps, Queryable } from '../../lib/context.js'
import { decodeCursor, encodeCursor, pageOf } from '../../lib/cursor.js'
import { conflictField, fieldError, isUniqueViolation, notFound } from '../../lib/errors.js'
import { uuidv7 } from '../../lib/ids.js'
import { diff, recordAudit } from '../audit/audit.service.js'
import type { LinkService } from '../links/links.service.js'
import type { TicketService } from '../tickets/tickets.service.js'
import type { WorkflowService } from '../workflows/workflows.service.js'
import type { ProblemRuleInput, ProblemRulePatchInput, RuleListInput } from './events.schemas.js'
import { createProblemDetector, type DetectionSummary } from './problem-detector.js'

type RuleRow = typeof problemRules.$inferSelect
const SORT = 'problem-rules'
const FIELDS = ['name', 'enabled', 'groupBy', 'threshold', 'windowMinutes', 'source', 'teamId'] as const

export type ProblemRule = RuleRow

export interface ProblemRuleDeps extends Deps {
  tickets: TicketService
  links: LinkService
  workflows: WorkflowService
}

/**
 * Admin-editable problem detection: a rule names how incidents are grouped (CI, fingerprint, family or
 * category), how many within how many minutes make a problem, optionally which monitoring source
 * counts, and the team the problems it opens go to. `detect` evaluates them (the scheduler runs it
 * every minute; admins may run one rule at once).
 */
export function createProblemRuleService(deps: ProblemRuleDeps) {
  const { db } = deps
  const detector = createProblemDetector(deps)

  async function assertTeam(q: Queryable, id: string | null | undefined) {
    if (!id) return
    const [row] = await q.select({ id: teams.id }).from(teams).where(eq(teams.id, id))
    if (!row) throw fieldError('teamId', 'no such team')
  }

  async function mustLoad(q: Queryable, id: string, lock = false) {
    const query = q.select().from(problemRules).where(eq(problemRules.id, id))
    const [row] = lock ? await query.for('update') : await query
    if (!row) throw notFound('problem rule')
    return row
  }

  /** A blank source means "any source", as null does. */
  const sourceOf = (s: string | null | undefined) => (s === undefined ? undefined : s?.trim() ? s.trim() : null)

  return {
    async list(ctx: Ctx, input: RuleListInput) {
      authorize(ctx.actor, 'event.read')
      const limit = input.limit ?? 50
      const where: SQL[] = []
      if (input.cursor) {
        const c = decodeCursor(input.cursor, SORT)
        const name = String(c.value)
        where.push(or(gt(problemRules.name, name), and(eq(problemRules.name, name), gt(problemRules.id, c.id))) as SQL)
      }
      const rows = await db
        .select()
        .from(problemRules)
        .where(and(...where))
        .orderBy(asc(problemRules.name), asc(problemRules.id))
        .limit(limit + 1)
      return pageOf(rows, limit, last => ({ sort: SORT, value: last.name, id: last.id }))
    },

    cursorOf: (r: { id: string; name: string }) => encodeCursor({ sort: SORT, value: r.name, id: r.id }),

    async get(ctx: Ctx, id: string) {
      authorize(ctx.actor, 'event.read')
      return mustLoad(db, id)
    },

    async create(ctx: Ctx, input: ProblemRuleInput) {
      authorize(ctx.actor, 'config.manage')
      try {
        return await db.transaction(async tx => {
          await assertTeam(tx, input.teamId)
          const [row] = await tx
            .insert(problemRules)
            .values({
              id: uuidv7(),
              name: input.name.trim(),
              enabled: input.enabled ?? true,
              groupBy: input.groupBy,
              threshold: input.threshold,
              windowMinutes: input.windowMinutes,
              source: sourceOf(input.source) ?? null,
              teamId: input.teamId ?? null
            })
            .returning()
          await recordAudit(tx, ctx, {
            entityType: 'problem_rule',
            entityId: row!.id,
            action: 'created',
            changes: FIELDS.map(f => ({ field: f, old: null, new: row![f] ?? null }))
          })
          return row!
        })
      } catch (err) {
        if (isUniqueViolation(err)) throw conflictField('name', 'a problem rule with this name exists')
        throw err
      }
    },

    async update(ctx: Ctx, id: string, input: ProblemRulePatchInput) {
      authorize(ctx.actor, 'config.manage')
      try {
        return await db.transaction(async tx => {
          const before = await mustLoad(tx, id, true)
          if (input.teamId !== undefined) await assertTeam(tx, input.teamId)
          const set: Partial<RuleRow> = { ...input } as Partial<RuleRow>
          if (input.name !== undefined) set.name = input.name.trim()
          if (input.source !== undefined) set.source = sourceOf(input.source) ?? null
          const changes = diff<Record<string, unknown>>(before, set, [...FIELDS])
          if (changes.length === 0) return before
          const [row] = await tx
            .update(problemRules)
            .set({ ...set, updatedAt: new Date() })
            .where(eq(problemRules.id, id))
            .returning()
          await recordAudit(tx, ctx, { entityType: 'problem_rule', entityId: id, action: 'updated', changes })
          return row!
        })
      } catch (err) {
        if (isUniqueViolation(err)) throw conflictField('name', 'a problem rule with this name exists')
        throw err
      }
    },

    /** Deleting a rule forgets which problems it opened (the problems and their links stay). */
    async remove(ctx: Ctx, id: string) {
      authorize(ctx.actor, 'config.manage')
      await db.transaction(async tx => {
        const before = await mustLoad(tx, id, true)
        await tx.delete(problemRules).where(eq(problemRules.id, id))
        await recordAudit(tx, ctx, {
          entityType: 'problem_rule',
          entityId: id,
          action: 'deleted',
          changes: FIELDS.map(f => ({ field: f, old: before[f] ?? null, new: null }))
        })
      })
    },

    /**
     * Evaluates every enabled rule, or only the one named (enabled or not: an admin trying it out).
     * Writes act as the system, with a person's id so notes and audit rows have an author: the caller's
     * when a person asked, otherwise the requester of each group's newest incident.
     */
    async detect(ctx: Ctx, ruleId?: string): Promise<DetectionSummary> {
      authorize(ctx.actor, 'config.manage')
      const rules = ruleId
        ? [await mustLoad(db, ruleId)]
        : await db
            .select()
            .from(problemRules)
            .where(eq(problemRules.enabled, true))
            .orderBy(asc(problemRules.name), asc(problemRules.id))
      const label = ctx.actor.kind === 'system' ? ctx.actor.username : `problem-detection:${ctx.actor.username}`
      const actingAs = (requesterId: string): Ctx => ({
        ...ctx,
        actor: { ...ctx.actor, kind: 'system', id: ctx.actor.id ?? requesterId, username: label } as Actor
      })
      return detector.run(ctx, rules, actingAs)
    }
  }
}

export type ProblemRuleService = ReturnType<typeof createProblemRuleService>
