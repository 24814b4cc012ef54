import { eq, inArray, sql } from 'drizzle-orm'
import { changeDetails, tickets } from '../../db/schema/index.js'
import type { Queryable } from '../../lib/context.js'
import { type FieldError, fieldError, validationFailed } from '../../lib/errors.js'
import { type Change, diff } from '../audit/audit.service.js'
import { loadTemplate } from '../templates/templates.service.js'
import type { KindHooks } from '../tickets/tickets.ports.js'
import { CHANGE_RISKS, CHANGE_TYPES, PLAN_MAX } from './changes.schemas.js'

type DetailRow = typeof changeDetails.$inferSelect
const PLANS = ['implementationPlan', 'backoutPlan', 'testPlan'] as const
const AUDITED = ['risk', ...PLANS, 'plannedStart', 'plannedEnd'] as const

/** A change's detail as the API answers it (single reads and list rows alike). */
export type ChangeDetail = {
  type: string
  risk: string
  implementationPlan: string
  backoutPlan: string
  testPlan: string
  plannedStart: Date | null
  plannedEnd: Date | null
  templateId: string | null
  releaseId: string | null
}

const text = (v: unknown) => (typeof v === 'string' ? v : undefined)
const dateOf = (v: unknown, field: string): Date | null => {
  if (v === null || v === undefined) return null
  const d = new Date(String(v))
  if (Number.isNaN(d.getTime())) throw fieldError(field, 'not a date-time')
  return d
}

/** Fields a template or a reclassify may hand over unchecked by the route schema: checked here too. */
function checkValues(input: Record<string, unknown>, errors: FieldError[]) {
  if (input.risk !== undefined && !CHANGE_RISKS.includes(input.risk as never)) {
    errors.push({ field: 'risk', message: `one of ${CHANGE_RISKS.join(', ')}` })
  }
  for (const p of PLANS) {
    const v = input[p]
    if (v === undefined) continue
    if (typeof v !== 'string') errors.push({ field: p, message: 'must be a string' })
    else if (v.length > PLAN_MAX) errors.push({ field: p, message: `at most ${PLAN_MAX} characters` })
  }
}

function checkWindow(start: Date | null, end: Date | null, field: 'plannedStart' | 'plannedEnd') {
  if (start && end && end.getTime() <= start.getTime()) {
    throw fieldError(field, field === 'plannedEnd' ? 'must be after plannedStart' : 'must be before plannedEnd')
  }
}

/** One query: each change's detail row and its CI ids. */
export async function changeDetailsOf(q: Queryable, ids: readonly string[]): Promise<Map<string, ChangeDetail>> {
  if (ids.length === 0) return new Map()
  const rows = await q
    .select()
    .from(changeDetails)
    .where(inArray(changeDetails.ticketId, [...ids]))
  return new Map(rows.map(r => [r.ticketId, shape(r)]))
}

function shape(d: DetailRow): ChangeDetail {
  return {
    type: d.type,
    risk: d.risk,
    implementationPlan: d.implementationPlan,
    backoutPlan: d.backoutPlan,
    testPlan: d.testPlan,
    plannedStart: d.plannedStart,
    plannedEnd: d.plannedEnd,
    templateId: d.templateId,
    releaseId: d.releaseId
  }
}

const subquery = (column: string) =>
  sql`(select ${sql.raw(`d.${column}`)} from change_details d where d.ticket_id = ${tickets.id})`

/**
 * What the change kind adds to the ticket core: its side row (type, risk, plans, planned window,
 * template, release) and its affected CIs (ticket_cis), the plannedWindow requirement, RSQL fields.
 */
