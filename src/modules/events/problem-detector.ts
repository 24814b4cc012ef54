import { and, desc, eq, inArray, type SQL, sql } from 'drizzle-orm'
import {
  configurationItems,
  detectedProblems,
  eventAlerts,
  problemRules,
  ticketCis,
  tickets
} from '../../db/schema/index.js'
import { type Ctx, type Deps, type Tx, type TxCtx, withTx } from '../../lib/context.js'
import { AppError } from '../../lib/errors.js'
import type { LinkService } from '../links/links.service.js'
import { CAUSED_BY, problemsOfIncidents } from '../problems/problems.hooks.js'
import { formatNumber } from '../tickets/kinds.js'
import type { TicketView } from '../tickets/tickets.repository.js'
import type { CreateTicketInput } from '../tickets/tickets.schemas.js'
import type { TicketService } from '../tickets/tickets.service.js'
import type { Workflow, WorkflowService } from '../workflows/workflows.service.js'
import { clip } from './events.model.js'

/** Work per run is bounded: the groups with the newest incidents first, each group's newest incidents. */
export const MAX_GROUPS_PER_RUN = 1000
export const MAX_INCIDENTS_PER_GROUP = 500

export interface DetectionSummary {
  rules: number
  groups: number
  problemsOpened: number
  problemsUpdated: number
  incidentsLinked: number
  /** Groups whose transaction failed (logged); the next run tries them again. */
  groupsFailed: number
}

type Rule = typeof problemRules.$inferSelect

interface Member {
  id: string
  number: number
  title: string
  requesterId: string
}

interface Grouping {
  from: SQL
  key: SQL
  where: SQL[]
}

const rowsOf = (r: unknown) => (r as { rows: Record<string, unknown>[] }).rows

/** Is the incident (outer row `t`) already caused by a problem? */
const linked = sql`exists (select 1 from ticket_links l join ${tickets} p on p.id = l.to_id
  where l.from_id = t.id and l.type = ${CAUSED_BY} and p.kind = 'problem')`

/** Which rows a rule reads and what it groups them by (the incident is always `t`). */
function groupingOf(rule: Rule): Grouping {
  const { source } = rule
  const fromSource = source
    ? [sql`exists (select 1 from ${eventAlerts} s where s.incident_id = t.id and s.source = ${source})`]
    : []
  const alertSource = source ? [sql`g.source = ${source}`] : []
  switch (rule.groupBy) {
    case 'ci':
      return {
        from: sql`${tickets} t join ${ticketCis} g on g.ticket_id = t.id`,
        key: sql`g.ci_id::text`,
        where: fromSource
      }
    case 'fingerprint':
      // Length-prefixed, so a source containing "/" cannot make two fingerprints one key
      return {
        from: sql`${tickets} t join ${eventAlerts} g on g.incident_id = t.id`,
        key: sql`length(g.source) || ':' || g.source || '/' || g.dedup_key`,
        where: alertSource
      }
    case 'family':
      return {
        from: sql`${tickets} t join ${eventAlerts} g on g.incident_id = t.id`,
        key: sql`g.family`,
        where: [sql`g.family is not null`, ...alertSource]
      }
    case 'category':
      return { from: sql`${tickets} t`, key: sql`t.category`, where: [sql`t.category is not null`, ...fromSource] }
    default:
      throw new Error(`problem rule ${rule.id}: unknown grouping ${rule.groupBy}`)
  }
}

const inWindow = (rule: Rule, g: Grouping) =>
  sql.join(
    [sql`t.kind = 'incident'`, sql`t.created_at >= now() - make_interval(mins => ${rule.windowMinutes})`, ...g.where],
    sql` and `
  )

export const windowText = (minutes: number) => (minutes % 60 === 0 ? `${minutes / 60} h` : `${minutes} min`)

function parseFingerprint(key: string) {
  const colon = key.indexOf(':')
  const length = Number(key.slice(0, colon))
  return { source: key.slice(colon + 1, colon + 1 + length), fingerprint: key.slice(colon + 2 + length) }
}

/**
 * Groups recurring incidents into problems. Per rule one query finds the groups (at or over the
 * threshold, with an incident not yet linked to any problem); each group is then its own transaction,
 * serialised per (rule, group key) by an advisory lock, so two schedulers or an admin's "run now" never
 * both open a problem for it. An open problem the rule opened earlier for the key takes the new
 * incidents; otherwise, with enough unlinked incidents, a new problem is opened. An incident already
 * caused by a problem is never moved.
 */
