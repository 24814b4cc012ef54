import { asc, eq, sql } from 'drizzle-orm'
import { authorize } from '../../auth/policy.js'
import { eventRoutingRules, teams } from '../../db/schema/index.js'
import type { Ctx, Deps, Queryable } from '../../lib/context.js'
import { fieldError } from '../../lib/errors.js'
import { columnKeyset, intValue } from '../../lib/keyset.js'
import { adminResource } from '../admin/admin-resource.js'
import type { NormalisedEvent } from './events.model.js'
import type { RoutingRuleInput, RoutingRulePatchInput, RuleListInput, RuleMatchInput } from './events.schemas.js'

type RuleRow = typeof eventRoutingRules.$inferSelect
const CACHE_MS = 2000
const FIELDS = ['name', 'position', 'enabled', 'match', 'teamId', 'impact', 'urgency'] as const

const view = (r: RuleRow) => ({ ...r, match: r.match as RuleMatchInput })

export type RoutingRule = ReturnType<typeof view>

export const routingRuleKeyset = columnKeyset<RuleRow, number>(
  'routing-rules',
  eventRoutingRules.position,
  eventRoutingRules.id,
  r => r.position,
  intValue
)

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

/** A team a rule names must exist (422 naming the field otherwise). */
export async function assertTeam(q: Queryable, id: string | null | undefined, field = 'teamId') {
  if (!id) return
  const [row] = await q.select({ id: teams.id }).from(teams).where(eq(teams.id, id))
  if (!row) throw fieldError(field, 'no such team')
}

/**
 * Admin routing of monitoring events: the first enabled rule (lowest position) whose match holds names
 * the incident's team and, optionally, its impact and urgency. The ingest path reads the enabled rules
 * through a two-second per-process cache.
 */
export function createRoutingRuleService({ db }: Deps) {
  let cached: { at: number; rules: RoutingRule[] } | null = null
  const rules = adminResource<RuleRow, RoutingRule>(db, {
    table: eventRoutingRules,
    id: eventRoutingRules.id,
    version: eventRoutingRules.version,
    entityType: 'event_routing_rule',
    noun: 'routing rule',
    fields: FIELDS,
    unique: { event_routing_rules_name_uq: { field: 'name', message: 'a routing rule with this name exists' } },
    view,
    authorizeRead: ctx => authorize(ctx.actor, 'event.read'),
    authorizeWrite: ctx => authorize(ctx.actor, 'config.manage'),
    changed: () => {
      cached = null
    }
  })

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

    list: (ctx: Ctx, input: RuleListInput) => rules.list(ctx, input, routingRuleKeyset),
    cursorOf: routingRuleKeyset.cursorOf,
    get: rules.get,

    create: (ctx: Ctx, input: RoutingRuleInput) =>
      rules.create(ctx, async tx => {
        await assertTeam(tx, input.teamId)
        const [next] = await tx
          .select({ n: sql<number>`coalesce(max(${eventRoutingRules.position}) + 10, 10)` })
          .from(eventRoutingRules)
        return {
          name: input.name.trim(),
          position: input.position ?? Number(next?.n ?? 10),
          enabled: input.enabled ?? true,
          match: input.match,
          teamId: input.teamId ?? null,
          impact: input.impact ?? null,
          urgency: input.urgency ?? null
        }
      }),

    update: (ctx: Ctx, id: string, input: RoutingRulePatchInput, expectedVersion?: number) =>
      rules.update(ctx, id, expectedVersion, async tx => {
        if (input.teamId !== undefined) await assertTeam(tx, input.teamId)
        return { ...input, ...(input.name !== undefined ? { name: input.name.trim() } : {}) }
      }),

    remove: (ctx: Ctx, id: string, expectedVersion?: number) => rules.remove(ctx, id, expectedVersion)
  }
}

export type RoutingRuleService = ReturnType<typeof createRoutingRuleService>
