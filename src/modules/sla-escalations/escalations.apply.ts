import { inArray, sql } from 'drizzle-orm'
import { slaEscalationFirings, teamLayers, teamMembers, teams } from '../../db/schema/index.js'
import type { Queryable, Tx, TxCtx } from '../../lib/context.js'
import { uuidv7 } from '../../lib/ids.js'
import { sqlArray } from '../../lib/sql-array.js'
import { type AuditEntry, type Change, diff } from '../audit/audit.service.js'
import { appendOutbox, type OutboxEntry } from '../notifications/outbox.js'
import type { EscalationActionInput } from '../services/slas.schemas.js'
import { type BulkColumn, type BulkWrite, isBulkColumn, lockMany } from '../tickets/bulk.repository.js'
import type { TicketKind } from '../tickets/kinds.js'
import type { Row } from '../tickets/tickets.repository.js'
import { assignmentPlan, priorityPlan } from '../tickets/tickets.rules.js'
import type { TicketChange, TicketWriter } from '../tickets/tickets.writer.js'

/** A threshold reached on a clock run: what the scheduler hands over to be applied once. */
export interface DueThreshold {
  clockId: string
  run: number
  clock: 'response' | 'resolution'
  ticketId: string
  slaId: string | null
  percent: number
  actions: readonly EscalationActionInput[]
}

/** An action as it was carried out: the configured action and what became of it. */
export type ActionOutcome = EscalationActionInput & {
  /** notify: who was told (resolved when it fired). */
  told?: string[]
  /** next_layer / reassign / raise_priority: the value before and after. */
  from?: unknown
  to?: unknown
  /** Why nothing was done. */
  skipped?: string
}

export interface Fired {
  id: string
  clockId: string
  run: number
  clock: 'response' | 'resolution'
  percent: number
  ticketId: string
  actions: ActionOutcome[]
}

const AUDITED: (keyof Row)[] = ['teamId', 'layer', 'assigneeId', 'impact', 'urgency', 'priority']
const ASSIGNMENT = new Set(['teamId', 'layer', 'assigneeId'])

/** Raising priority one step: urgency first, then impact (P = impact + urgency − 1, 1 the highest). */
function raised(row: Pick<Row, 'impact' | 'urgency'>, steps: number) {
  let { impact, urgency } = row
  for (let i = 0; i < steps; i++) {
    if (urgency > 1) urgency--
    else if (impact > 1) impact--
  }
  return { impact, urgency }
}

/** Who works where: the team layers and members and the team leads the batch's actions may need. */
async function loadTeams(tx: Tx, teamIds: string[]) {
  if (teamIds.length === 0) return { layers: new Set<string>(), members: new Map<string, string[]>(), leads: new Map() }
  // One after the other: a transaction is one connection
  const layerRows = await tx
    .select({ teamId: teamLayers.teamId, level: teamLayers.level })
    .from(teamLayers)
    .where(inArray(teamLayers.teamId, teamIds))
  const memberRows = await tx
    .select({ teamId: teamMembers.teamId, level: teamMembers.level, userId: teamMembers.userId })
    .from(teamMembers)
    .where(inArray(teamMembers.teamId, teamIds))
  const teamRows = await tx
    .select({ id: teams.id, managerId: teams.managerId })
    .from(teams)
    .where(inArray(teams.id, teamIds))
  const members = new Map<string, string[]>()
  for (const m of memberRows) {
    const key = `${m.teamId}|${m.level}`
    members.set(key, [...(members.get(key) ?? []), m.userId])
  }
  return {
    layers: new Set(layerRows.map(l => `${l.teamId}|${l.level}`)),
    members,
    leads: new Map(teamRows.map(t => [t.id, t.managerId] as const))
  }
}
type Teams = Awaited<ReturnType<typeof loadTeams>>

