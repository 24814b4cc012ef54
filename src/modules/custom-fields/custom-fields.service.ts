import { and, asc, eq, type SQL, sql } from 'drizzle-orm'
import { authorize } from '../../auth/policy.js'
import { customFieldDefinitions } from '../../db/schema/index.js'
import type { Ctx, Deps } from '../../lib/context.js'
import { decodeCursor, type Page, pageOf } from '../../lib/cursor.js'
import {
  badRequest,
  conflictField,
  type FieldError,
  notFound,
  preconditionFailed,
  validationFailed
} from '../../lib/errors.js'
import { uuidv7 } from '../../lib/ids.js'
import { type Change, diff, recordAudit } from '../audit/audit.service.js'
import { isTicketKind, type TicketKind } from '../tickets/kinds.js'
import { CHOICE_TYPES, checkValue, REFERENCE_TYPES } from './custom-fields.rules.js'
import type { CreateCustomFieldInput, CustomFieldListInput, UpdateCustomFieldInput } from './custom-fields.schemas.js'
import type { CustomFieldType } from './custom-fields.types.js'
import { asDefinition, type CustomFieldDefinitionRow, createCustomFieldValues } from './custom-fields.values.js'

const t = customFieldDefinitions
const SORT = 'kind,position,key'
const KEY = /^[a-z][a-zA-Z0-9_]{0,62}$/
const AUDITED = ['kind', 'key', 'label', 'type', 'required', 'defaultValue', 'options', 'position', 'active'] as const
const UNIQUE = 'custom_field_definitions_kind_key_uq'

/** The list is ordered by (kind, position, key), unique per row: the cursor carries all three. */
export const customFieldCursor = (row: Pick<CustomFieldDefinitionRow, 'kind' | 'position' | 'key'>) => ({
  sort: SORT,
  value: row.position,
  id: `${row.kind}:${row.key}`
})

function parseCursor(raw: string): { kind: TicketKind; position: number; key: string } {
  const c = decodeCursor(raw, SORT)
  const [kind, key] = c.id.split(':')
  if (typeof c.value !== 'number' || !Number.isInteger(c.value) || !isTicketKind(kind) || !key || !KEY.test(key)) {
    throw badRequest('invalid cursor: not a cursor from this API', [
      { field: 'cursor', message: 'not a cursor from this API' }
    ])
  }
  return { kind, position: c.value, key }
}

/** Whether an error (or what it wraps) is a violation of the (kind, key) unique index. */
function isDuplicateKey(err: unknown): boolean {
  for (let e = err as { code?: unknown; constraint?: unknown; cause?: unknown } | undefined, i = 0; e && i < 4; i++) {
    if (e.code === '23505' && e.constraint === UNIQUE) return true
    e = e.cause as typeof e
  }
  return false
}

const duplicate = () => conflictField('key', 'a field with this key exists for this kind')

interface Shape {
  type: CustomFieldType
  required: boolean
  defaultValue: unknown
  options: string[]
}

/** The rules a definition must keep after a create or an update; every broken one reported at once. */
function definitionProblems(next: Shape, before?: Shape): FieldError[] {
  const errors: FieldError[] = []
  const choice = CHOICE_TYPES.includes(next.type)
  if (choice && next.options.length === 0) {
    errors.push({ field: 'options', message: `required for ${next.type} fields: at least one option` })
  }
  if (!choice && next.options.length > 0)
    errors.push({ field: 'options', message: `not allowed for ${next.type} fields` })
  const dv = next.defaultValue
  if (dv !== null && dv !== undefined && errors.length === 0) {
    if (REFERENCE_TYPES.includes(next.type)) {
      errors.push({ field: 'defaultValue', message: `${next.type} fields cannot have a default` })
    } else {
      const checked = checkValue({ key: '', type: next.type, options: next.options }, dv, next.required)
      if (!checked.ok) {
        // Options removed out from under the default are the options' fault, not the default's
        const removedDefault =
          before && checkValue({ key: '', type: before.type, options: before.options }, dv, next.required).ok
        errors.push(
          removedDefault
            ? { field: 'options', message: 'would remove an option the default value uses; change defaultValue first' }
            : { field: 'defaultValue', message: checked.message }
        )
      }
    }
  }
  return errors
}

