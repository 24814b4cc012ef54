import { and, eq, ilike, ne, type SQL, sql } from 'drizzle-orm'
import type { TSchema } from 'typebox'
import { authorize, isStaff } from '../../auth/policy.js'
import { teams, ticketTemplates } from '../../db/schema/index.js'
import { canonical } from '../../lib/canonical.js'
import type { Ctx, Deps, Queryable } from '../../lib/context.js'
import { AppError, conflictField, fieldError, invalidInput, notFound, preconditionFailed } from '../../lib/errors.js'
import { isUuid, uuidv7 } from '../../lib/ids.js'
import { textKeyset } from '../../lib/keyset.js'
import { check } from '../../lib/validate.js'
import { diff, recordAudit } from '../audit/audit.service.js'
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

/** values are checked by code, not by the route schema: the schema validator's answer all the same. */
function schemaChecked<T>(schema: TSchema, raw: unknown, prefix: string): T {
  try {
    return check<T>(schema, raw, prefix)
  } catch (err) {
    if (err instanceof AppError && err.status === 400 && err.errors) throw invalidInput(err.errors)
    throw err
  }
}

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

export const templateKeyset = textKeyset<StoredTemplate>('name', ticketTemplates.name, ticketTemplates.id, r => r.name)

/** Ticket templates per kind, edited by admins; everyone who may raise tickets reads the active ones. */
export function createTemplateService({ db }: Deps) {
  const hidden = (ctx: Ctx, row: { active: boolean }) => !row.active && !isStaff(ctx.actor)

  /** Values typed per kind (400 naming values.<key>), then their references (422 naming values.<key>). */
  async function checkValues(q: Queryable, kind: TicketKind, raw: unknown): Promise<TemplateValues> {
    const values = canonical(schemaChecked<TemplateValues>(TEMPLATE_VALUES[kind], raw, 'values'))
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

  async function assertNameFree(q: Queryable, kind: string, name: string, self?: string) {
    const where: SQL[] = [eq(ticketTemplates.kind, kind), sql`lower(${ticketTemplates.name}) = lower(${name})`]
    if (self) where.push(ne(ticketTemplates.id, self))
    const [clash] = await q
      .select({ id: ticketTemplates.id })
      .from(ticketTemplates)
      .where(and(...where))
    if (clash) throw conflictField('name', `a ${kind} template with this name exists`)
  }

  return {
    async get(ctx: Ctx, id: string): Promise<TemplateRow> {
      authorize(ctx.actor, 'config.read')
      const [row] = await db.select().from(ticketTemplates).where(eq(ticketTemplates.id, id))
      if (!row || hidden(ctx, row)) throw notFound('template')
      return typed(row)
    },

    async list(ctx: Ctx, input: TemplateListInput) {
      authorize(ctx.actor, 'config.read')
      const limit = input.limit ?? 50
      const where: (SQL | undefined)[] = [templateKeyset.after(input.cursor)]
      if (input.kind) where.push(eq(ticketTemplates.kind, input.kind))
      if (input.active !== undefined) where.push(eq(ticketTemplates.active, input.active))
      if (!isStaff(ctx.actor)) where.push(eq(ticketTemplates.active, true))
      if (input.q) where.push(ilike(ticketTemplates.name, `%${input.q.replace(/[\\%_]/g, m => `\\${m}`)}%`))
      const rows = await db
        .select()
        .from(ticketTemplates)
        .where(and(...where))
        .orderBy(...templateKeyset.orderBy)
        .limit(limit + 1)
      return templateKeyset.page(rows, limit, typed)
    },

    async create(ctx: Ctx, input: CreateTemplateInput): Promise<TemplateRow> {
      authorize(ctx.actor, 'config.manage')
      return db.transaction(async tx => {
        const values = await checkValues(tx, input.kind, input.values ?? {})
        const standard = input.standard ?? false
        checkStandard(input.kind, standard, values)
        await assertNameFree(tx, input.kind, input.name)
        const [row] = await tx
          .insert(ticketTemplates)
          .values({
            id: uuidv7(),
            kind: input.kind,
            name: input.name,
            description: input.description ?? '',
            values,
            standard,
            active: input.active ?? true
          })
          .returning()
        await recordAudit(tx, ctx, {
          entityType: 'template',
          entityId: row!.id,
          action: 'created',
          changes: (['kind', 'name', 'description', 'values', 'standard', 'active'] as const).map(f => ({
            field: f,
            old: null,
            new: row![f]
          }))
        })
        return typed(row!)
      })
    },

    /** `values`, when given, replace the old ones whole. */
    async update(ctx: Ctx, id: string, input: UpdateTemplateInput, expectedVersion?: number): Promise<TemplateRow> {
      authorize(ctx.actor, 'config.manage')
      return db.transaction(async tx => {
        const [before] = await tx.select().from(ticketTemplates).where(eq(ticketTemplates.id, id)).for('update')
        if (!before) throw notFound('template')
        if (expectedVersion !== undefined && expectedVersion !== before.version) {
          throw preconditionFailed(`the template was changed by someone else (now version ${before.version})`, {
            currentVersion: before.version
          })
        }
        const kind = before.kind as TicketKind
        const values =
          input.values === undefined ? (before.values as TemplateValues) : await checkValues(tx, kind, input.values)
        const standard = input.standard ?? before.standard
        checkStandard(kind, standard, values)
        if (input.name !== undefined) await assertNameFree(tx, kind, input.name, id)
        const after = { ...input, ...(input.values !== undefined ? { values } : {}) }
        const changes = diff({ ...before, values: canonical(before.values) }, after, [
          'name',
          'description',
          'values',
          'standard',
          'active'
        ])
        if (changes.length === 0) return typed(before)
        const [row] = await tx
          .update(ticketTemplates)
          .set({ ...after, version: sql`${ticketTemplates.version} + 1`, updatedAt: new Date() })
          .where(eq(ticketTemplates.id, id))
          .returning()
        await recordAudit(tx, ctx, { entityType: 'template', entityId: id, action: 'updated', changes })
        return typed(row!)
      })
    }
  }
}

export type TemplateService = ReturnType<typeof createTemplateService>
