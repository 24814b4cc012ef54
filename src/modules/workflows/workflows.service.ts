import { eq, sql } from 'drizzle-orm'
import type { Actor } from '../../auth/actor.js'
import { authorize, can, isStaff, ticketScope } from '../../auth/policy.js'
import { tickets, workflows } from '../../db/schema/index.js'
import type { Ctx, Deps, Queryable } from '../../lib/context.js'
import { decodeCursor, type Page, pageOf } from '../../lib/cursor.js'
import { badRequest, conflict, type FieldError, preconditionFailed, validationFailed } from '../../lib/errors.js'
import { nameUuid } from '../../lib/ids.js'
import { recordAudit } from '../audit/audit.service.js'
import { isTicketKind, TICKET_KINDS, type TicketKind } from '../kinds/kinds.js'
import { DEFAULT_WORKFLOWS } from './defaults.js'
import type { StatusDef, TransitionActor, TransitionDef, WorkflowDefinition } from './workflow.types.js'

/** A workflow ready to answer questions: statuses by key and transitions by source status. */
export class Workflow {
  readonly statuses: ReadonlyMap<string, StatusDef>
  private readonly from: ReadonlyMap<string, TransitionDef[]>

  constructor(
    readonly kind: TicketKind,
    readonly definition: WorkflowDefinition,
    readonly version: number,
    readonly custom: boolean
  ) {
    this.statuses = new Map(definition.statuses.map(s => [s.key, s]))
    const from = new Map<string, TransitionDef[]>()
    for (const t of definition.transitions) from.set(t.from, [...(from.get(t.from) ?? []), t])
    this.from = from
  }

  get initial() {
    return this.definition.initial
  }

  /** The status a ticket moves to when it is given a person (the one flagged `onAssign`), if any. */
  get assigned(): string | undefined {
    return this.definition.statuses.find(s => s.onAssign)?.key
  }

  status(key: string): StatusDef | undefined {
    return this.statuses.get(key)
  }

  isClosed(key: string) {
    return this.statuses.get(key)?.phase === 'closed'
  }

  /** The transition from `status` to `to` that `side` may take, if any. */
  rule(status: string, to: string, side: TransitionActor): TransitionDef | undefined {
    return this.from.get(status)?.find(t => t.to === to && t.by.includes(side))
  }

  /** Statuses `side` may move a ticket in `status` to. */
  targets(status: string, side: TransitionActor): string[] {
    return [...new Set((this.from.get(status) ?? []).filter(t => t.by.includes(side)).map(t => t.to))]
  }
}

/** Staff acting on every ticket take staff transitions; customers and org-pinned callers the requester's. */
export function sideOf(actor: Actor): TransitionActor {
  if (actor.kind === 'system') return 'system'
  return isStaff(actor) && ticketScope(actor) === null ? 'staff' : 'requester'
}

/** Statuses this actor may move a ticket to from where it is. */
export function allowedFor(actor: Actor, wf: Workflow, status: string): string[] {
  if (!can(actor, 'ticket.transition')) return []
  return wf.targets(status, sideOf(actor))
}