/** Carries out one firing's actions in order on the ticket as it stands after the ones before. */
function carryOut(row: Row, f: DueThreshold, known: Teams, outbox: OutboxEntry[]): ActionOutcome[] {
  const event = f.percent >= 100 ? 'sla.breach' : 'sla.warning'
  const base = { clock: f.clock, percent: f.percent, slaId: f.slaId, clockId: f.clockId }
  return f.actions.map(action => {
    if (row.closedAt) return { ...action, skipped: 'the ticket is closed' }
    switch (action.type) {
      case 'notify': {
        const told =
          action.audience === 'assignee'
            ? row.assigneeId
              ? [row.assigneeId]
              : []
            : action.audience === 'team_lead'
              ? [known.leads.get(row.teamId ?? '') ?? null].filter((x): x is string => !!x)
              : action.audience === 'next_layer'
                ? (known.members.get(`${row.teamId}|${(row.layer ?? 0) + 1}`) ?? [])
                : [...(action.userIds ?? [])]
        if (told.length === 0) return { ...action, told, skipped: `no ${action.audience} to tell` }
        outbox.push({ event, ticketId: row.id, payload: { ...base, audience: action.audience, userIds: told } })
        return { ...action, told }
      }
      case 'next_layer': {
        const next = (row.layer ?? 0) + 1
        if (!row.teamId || !known.layers.has(`${row.teamId}|${next}`))
          return { ...action, skipped: row.teamId ? `the team has no layer ${next}` : 'no team' }
        const from = row.layer
        Object.assign(row, assignmentPlan(NO_WORKFLOW, row, { teamId: row.teamId, layer: next }, false))
        outbox.push({
          event: 'sla.escalation',
          ticketId: row.id,
          payload: { ...base, teamId: row.teamId, layer: next }
        })
        return { ...action, from, to: next }
      }
      case 'reassign': {
        const teamId = action.teamId!
        if (!known.leads.has(teamId)) return { ...action, skipped: 'the team no longer exists' }
        if (row.teamId === teamId) return { ...action, skipped: 'already with that team' }
        const from = row.teamId
        Object.assign(row, assignmentPlan(NO_WORKFLOW, row, { teamId }, false))
        outbox.push({ event: 'sla.escalation', ticketId: row.id, payload: { ...base, teamId, layer: row.layer } })
        return { ...action, from, to: teamId }
      }
      case 'raise_priority': {
        const from = row.priority
        Object.assign(row, priorityPlan(row, raised(row, action.steps ?? 1)))
        if (row.priority === from) return { ...action, from, to: from, skipped: 'already the highest priority' }
        return { ...action, from, to: row.priority }
      }
      default:
        return { ...action, skipped: 'unknown action' }
    }
  })
}

/** assignmentPlan with moveStatus false never reads the workflow. */
const NO_WORKFLOW = {} as Parameters<typeof assignmentPlan>[0]

/** Each firing's actions carried out, lowest percent first, on its ticket as the ones before left it. */
function carryOutAll(
  firings: readonly (DueThreshold & { id: string })[],
  byId: ReadonlyMap<string, Row>,
  known: Teams
) {
  const outbox: OutboxEntry[] = []
  const fired: Fired[] = []
  const working = new Map<string, Row>()
  for (const f of [...firings].sort((a, b) => a.percent - b.percent)) {
    const before = byId.get(f.ticketId)
    if (!before) continue
    const row = working.get(f.ticketId) ?? { ...before }
    working.set(f.ticketId, row)
    fired.push({ ...f, actions: carryOut(row, f, known, outbox) })
  }
  return { outbox, fired, working, outcomes: new Map(fired.map(f => [f.id, f.actions] as const)) }
}

/**
 * Applies reached thresholds, set-wise, in the caller's transaction: the tickets are locked, the
 * actions carried out in order in memory, and each (clock, run, percent) recorded once with its
 * outcome (a repeat, from a redelivered timer or a second scheduler, inserts nothing and does
 * nothing); then the ticket changes are written through the ticket writer (one UPDATE, the audit rows, a change record per
 * ticket to the subscribers: the outbox, the clocks re-targeting on a priority change), with the
 * firing itself in each ticket's history and the notices in the outbox. Answers what fired.
 */