export function changeHooks(): KindHooks {
  return {
    async prepareCreate(q, _ctx, input) {
      const type = input.type
      if (type === undefined || type === null) {
        throw fieldError('type', 'required (standard, normal or emergency) unless the template gives it')
      }
      if (!CHANGE_TYPES.includes(type as never)) throw fieldError('type', `one of ${CHANGE_TYPES.join(', ')}`)
      const errors: FieldError[] = []
      checkValues(input, errors)
      if (errors.length) throw validationFailed(errors)
      const templateId = text(input.templateId) ?? null
      if (type === 'standard') {
        if (!templateId) throw fieldError('templateId', 'a standard change is raised from a standard change template')
        const template = await loadTemplate(q, 'change', templateId)
        if (!template.standard) {
          throw fieldError('templateId', `the template "${template.name}" is not a pre-approved standard change`)
        }
      }
      const plannedStart = dateOf(input.plannedStart, 'plannedStart')
      const plannedEnd = dateOf(input.plannedEnd, 'plannedEnd')
      checkWindow(plannedStart, plannedEnd, 'plannedEnd')
      const values = {
        type: type as string,
        risk: (input.risk as string | undefined) ?? 'medium',
        implementationPlan: text(input.implementationPlan) ?? '',
        backoutPlan: text(input.backoutPlan) ?? '',
        testPlan: text(input.testPlan) ?? '',
        plannedStart,
        plannedEnd,
        templateId
      }
      const changes: Change[] = [
        { field: 'type', old: null, new: values.type },
        { field: 'risk', old: null, new: values.risk },
        ...diff<Record<string, unknown>>(
          { plannedStart: null, plannedEnd: null, templateId: null },
          { plannedStart, plannedEnd, templateId },
          ['plannedStart', 'plannedEnd', 'templateId']
        )
      ]
      return {
        changes,
        async write(tx, row) {
          await tx.insert(changeDetails).values({ ticketId: row.id, ...values })
        }
      }
    },

    async update(tx, _ctx, before, input) {
      const current = (await changeDetailsOf(tx, [before.id])).get(before.id)
      if (!current) return []
      if (input.type !== undefined && input.type !== current.type) {
        throw fieldError('type', `a ${current.type} change stays ${current.type}: raise a new change for another type`)
      }
      const errors: FieldError[] = []
      checkValues(input, errors)
      if (errors.length) throw validationFailed(errors)
      const set: Partial<DetailRow> = {}
      if (input.risk !== undefined) set.risk = input.risk as string
      for (const p of PLANS) if (input[p] !== undefined) set[p] = input[p] as string
      if (input.plannedStart !== undefined) set.plannedStart = dateOf(input.plannedStart, 'plannedStart')
      if (input.plannedEnd !== undefined) set.plannedEnd = dateOf(input.plannedEnd, 'plannedEnd')
      checkWindow(
        set.plannedStart !== undefined ? set.plannedStart : current.plannedStart,
        set.plannedEnd !== undefined ? set.plannedEnd : current.plannedEnd,
        input.plannedEnd !== undefined ? 'plannedEnd' : 'plannedStart'
      )
      const changes = diff<Record<string, unknown>>({ ...current }, { ...set }, [...AUDITED])
      if (changes.length) await tx.update(changeDetails).set(set).where(eq(changeDetails.ticketId, before.id))
      return changes
    },

    details: async (q, ids, full) => {
      const found = await changeDetailsOf(q, ids)
      if (full) return found
      // List rows leave the long plans out, like every list leaves out long text
      return new Map(
        [...found].map(([id, { implementationPlan: _i, backoutPlan: _b, testPlan: _t, ...rest }]) => [id, rest])
      )
    },

    async requirement(q, row, need) {
      if (need !== 'plannedWindow') return null
      const [d] = await q
        .select({ start: changeDetails.plannedStart, end: changeDetails.plannedEnd })
        .from(changeDetails)
        .where(eq(changeDetails.ticketId, row.id))
      return d?.start && d.end ? null : 'set plannedStart and plannedEnd first'
    },

    async remove(tx, ticketId) {
      await tx.delete(changeDetails).where(eq(changeDetails.ticketId, ticketId))
    },

    filterFields: {
      type: { sql: subquery('type'), type: 'enum', values: CHANGE_TYPES },
      risk: { sql: subquery('risk'), type: 'enum', values: CHANGE_RISKS },
      plannedStart: { sql: subquery('planned_start'), type: 'datetime', nullable: true },
      plannedEnd: { sql: subquery('planned_end'), type: 'datetime', nullable: true }
    }
  }
}
