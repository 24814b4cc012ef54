import { asc, eq } from 'drizzle-orm'
import type { Actor } from '../../auth/actor.js'
import { authorize } from '../../auth/policy.js'
import { problemRules } from '../../db/schema/index.js'
import type { Ctx, Deps } from '../../lib/context.js'
import { textKeyset } from '../../lib/keyset.js'
import { adminResource } from '../admin/admin-resource.js'
import type { LinkService } from '../links/links.service.js'
import type { TicketService } from '../tickets/tickets.service.js'
import type { WorkflowService } from '../workflows/workflows.service.js'
import type { ProblemRuleInput, ProblemRulePatchInput, RuleListInput } from './events.schemas.js'
import { createProblemDetector, type DetectionSummary } from './problem-detector.js'
import { assertTeam } from './routing-rules.service.js'

type RuleRow = typeof problemRules.$inferSelect
const FIELDS = ['name', 'enabled', 'groupBy', 'threshold', 'windowMinutes', 'source', 'teamId'] as const

export type ProblemRule = RuleRow

export const problemRuleKeyset = textKeyset<RuleRow>('problem-rules', problemRules.name, problemRules.id, r => r.name)

export interface ProblemRuleDeps extends Deps {
  tickets: TicketService
  links: LinkService
  workflows: WorkflowService
}

/** A blank source means "any source", as null does. */
const sourceOf = (s: string | null | undefined) => (s === undefined ? undefined : s?.trim() ? s.trim() : null)

/**
 * Admin-editable problem detection: a rule names how incidents are grouped (CI, fingerprint, family or
 * category), how many within how many minutes make a problem, optionally which monitoring source
 * counts, and the team the problems it opens go to. `detect` evaluates them (the scheduler runs it
 * every minute; admins may run one rule at once).
 */
export function createProblemRuleService(deps: ProblemRuleDeps) {
  const { db } = deps
  const detector = createProblemDetector(deps)
  const rules = adminResource<RuleRow, RuleRow>(db, {
    table: problemRules,
    id: problemRules.id,
    version: problemRules.version,
    entityType: 'problem_rule',
    noun: 'problem rule',
    fields: FIELDS,
    unique: { problem_rules_name_uq: { field: 'name', message: 'a problem rule with this name exists' } },
    view: r => r,
    authorizeRead: ctx => authorize(ctx.actor, 'event.read'),
    authorizeWrite: ctx => authorize(ctx.actor, 'config.manage')
  })

  return {
    list: (ctx: Ctx, input: RuleListInput) => rules.list(ctx, input, problemRuleKeyset),
    cursorOf: problemRuleKeyset.cursorOf,
    get: rules.get,

    create: (ctx: Ctx, input: ProblemRuleInput) =>
      rules.create(ctx, async tx => {
        await assertTeam(tx, input.teamId)
        return {
          name: input.name.trim(),
          enabled: input.enabled ?? true,
          groupBy: input.groupBy,
          threshold: input.threshold,
          windowMinutes: input.windowMinutes,
          source: sourceOf(input.source) ?? null,
          teamId: input.teamId ?? null
        }
      }),

    update: (ctx: Ctx, id: string, input: ProblemRulePatchInput, expectedVersion?: number) =>
      rules.update(ctx, id, expectedVersion, async tx => {
        if (input.teamId !== undefined) await assertTeam(tx, input.teamId)
        return {
          ...input,
          ...(input.name !== undefined ? { name: input.name.trim() } : {}),
          ...(input.source !== undefined ? { source: sourceOf(input.source) ?? null } : {})
        }
      }),

    /** Deleting a rule forgets which problems it opened (the problems and their links stay). */
    remove: (ctx: Ctx, id: string, expectedVersion?: number) => rules.remove(ctx, id, expectedVersion),

    /**
     * Evaluates every enabled rule, or only the one named (enabled or not: an admin trying it out).
     * Writes act as the system, with a person's id so notes and audit rows have an author: the caller's
     * when a person asked, otherwise the requester of each group's newest incident.
     */
    async detect(ctx: Ctx, ruleId?: string): Promise<DetectionSummary> {
      authorize(ctx.actor, 'config.manage')
      const due = ruleId
        ? [await rules.load(db, ruleId)]
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
      return detector.run(ctx, due, actingAs)
    }
  }
}

export type ProblemRuleService = ReturnType<typeof createProblemRuleService>