export async function applyThresholds(
  ctx: TxCtx,
  writer: Pick<TicketWriter, 'many'>,
  due: readonly DueThreshold[],
  now: Date = new Date()
): Promise<Fired[]> {
  if (due.length === 0) return []
  const tx = ctx.db
  const ids = due.map(() => uuidv7())
  let firings = due.map((d, i) => ({ ...d, id: ids[i]! }))

  // The tickets locked first and the actions carried out in memory, so each firing is inserted once,
  // with its outcome: its unique key decides, in that one statement, which are new
  const rows = await lockMany(tx, [...new Set(firings.map(f => f.ticketId))], [])
  const byId = new Map(rows.map(r => [r.id, r]))
  const teamIds = new Set<string>()
  for (const r of rows) if (r.teamId) teamIds.add(r.teamId)
  for (const f of firings) for (const a of f.actions) if (a.teamId) teamIds.add(a.teamId)
  // The reassignments' teams too: a later action may move within them or tell their layers
  const known = await loadTeams(tx, [...teamIds])

  let plan = carryOutAll(firings, byId, known)
  const inserted = await tx.execute(sql`
    INSERT INTO sla_escalation_firings (id, clock_id, run, percent, clock, ticket_id, sla_id, actions, fired_at)
    SELECT v.*, ${now.toISOString()}::timestamptz FROM unnest(${sqlArray(ids, 'uuid')}, ${sqlArray(
      firings.map(d => d.clockId),
      'uuid'
    )}, ${sqlArray(
      firings.map(d => d.run),
      'int'
    )}, ${sqlArray(
      firings.map(d => d.percent),
      'int'
    )}, ${sqlArray(
      firings.map(d => d.clock),
      'text'
    )}, ${sqlArray(
      firings.map(d => d.ticketId),
      'uuid'
    )}, ${sqlArray(
      firings.map(d => d.slaId),
      'uuid'
    )}, ${sqlArray(
      firings.map(d => JSON.stringify(plan.outcomes.get(d.id) ?? d.actions)),
      'jsonb'
    )}) AS v
    ON CONFLICT (clock_id, run, percent) DO NOTHING
    RETURNING id`)
  const fresh = new Set((inserted as unknown as { rows: { id: string }[] }).rows.map(r => r.id))
  if (fresh.size < firings.length) {
    // A repeat (a redelivered timer, a second scheduler) does nothing: carried out again without it,
    // and the new firings of its tickets recorded as they now turn out
    const repeated = new Set(firings.filter(f => !fresh.has(f.id)).map(f => f.ticketId))
    firings = firings.filter(f => fresh.has(f.id))
    if (firings.length === 0) return []
    plan = carryOutAll(firings, byId, known)
    const redo = plan.fired.filter(f => repeated.has(f.ticketId))
    if (redo.length)
      await tx.execute(sql`
        UPDATE sla_escalation_firings AS f SET actions = v.actions
        FROM unnest(${sqlArray(
          redo.map(f => f.id),
          'uuid'
        )}, ${sqlArray(
          redo.map(f => JSON.stringify(f.actions)),
          'jsonb'
        )}) AS v(id, actions)
        WHERE f.id = v.id`)
  }
  const { outbox, fired, working } = plan

  const writes: BulkWrite[] = []
  const audit: AuditEntry[] = []
  const records: TicketChange[] = []
  const columns = new Set<BulkColumn>()
  for (const [ticketId, row] of working) {
    const before = byId.get(ticketId)!
    const changes = diff(before, row, AUDITED)
    const mine = fired.filter(f => f.ticketId === ticketId)
    const history: Change[] = mine.map(f => ({
      field: `sla.${f.clock}.escalations`,
      old: null,
      new: { threshold: f.percent, run: f.run, firedAt: now.toISOString(), actions: f.actions }
    }))
    audit.push({ entityType: 'ticket', entityId: ticketId, action: 'sla.escalated', changes: [...changes, ...history] })
    if (changes.length === 0) continue
    for (const c of changes) if (isBulkColumn(c.field)) columns.add(c.field)
    const after: Row = { ...row, version: before.version + 1, updatedAt: now }
    writes.push({ after, bump: true })
    records.push({
      type: changes.some(c => ASSIGNMENT.has(c.field)) ? 'assigned' : 'updated',
      kind: before.kind as TicketKind,
      ticketId,
      before,
      after,
      changed: changes.map(c => c.field),
      changes,
      actor: ctx.actor,
      cause: 'sla.escalated'
    })
  }
  await writer.many(ctx, { writes, columns: [...columns], now, audit, notes: [], records })
  await appendOutbox(tx, outbox)
  return fired
}

/** The firings of these clocks, oldest first, for the clock reads (`escalations` on each clock). */
export async function firingsOf(q: Queryable, clockIds: readonly string[]) {
  const out = new Map<string, { threshold: number; run: number; firedAt: Date; actions: ActionOutcome[] }[]>()
  if (clockIds.length === 0) return out
  const rows = await q
    .select()
    .from(slaEscalationFirings)
    .where(inArray(slaEscalationFirings.clockId, [...clockIds]))
    .orderBy(slaEscalationFirings.firedAt, slaEscalationFirings.percent)
  for (const r of rows) {
    const list = out.get(r.clockId) ?? []
    list.push({ threshold: r.percent, run: r.run, firedAt: r.firedAt, actions: r.actions as ActionOutcome[] })
    out.set(r.clockId, list)
  }
  return out
}