/** Everything wrong with a definition, as field errors (empty when it is sound). */
export function checkDefinition(def: WorkflowDefinition): FieldError[] {
  const errors: FieldError[] = []
  const keys = new Map<string, StatusDef>()
  def.statuses.forEach((s, i) => {
    if (keys.has(s.key)) errors.push({ field: `statuses.${i}.key`, message: `"${s.key}" appears twice` })
    keys.set(s.key, s)
  })
  const initial = keys.get(def.initial)
  if (!initial) errors.push({ field: 'initial', message: `"${def.initial}" is not one of the statuses` })
  else if (initial.phase !== 'open') errors.push({ field: 'initial', message: 'must be a status of phase open' })
  const onAssign = def.statuses.flatMap((s, i) => (s.onAssign ? [{ s, i }] : []))
  for (const { i } of onAssign.slice(1)) {
    errors.push({
      field: `statuses.${i}.onAssign`,
      message: `only one status may be onAssign (${onAssign[0]!.s.key} is)`
    })
  }
  for (const { s, i } of onAssign.slice(0, 1)) {
    if (s.phase !== 'open') errors.push({ field: `statuses.${i}.onAssign`, message: 'must be a status of phase open' })
    if (s.key === def.initial) errors.push({ field: `statuses.${i}.onAssign`, message: 'cannot be the initial status' })
  }
  const seen = new Set<string>()
  def.transitions.forEach((t, i) => {
    for (const end of ['from', 'to'] as const) {
      if (!keys.has(t[end])) errors.push({ field: `transitions.${i}.${end}`, message: `"${t[end]}" is not a status` })
    }
    if (t.from === t.to) errors.push({ field: `transitions.${i}.to`, message: 'a transition must change the status' })
    if (keys.get(t.from)?.phase === 'closed') {
      errors.push({ field: `transitions.${i}.from`, message: `"${t.from}" is closed: nothing leaves it` })
    }
    const id = `${t.from}>${t.to}`
    if (seen.has(id)) errors.push({ field: `transitions.${i}`, message: `${t.from} → ${t.to} appears twice` })
    seen.add(id)
  })
  def.statuses.forEach((s, i) => {
    if (!s.approval) return
    for (const outcome of ['approved', 'rejected'] as const) {
      const target = s.approval[outcome]
      const t = def.transitions.find(x => x.from === s.key && x.to === target)
      if (!keys.has(target)) {
        errors.push({ field: `statuses.${i}.approval.${outcome}`, message: `"${target}" is not a status` })
      } else if (!t?.by.includes('system')) {
        errors.push({
          field: `statuses.${i}.approval.${outcome}`,
          message: `needs a transition ${s.key} → ${target} that the system may take`
        })
      }
    }
  })
  // Every status but the initial one must be reachable, or tickets could never get there
  const reach = new Set([def.initial])
  for (let grew = true; grew; ) {
    grew = false
    for (const t of def.transitions) {
      if (reach.has(t.from) && !reach.has(t.to)) {
        reach.add(t.to)
        grew = true
      }
    }
  }
  def.statuses.forEach((s, i) => {
    if (!reach.has(s.key)) errors.push({ field: `statuses.${i}.key`, message: `"${s.key}" cannot be reached` })
  })
  return errors
}