/** Admin CRUD over custom-field definitions, and the value engine the ticket core calls. */
export function createCustomFieldService(deps: Deps) {
  const { db } = deps
  const values = createCustomFieldValues(deps)

  async function get(ctx: Ctx, id: string): Promise<CustomFieldDefinitionRow> {
    authorize(ctx.actor, 'config.read')
    const [row] = await db.select().from(t).where(eq(t.id, id))
    if (!row) throw notFound('custom field')
    return asDefinition(row)
  }

  async function list(ctx: Ctx, input: CustomFieldListInput): Promise<Page<CustomFieldDefinitionRow>> {
    authorize(ctx.actor, 'config.read')
    const limit = input.limit ?? 50
    const where: SQL[] = []
    if (input.kind) where.push(eq(t.kind, input.kind))
    if (input.active !== undefined) where.push(eq(t.active, input.active))
    if (input.cursor) {
      const c = parseCursor(input.cursor)
      where.push(sql`(${t.kind}, ${t.position}, ${t.key}) > (${c.kind}, ${c.position}, ${c.key})`)
    }
    const rows = await db
      .select()
      .from(t)
      .where(and(...where))
      .orderBy(asc(t.kind), asc(t.position), asc(t.key))
      .limit(limit + 1)
    return pageOf(rows.map(asDefinition), limit, customFieldCursor)
  }

  async function create(ctx: Ctx, input: CreateCustomFieldInput): Promise<CustomFieldDefinitionRow> {
    authorize(ctx.actor, 'config.manage')
    const shape: Shape = {
      type: input.type,
      required: input.required ?? false,
      defaultValue: input.defaultValue ?? null,
      options: input.options ?? []
    }
    const problems = definitionProblems(shape)
    if (problems.length > 0) throw validationFailed(problems)
    const [taken] = await db
      .select({ id: t.id })
      .from(t)
      .where(and(eq(t.kind, input.kind), eq(t.key, input.key)))
    if (taken) throw duplicate()
    try {
      const row = await db.transaction(async tx => {
        const [row] = await tx
          .insert(t)
          .values({
            id: uuidv7(),
            kind: input.kind,
            key: input.key,
            label: input.label,
            ...shape,
            position: input.position ?? 0,
            active: input.active ?? true
          })
          .returning()
        const changes: Change[] = AUDITED.map(f => ({ field: f, old: null, new: row![f] ?? null }))
        await recordAudit(tx, ctx, { entityType: 'custom_field', entityId: row!.id, action: 'created', changes })
        return asDefinition(row!)
      })
      return row
    } catch (err) {
      if (isDuplicateKey(err)) throw duplicate()
      throw err
    } finally {
      values.invalidate()
    }
  }

  async function update(
    ctx: Ctx,
    id: string,
    input: UpdateCustomFieldInput,
    expectedVersion?: number
  ): Promise<CustomFieldDefinitionRow> {
    authorize(ctx.actor, 'config.manage')
    try {
      return await db.transaction(async tx => {
        const [before] = await tx.select().from(t).where(eq(t.id, id)).for('update')
        if (!before) throw notFound('custom field')
        if (expectedVersion !== undefined && expectedVersion !== before.version) {
          throw preconditionFailed(`the custom field was changed by someone else (now version ${before.version})`, {
            currentVersion: before.version
          })
        }
        const old: Shape = {
          type: before.type as CustomFieldType,
          required: before.required,
          defaultValue: before.defaultValue ?? null,
          options: before.options as string[]
        }
        const next: Shape = {
          type: old.type,
          required: input.required ?? old.required,
          defaultValue: input.defaultValue !== undefined ? input.defaultValue : old.defaultValue,
          options: input.options ?? old.options
        }
        // An option list that drops the unchanged default is refused naming options, not defaultValue
        const problems = definitionProblems(next, input.defaultValue === undefined ? old : undefined)
        if (problems.length > 0) throw validationFailed(problems)
        const fields = {
          ...(input.label !== undefined ? { label: input.label } : {}),
          ...(input.required !== undefined ? { required: input.required } : {}),
          ...(input.defaultValue !== undefined ? { defaultValue: input.defaultValue } : {}),
          ...(input.options !== undefined ? { options: input.options } : {}),
          ...(input.position !== undefined ? { position: input.position } : {}),
          ...(input.active !== undefined ? { active: input.active } : {})
        }
        const changes = diff(before, fields, [...AUDITED])
        if (changes.length === 0) return asDefinition(before)
        const [row] = await tx
          .update(t)
          .set({ ...fields, version: sql`${t.version} + 1`, updatedAt: new Date() })
          .where(eq(t.id, id))
          .returning()
        await recordAudit(tx, ctx, { entityType: 'custom_field', entityId: id, action: 'updated', changes })
        return asDefinition(row!)
      })
    } finally {
      values.invalidate()
    }
  }

  return { get, list, create, update, values }
}

export type CustomFieldService = ReturnType<typeof createCustomFieldService>
