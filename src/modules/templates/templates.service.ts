import { eq, ilike } from 'drizzle-orm'
import { authorize, isStaff } from '../../auth/policy.js'
import { teams, ticketTemplates } from '../../db/schema/index.js'
import { canonical } from '../../lib/canonical.js'
import type { Ctx, Deps, Queryable } from '../../lib/context.js'
import { fieldError } from '../../lib/errors.js'
import { isUuid } from '../../lib/ids.js'
import { textKeyset } from '../../lib/keyset.js'
import { check } from '../../lib/validate.js'
import { adminResource } from '../admin/admin-resource.js'
import { loadOffering } from '../catalog/catalog.service.js'
import { resolveCategory } from '../categories/categories.service.js'
import { KIND_INFO, type TicketKind } from '../tickets/kinds.js'
import {
  type CreateTemplateInput,
  TEMPLATE_VALUES,
  type TemplateListInput,
  type TemplateValues,
  type UpdateTemplateInput
} from './templates.schemas.js'

type StoredTemplate = typeof ticketTemplates.$inferSelect
/** A template as the API answers it: values typed. */
export interface TemplateRow extends Omit<StoredTemplate, 'values'> {
  values: TemplateValues
}
/** The jsonb column holds only what the kind's values schema let in. */
const typed = (row: StoredTemplate): TemplateRow => row as TemplateRow

/** The template a create names: it must exist, be active and be of this kind; otherwise 422 `templateId`. */
export async function loadTemplate(q: Queryable, kind: TicketKind, templateId: string): Promise<TemplateRow> {
  if (!isUuid(templateId)) throw fieldError('templateId', 'must be a template id')
  const [row] = await q.select().from(ticketTemplates).where(eq(ticketTemplates.id, templateId))
  if (!row) throw fieldError('templateId', 'no such template')
  if (row.kind !== kind) {
    throw fieldError('templateId', `the template is for ${row.kind}s, not ${KIND_INFO[kind].noun}s`)
  }
  if (!row.active) throw fieldError('templateId', `the template "${row.name}" is inactive`)
  return typed(row)
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * The create input with the template's values filled in where the input sets nothing (a key absent or
 * undefined; an explicit null is the caller's choice and stays). customFields merge key by key, the
 * input winning. Pure: neither argument is changed.
 */
export function applyTemplate<T extends Record<string, unknown>>(
  values: TemplateValues | Record<string, unknown>,
  input: T
): Omit<TemplateValues, keyof T> & T {
  const out: Record<string, unknown> = { ...input }
  for (const [key, value] of Object.entries(values)) {
    if (key === 'customFields' || value === undefined || out[key] !== undefined) continue
    out[key] = structuredClone(value)
  }
  const fromTemplate = (values as Record<string, unknown>).customFields
  if (isObject(fromTemplate)) {
    const own = input.customFields
    out.customFields = { ...structuredClone(fromTemplate), ...(isObject(own) ? own : {}) }
  }
  return out as Omit<TemplateValues, keyof T> & T
}

/** Both steps in the shape of the ticket core's TemplatePort. */
export const templatePort = {
  async apply(q: Queryable, kind: TicketKind, templateId: string, input: Record<string, unknown>) {
    const template = await loadTemplate(q, kind, templateId)
    return applyTemplate(template.values, input)
  }
}

export const templateKeyset = textKeyset<TemplateRow>('name', ticketTemplates.name, ticketTemplates.id, r => r.name)
const FIELDS = ['kind', 'name', 'description', 'values', 'standard', 'active'] as const

/** Non-staff (customers) see active templates only; the rest look absent. */
const hidden = (ctx: Ctx, row: { active: boolean }) => !row.active && !isStaff(ctx.actor)

/** Values typed per kind (400 naming values.<key>), then their references (422 naming values.<key>). */
async function checkValues(q: Queryable, kind: TicketKind, raw: unknown): Promise<TemplateValues> {
  const values = canonical(check<TemplateValues>(TEMPLATE_VALUES[kind], raw, 'values'))
  if (values.categoryId) await resolveCategory(q, kind, values.categoryId, 'values.categoryId')
  if (values.teamId) {
    const [team] = await q.select({ id: teams.id }).from(teams).where(eq(teams.id, values.teamId))
    if (!team) throw fieldError('values.teamId', 'no such team')
  }
  if (values.offeringId) await loadOffering(q, values.offeringId, 'values.offeringId')
  return values
}

function checkStandard(kind: string, standard: boolean, values: TemplateValues) {
  if (standard && (kind !== 'change' || values.type !== 'standard')) {
    throw fieldError('standard', 'only a change template whose values.type is "standard" can be a standard change')
  }
}

/** Ticket templates per kind, edited by admins; everyone who may raise tickets reads the active ones. */
export function createTemplateService({ db }: Deps) {
  const templates = adminResource<TemplateRow, TemplateRow>(db, {
    table: ticketTemplates,
    id: ticketTemplates.id,
    version: ticketTemplates.version,
    entityType: 'template',
    noun: 'template',
    fields: FIELDS,
    unique: {
      ticket_templates_kind_name_uq: { field: 'name', message: row => `a ${row.kind} template with this name exists` }
    },
    view: typed,
    authorizeRead: ctx => authorize(ctx.actor, 'config.read'),
    authorizeWrite: ctx => authorize(ctx.actor, 'config.manage'),
    hidden
  })

  return {
    get: templates.get,
    cursorOf: templateKeyset.cursorOf,

    list: (ctx: Ctx, input: TemplateListInput) =>
      templates.list(ctx, input, templateKeyset, [
        input.kind ? eq(ticketTemplates.kind, input.kind) : undefined,
        input.active !== undefined ? eq(ticketTemplates.active, input.active) : undefined,
        isStaff(ctx.actor) ? undefined : eq(ticketTemplates.active, true),
        input.q ? ilike(ticketTemplates.name, `%${input.q.replace(/[\\%_]/g, m => `\\${m}`)}%`) : undefined
      ]),

    create: (ctx: Ctx, input: CreateTemplateInput): Promise<TemplateRow> =>
      templates.create(ctx, async tx => {
        const values = await checkValues(tx, input.kind, input.values ?? {})
        const standard = input.standard ?? false
        checkStandard(input.kind, standard, values)
        return {
          kind: input.kind,
          name: input.name,
          description: input.description ?? '',
          values,
          standard,
          active: input.active ?? true
        }
      }),

    /** `values`, when given, replace the old ones whole. */
    update: (ctx: Ctx, id: string, input: UpdateTemplateInput, expectedVersion?: number): Promise<TemplateRow> =>
      templates.update(ctx, id, expectedVersion, async (tx, before) => {
        const values =
          input.values === undefined ? before.values : await checkValues(tx, before.kind as TicketKind, input.values)
        checkStandard(before.kind, input.standard ?? before.standard, values)
        return { ...input, ...(input.values !== undefined ? { values } : {}) }
      })
  }
}

export type TemplateService = ReturnType<typeof createTemplateService>