/** Workflows per kind: shipped defaults, replaced by an admin's edit; cached briefly per process. */
export function createWorkflowService(deps: Deps) {
  const { db } = deps
  const ttl = deps.config.AUTH_CACHE_TTL_MS
  const cache = new Map<TicketKind, { wf: Workflow; until: number }>()

  async function load(q: Queryable, kind: TicketKind): Promise<Workflow> {
    const [row] = await q.select().from(workflows).where(eq(workflows.kind, kind))
    return row
      ? new Workflow(kind, row.definition as WorkflowDefinition, row.version, true)
      : new Workflow(kind, DEFAULT_WORKFLOWS[kind], 0, false)
  }

  async function get(kind: TicketKind, q: Queryable = db): Promise<Workflow> {
    const hit = cache.get(kind)
    if (hit && hit.until > Date.now()) return hit.wf
    const wf = await load(q, kind)
    if (ttl > 0) cache.set(kind, { wf, until: Date.now() + ttl })
    return wf
  }

  async function statusesInUse(q: Queryable, kind: TicketKind): Promise<string[]> {
    const rows = await q.selectDistinct({ status: tickets.status }).from(tickets).where(eq(tickets.kind, kind))
    return rows.map(r => r.status)
  }

  return {
    get,

    async read(ctx: Ctx, kind: TicketKind) {
      authorize(ctx.actor, 'config.read')
      return view(await load(db, kind))
    },

    /** Every kind's workflow as a keyset page in kind order (one workflow per kind: one page by default). */
    async list(ctx: Ctx, input: { limit?: number; cursor?: string }): Promise<Page<ReturnType<typeof view>>> {
      authorize(ctx.actor, 'config.read')
      const limit = input.limit ?? 50
      const after = input.cursor ? decodeCursor(input.cursor, 'kind').id : null
      const start = after === null ? 0 : TICKET_KINDS.indexOf(after as TicketKind) + 1
      if (after !== null && start === 0)
        throw badRequest('invalid cursor', [{ field: 'cursor', message: 'not a cursor from this API' }])
      const kinds = TICKET_KINDS.slice(start, start + limit + 1)
      const rows = await Promise.all(kinds.map(async k => view(await load(db, k))))
      return pageOf(rows, limit, last => ({ sort: 'kind', value: null, id: last.kind }))
    },

    /** Replaces a kind's workflow. Statuses that tickets are in cannot disappear (409 names them). */
    async put(ctx: Ctx, kind: TicketKind, def: WorkflowDefinition, expectedVersion?: number) {
      authorize(ctx.actor, 'config.manage')
      const errors = checkDefinition(def)
      if (errors.length) throw validationFailed(errors)
      const result = await db.transaction(async tx => {
        // One editor at a time per kind: the advisory lock also covers the first edit (no row yet)
        await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`workflow:${kind}`}))`)
        const before = await load(tx, kind)
        if (expectedVersion !== undefined && expectedVersion !== before.version) {
          throw preconditionFailed(`the workflow was changed by someone else (now version ${before.version})`, {
            currentVersion: before.version
          })
        }
        const keys = new Set(def.statuses.map(s => s.key))
        const orphaned = (await statusesInUse(tx, kind)).filter(s => !keys.has(s))
        if (orphaned.length) {
          throw conflict(`tickets are in ${orphaned.join(', ')}: keep those statuses or move the tickets first`, {
            statusesInUse: orphaned
          })
        }
        const version = before.version + 1
        await tx
          .insert(workflows)
          .values({ kind, definition: def, version, updatedBy: ctx.actor.id })
          .onConflictDoUpdate({
            target: workflows.kind,
            set: { definition: def, version, updatedAt: new Date(), updatedBy: ctx.actor.id }
          })
        await recordAudit(tx, ctx, {
          entityType: 'workflow',
          entityId: nameUuid(`workflow:${kind}`),
          action: 'updated',
          changes: [{ field: 'definition', old: before.definition, new: def }]
        })
        return new Workflow(kind, def, version, true)
      })
      cache.delete(kind)
      return view(result)
    },

    /** Back to the shipped default (refused like a PUT when tickets use a status it lacks). */
    async reset(ctx: Ctx, kind: TicketKind) {
      authorize(ctx.actor, 'config.manage')
      const def = DEFAULT_WORKFLOWS[kind]
      await db.transaction(async tx => {
        await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`workflow:${kind}`}))`)
        const keys = new Set(def.statuses.map(s => s.key))
        const orphaned = (await statusesInUse(tx, kind)).filter(s => !keys.has(s))
        if (orphaned.length) {
          throw conflict(`tickets are in ${orphaned.join(', ')}, which the default lacks`, { statusesInUse: orphaned })
        }
        const before = await load(tx, kind)
        await tx.delete(workflows).where(eq(workflows.kind, kind))
        await recordAudit(tx, ctx, {
          entityType: 'workflow',
          entityId: nameUuid(`workflow:${kind}`),
          action: 'reset',
          changes: [{ field: 'definition', old: before.definition, new: def }]
        })
      })
      cache.delete(kind)
      return view(new Workflow(kind, def, 0, false))
    }
  }
}

const view = (wf: Workflow) => ({
  kind: wf.kind,
  version: wf.version,
  custom: wf.custom,
  ...wf.definition,
  statuses: wf.definition.statuses.map(s => ({ ...s, onAssign: s.onAssign ?? false })),
  transitions: wf.definition.transitions.map(t => ({ ...t, requires: t.requires ?? [] }))
})

export type WorkflowService = ReturnType<typeof createWorkflowService>

/**
 * The phase of a kind's status in its workflow, as the metrics count open tickets by (lib/metrics.ts
 * PhaseOf): undefined for a kind or status the workflows do not know.
 */
export const phaseOfStatus =
  (workflows: Pick<WorkflowService, 'get'>) =>
  async (kind: string, status: string): Promise<StatusDef['phase'] | undefined> =>
    isTicketKind(kind) ? (await workflows.get(kind)).status(status)?.phase : undefined
