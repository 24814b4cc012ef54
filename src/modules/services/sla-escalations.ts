import { inArray } from 'drizzle-orm'
import { teams, users } from '../../db/schema/index.js'
import type { Queryable } from '../../lib/context.js'
import type { FieldError } from '../../lib/errors.js'
import type { EscalationActionInput, EscalationInput } from './slas.schemas.js'

/** Which fields each action type takes (beyond `type`), and which it needs. */
const TAKES: Record<EscalationActionInput['type'], { takes: readonly string[]; needs: readonly string[] }> = {
  notify: { takes: ['audience', 'userIds'], needs: ['audience'] },
  next_layer: { takes: [], needs: [] },
  reassign: { takes: ['teamId'], needs: ['teamId'] },
  raise_priority: { takes: ['steps'], needs: [] }
}
const OPTIONAL = ['audience', 'userIds', 'teamId', 'steps'] as const
const CLOCK_ORDER = { response: 0, resolution: 1 } as const

/**
 * An SLA's escalation thresholds as stored: one per clock and percent (422 naming the repeat), each
 * action with exactly the fields its type takes, users and teams that exist. Sorted by clock
 * (response first), then percent; ids lower-cased.
 */
export async function checkEscalations(
  q: Queryable,
  list: readonly EscalationInput[],
  errors: FieldError[]
): Promise<EscalationInput[]> {
  const seen = new Set<string>()
  const userRefs: { field: string; id: string }[] = []
  const teamRefs: { field: string; id: string }[] = []
  const out = list.map((e, i) => {
    const at = `escalations.${i}`
    const key = `${e.clock}|${e.percent}`
    if (seen.has(key)) errors.push({ field: `${at}.percent`, message: `one threshold per clock and percent` })
    seen.add(key)
    const actions = e.actions.map((a, j) => {
      const field = `${at}.actions.${j}`
      const rule = TAKES[a.type]
      for (const f of OPTIONAL) {
        if (a[f] !== undefined && !rule.takes.includes(f))
          errors.push({ field: `${field}.${f}`, message: `not taken by ${a.type}` })
      }
      for (const f of rule.needs) {
        if (a[f as keyof EscalationActionInput] === undefined)
          errors.push({ field: `${field}.${f}`, message: `required by ${a.type}` })
      }
      if (a.type === 'notify' && a.audience === 'users' && !a.userIds)
        errors.push({ field: `${field}.userIds`, message: 'required for the users audience' })
      if (a.type === 'notify' && a.audience !== 'users' && a.userIds)
        errors.push({ field: `${field}.userIds`, message: 'only for the users audience' })
      const userIds = a.userIds ? [...new Set(a.userIds.map(id => id.toLowerCase()))] : undefined
      userIds?.forEach(id => {
        userRefs.push({ field: `${field}.userIds`, id })
      })
      if (a.teamId) teamRefs.push({ field: `${field}.teamId`, id: a.teamId.toLowerCase() })
      return {
        type: a.type,
        ...(a.audience !== undefined ? { audience: a.audience } : {}),
        ...(userIds ? { userIds } : {}),
        ...(a.teamId ? { teamId: a.teamId.toLowerCase() } : {}),
        ...(a.type === 'raise_priority' ? { steps: a.steps ?? 1 } : {})
      }
    })
    return { percent: e.percent, clock: e.clock, actions }
  })
  await missing(q, users, userRefs, 'no such user', errors)
  await missing(q, teams, teamRefs, 'no such team', errors)
  return out.sort((a, b) => CLOCK_ORDER[a.clock] - CLOCK_ORDER[b.clock] || a.percent - b.percent)
}

async function missing(
  q: Queryable,
  table: typeof users | typeof teams,
  refs: { field: string; id: string }[],
  message: string,
  errors: FieldError[]
) {
  if (refs.length === 0) return
  const ids = [...new Set(refs.map(r => r.id))]
  const found = new Set((await q.select({ id: table.id }).from(table).where(inArray(table.id, ids))).map(r => r.id))
  // A field already wrong for its shape is not looked up as well
  const named = new Set<string>(errors.map(e => e.field))
  for (const r of refs) {
    if (found.has(r.id) || named.has(r.field)) continue
    named.add(r.field)
    errors.push({ field: r.field, message })
  }
}
