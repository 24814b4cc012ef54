import type { Tx } from '../../lib/context.js'
import { AppError, type FieldError, validationFailed } from '../../lib/errors.js'
import type { Change } from '../audit/audit.service.js'
import type { TeamView } from '../identity/teams.service.js'
import type { Workflow } from '../workflows/workflows.service.js'
import type { BulkUpdateInput } from './bulk.schemas.js'
import { formatNumber, type TicketKind } from './kinds.js'
import type { CustomFieldPort } from './tickets.ports.js'
import type { Row } from './tickets.repository.js'

/** The checks of a bulk update that look at many tickets at once, and how its problems are gathered. */

/** At most this many problems are answered; the detail says how many there were. */
export const MAX_ERRORS = 100

export interface Plan {
  index: number
  before: Row
  wf: Workflow
  set: Partial<Row>
  changes: Change[]
  /** Set when the status moves by a workflow transition (not by the assignment rule). */
  transitioned: boolean
}

/** Problems of a bulk update: once per field of `set`, or per ticket, each named by its index in `ids`. */
export function problems() {
  const once = new Map<string, FieldError>()
  const each: FieldError[] = []
  return {
    set(field: string, message: string) {
      once.set(`${field}\n${message}`, { field, message })
    },
    ticket(plan: Pick<Plan, 'index' | 'before'>, message: string) {
      const { before } = plan
      each.push({
        field: `ids.${plan.index}`,
        message: `${formatNumber(before.kind as TicketKind, before.number)}: ${message}`
      })
    },
    throwIfAny(count: number) {
      const all = [...once.values(), ...each.sort((a, b) => index(a) - index(b))]
      if (all.length === 0) return
      const shown = all.slice(0, MAX_ERRORS)
      const more = all.length > shown.length ? ` (the first ${shown.length} of ${all.length} problems)` : ''
      throw validationFailed(shown, `nothing was changed: ${all.length} problems among ${count} tickets${more}`)
    }
  }
}
export type Problems = ReturnType<typeof problems>
const index = (e: FieldError) => (e.field.startsWith('ids.') ? Number(e.field.slice(4)) : -1)

/** Team, layer and membership: each distinct team loaded once, each (team, layer, person) checked once. */
export async function checkAssignments(
  tx: Tx,
  plans: Plan[],
  wanted: BulkUpdateInput['set'],
  found: Problems,
  loadTeam: (tx: Tx, id: string) => Promise<TeamView | null>
) {
  const groups = new Map<string, Plan[]>()
  for (const p of plans) {
    if (!p.set.teamId) continue
    const key = `${p.set.teamId}|${p.set.layer}|${p.set.assigneeId ?? ''}`
    groups.set(key, [...(groups.get(key) ?? []), p])
  }
  const loaded = new Map<string, TeamView | null>()
  for (const members of groups.values()) {
    const { teamId, layer, assigneeId } = members[0]!.set as {
      teamId: string
      layer: number
      assigneeId: string | null
    }
    if (!loaded.has(teamId)) loaded.set(teamId, await loadTeam(tx, teamId))
    const team = loaded.get(teamId)
    if (!team) {
      found.set('set.teamId', 'no such team')
      continue
    }
    const level = team.layers.find(l => l.level === layer)
    if (!level) {
      const message = `team "${team.name}" has layers 1 to ${team.layers.length}`
      if (wanted.layer !== undefined) found.set('set.layer', message)
      else for (const p of members) found.ticket(p, `layer: ${message}`)
      continue
    }
    if (assigneeId && !level.members.includes(assigneeId)) {
      const message = `not a member of layer ${layer} of team "${team.name}"`
      if (wanted.assigneeId !== undefined) found.set('set.assigneeId', message)
      else for (const p of members) found.ticket(p, `assigneeId: ${message}`)
    }
  }
}

/**
 * Custom fields through the kind's value engine. Its answer depends only on the kind and the values
 * the ticket holds under the keys being set, so tickets alike share one call (usually one per kind).
 * A problem every ticket shares is the input's (set.customFields.<key>); one some have is theirs.
 */
export async function resolveCustomFields(
  tx: Tx,
  plans: Plan[],
  values: Record<string, unknown>,
  found: Problems,
  port: CustomFieldPort | undefined
) {
  if (!port) {
    if (Object.keys(values).length) found.set('set.customFields', 'no custom fields are defined')
    return
  }
  const keys = Object.keys(values)
  const answers = new Map<string, { values: Record<string, unknown>; changes: Change[] } | FieldError[]>()
  const failed: { plan: Plan; errors: FieldError[] }[] = []
  for (const plan of plans) {
    const existing = (plan.before.customFields ?? {}) as Record<string, unknown>
    const held = Object.fromEntries(keys.filter(k => k in existing).map(k => [k, existing[k]]))
    const key = `${plan.wf.kind}\n${JSON.stringify(held)}`
    let answer = answers.get(key)
    if (!answer) {
      try {
        answer = await port.resolve(tx, plan.wf.kind, values, held)
      } catch (err) {
        if (!(err instanceof AppError) || err.status !== 422 || !err.errors) throw err
        answer = err.errors
      }
      answers.set(key, answer)
    }
    if (Array.isArray(answer)) {
      failed.push({ plan, errors: answer })
      continue
    }
    if (answer.changes.length === 0) continue
    const merged = { ...existing }
    for (const k of keys) {
      if (k in answer.values) merged[k] = answer.values[k]
      else delete merged[k]
    }
    plan.set.customFields = merged
    plan.changes.push(...answer.changes)
  }
  const shared = (e: FieldError) =>
    failed.length === plans.length &&
    failed.every(f => f.errors.some(x => x.field === e.field && x.message === e.message))
  for (const { plan, errors } of failed) {
    for (const e of errors) {
      if (shared(e)) found.set(`set.${e.field}`, e.message)
      else found.ticket(plan, `${e.field}: ${e.message}`)
    }
  }
}