export function createProblemDetector(
  deps: Deps & { tickets: TicketService; links: LinkService; workflows: WorkflowService }
) {
  const { db } = deps

  /** Group keys of a rule with work to do, newest activity first. */
  async function groupsOf(rule: Rule, openStatuses: string[], limit: number): Promise<string[]> {
    const g = groupingOf(rule)
    const rows = await db.execute(sql`
      select m.key from (
        select distinct t.id, ${g.key} as key, t.created_at, ${linked} as linked
        from ${g.from} where ${inWindow(rule, g)}
      ) m
      group by m.key
      having count(*) >= ${rule.threshold}
        and count(*) filter (where not m.linked) > 0
        and (count(*) filter (where not m.linked) >= ${rule.threshold}
          or exists (select 1 from ${detectedProblems} dp join ${tickets} p on p.id = dp.problem_id
            where dp.rule_id = ${rule.id} and dp.group_key = m.key and p.status = any(${sql.param(openStatuses)}::text[])))
      order by max(m.created_at) desc, m.key
      limit ${limit}`)
    return rowsOf(rows).map(r => String(r.key))
  }

  /** The group's incidents in the window, newest first (at most MAX_INCIDENTS_PER_GROUP). */
  async function membersOf(tx: Tx, rule: Rule, key: string): Promise<Member[]> {
    const g = groupingOf(rule)
    const rows = await tx.execute(sql`
      select distinct t.id, t.number, t.title, t.requester_id, t.created_at
      from ${g.from} where ${inWindow(rule, g)} and ${g.key} = ${key}
      order by t.created_at desc, t.id desc
      limit ${MAX_INCIDENTS_PER_GROUP}`)
    return rowsOf(rows).map(r => ({
      id: String(r.id),
      number: Number(r.number),
      title: String(r.title),
      requesterId: String(r.requester_id)
    }))
  }

  /** How people read the group key: "on CI srv-app01", "in category Network/WAN". */
  async function describeKey(tx: Tx, rule: Rule, key: string) {
    switch (rule.groupBy) {
      case 'ci': {
        const [ci] = await tx
          .select({ name: configurationItems.name })
          .from(configurationItems)
          .where(eq(configurationItems.id, key))
        return `on CI ${ci?.name ?? key}`
      }
      case 'fingerprint': {
        const { source, fingerprint } = parseFingerprint(key)
        return `with fingerprint ${fingerprint} from ${source}`
      }
      case 'family':
        return `in family ${key}`
      default:
        return `in category ${key}`
    }
  }

  /** The newest problem the rule opened for the key, locked, if it is still open. */
  async function openProblem(ctx: TxCtx, wf: Workflow, rule: Rule, key: string) {
    const tx = ctx.db
    const found = await tx
      .select({ id: detectedProblems.problemId, status: tickets.status })
      .from(detectedProblems)
      .innerJoin(tickets, eq(tickets.id, detectedProblems.problemId))
      .where(and(eq(detectedProblems.ruleId, rule.id), eq(detectedProblems.groupKey, key)))
      .orderBy(desc(detectedProblems.createdAt))
    const candidate = found.find(p => wf.status(p.status)?.phase === 'open')
    if (!candidate) return null
    const row = await deps.tickets.visible(ctx, 'problem', candidate.id)
    return wf.status(row.status)?.phase === 'open' ? row : null
  }

  /**
   * The members no problem has claimed, locked in id order (as linking incidents by hand locks them),
   * then checked again: someone may have linked one meanwhile.
   */
  async function claimFree(tx: Tx, members: Member[]) {
    const taken = await problemsOfIncidents(
      tx,
      members.map(m => m.id)
    )
    const candidates = members.filter(m => !taken.has(m.id))
    if (candidates.length === 0) return []
    await tx
      .select({ id: tickets.id })
      .from(tickets)
      .where(
        inArray(
          tickets.id,
          candidates.map(m => m.id)
        )
      )
      .orderBy(tickets.id)
      .for('update')
    const now = await problemsOfIncidents(
      tx,
      candidates.map(m => m.id)
    )
    return candidates.filter(m => !now.has(m.id))
  }

  /** Links the incidents to the problem; one linked elsewhere meanwhile is skipped. Answers those linked. */
  async function linkAll(ctx: TxCtx, problemId: string, members: Member[]) {
    const done: Member[] = []
    for (const m of members) {
      try {
        await deps.links.addLink(ctx, m.id, problemId, CAUSED_BY)
        done.push(m)
      } catch (err) {
        if (!(err instanceof AppError && err.status === 409)) throw err
      }
    }
    return done
  }

  const numbers = (members: Member[]) => members.map(m => formatNumber('incident', m.number))

  async function openNew(tx: Tx, ctx: TxCtx, rule: Rule, key: string, free: Member[], what: string) {
    const within = windowText(rule.windowMinutes)
    const lines = [
      `Opened by problem detection rule "${rule.name}": ${free.length} incidents ${what} within ${within} (threshold ${rule.threshold}).`,
      '',
      'Incidents:',
      ...free.map(m => `- ${formatNumber('incident', m.number)} ${m.title}`)
    ]
    const input: CreateTicketInput = {
      title: clip(`Recurring: ${free.length} incidents ${what} within ${within}`, 300),
      description: clip(lines.join('\n'), 20_000),
      requesterId: free[0]!.requesterId,
      ...(rule.groupBy === 'category' ? { category: key } : {}),
      ...(rule.teamId ? { teamId: rule.teamId } : {})
    }
    let problem: TicketView
    try {
      problem = (await deps.tickets.create(ctx, 'problem', input)).body
    } catch (err) {
      // A team that cannot take work (no layers) must not stop detection: open it unassigned
      if (!(err instanceof AppError && err.status === 422 && rule.teamId)) throw err
      const { teamId: _t, ...unassigned } = input
      problem = (await deps.tickets.create(ctx, 'problem', unassigned)).body
    }
    await tx.insert(detectedProblems).values({ ruleId: rule.id, groupKey: key, problemId: problem.id })
    return { problemId: problem.id, linked: await linkAll(ctx, problem.id, free) }
  }

  /** One group in one transaction. */
  async function runGroup(ctx: Ctx, actingAs: (requesterId: string) => Ctx, rule: Rule, key: string) {
    return withTx(ctx, async (tx, ctx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`problem-detection:${rule.id}:${key}`}, 0))`)
      const members = await membersOf(tx, rule, key)
      if (members.length < rule.threshold) return { opened: false, linked: 0 }
      const wf = await deps.workflows.get('problem', tx)
      // Acting as the first member's requester, in this transaction
      const acting: TxCtx = { ...actingAs(members[0]!.requesterId), db: tx }
      const existing = await openProblem(acting, wf, rule, key)
      const free = await claimFree(tx, members)
      const what = await describeKey(tx, rule, key)
      if (existing) {
        const done = await linkAll(acting, existing.id, free)
        if (done.length) {
          const body = `Problem detection rule "${rule.name}": linked ${done.length} more incident${done.length === 1 ? '' : 's'} ${what} within ${windowText(rule.windowMinutes)}: ${numbers(done).join(', ')}`
          await deps.tickets.addNote(acting, 'problem', existing.id, { body: clip(body, 20_000), internal: true })
        }
        return { opened: false, linked: done.length }
      }
      if (free.length < rule.threshold) return { opened: false, linked: 0 }
      const made = await openNew(tx, acting, rule, key, free, what)
      ctx.log.info({ rule: rule.name, groupKey: key, problemId: made.problemId }, 'problem detection opened a problem')
      return { opened: true, linked: made.linked.length }
    })
  }

  return {
    async run(ctx: Ctx, rules: Rule[], actingAs: (requesterId: string) => Ctx): Promise<DetectionSummary> {
      const summary: DetectionSummary = {
        rules: 0,
        groups: 0,
        problemsOpened: 0,
        problemsUpdated: 0,
        incidentsLinked: 0,
        groupsFailed: 0
      }
      if (rules.length === 0) return summary
      const wf = await deps.workflows.get('problem')
      const openStatuses = wf.definition.statuses.filter(s => s.phase === 'open').map(s => s.key)
      for (const rule of rules) {
        const budget = MAX_GROUPS_PER_RUN - summary.groups
        if (budget <= 0) break
        summary.rules += 1
        const keys = await groupsOf(rule, openStatuses, budget)
        for (const key of keys) {
          summary.groups += 1
          try {
            const result = await runGroup(ctx, actingAs, rule, key)
            if (result.opened) summary.problemsOpened += 1
            else if (result.linked) summary.problemsUpdated += 1
            summary.incidentsLinked += result.linked
          } catch (err) {
            summary.groupsFailed += 1
            ctx.log.warn({ err, rule: rule.name, groupKey: key }, 'problem detection failed for a group')
          }
        }
        await db.update(problemRules).set({ lastRunAt: new Date() }).where(eq(problemRules.id, rule.id))
      }
      return summary
    }
  }
}
