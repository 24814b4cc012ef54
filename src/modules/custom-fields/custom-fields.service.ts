import { asc, eq, sql } from 'drizzle-orm'
import { authorize } from '../../auth/policy.js'
import { customFieldDefinitions } from '../../db/schema/index.js'
import type { Ctx, Deps } from '../../lib/context.js'
import { decodeCursor, encodeCursor, type Page, pageOf } from '../../lib/cursor.js'
import { badRequest, type FieldError, validationFailed } from '../../lib/errors.js'
import { adminResource, type ListOrder } from '../admin/admin-resource.js'
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

/** Keyset order of the list: (kind, position, key), unique per row, all three in the cursor. */
export const customFieldOrder: ListOrder<CustomFieldDefinitionRow> = {
  after(raw) {
    if (!raw) return undefined
    const c = parseCursor(raw)
    return sql`(${t.kind}, ${t.position}, ${t.key}) > (${c.kind}, ${c.position}, ${c.key})`
  },
  orderBy: [asc(t.kind), asc(t.position), asc(t.key)],
  cursorOf: row => encodeCursor(customFieldCursor(row)),
  page: (rows, limit, shape) => pageOf(rows, limit, customFieldCursor, shape)
}

const shapeOf = (row: CustomFieldDefinitionRow): Shape => ({
  type: row.type,
  required: row.required,
  defaultValue: row.defaultValue ?? null,
  options: row.options
})

/** Admin CRUD over custom-field definitions (the admin-resource helper), and the value engine the ticket core calls. */
export function createCustomFieldService(deps: Deps) {
  const { db } = deps
  const values = createCustomFieldValues(deps)
  const fields = adminResource<CustomFieldDefinitionRow, CustomFieldDefinitionRow>(db, {
    table: t,
    id: t.id,
    version: t.version,
    entityType: 'custom_field',
    noun: 'custom field',
    fields: AUDITED,
    unique: { [UNIQUE]: { field: 'key', message: 'a field with this key exists for this kind' } },
    view: asDefinition,
    authorizeRead: ctx => authorize(ctx.actor, 'config.read'),
    authorizeWrite: ctx => authorize(ctx.actor, 'config.manage'),
    changed: () => values.invalidate()
  })

  return {
    get: fields.get,
    cursorOf: customFieldOrder.cursorOf,

    list: (ctx: Ctx, input: CustomFieldListInput): Promise<Page<CustomFieldDefinitionRow>> =>
      fields.list(ctx, input, customFieldOrder, [
        input.kind ? eq(t.kind, input.kind) : undefined,
        input.active !== undefined ? eq(t.active, input.active) : undefined
      ]),

    create(ctx: Ctx, input: CreateCustomFieldInput): Promise<CustomFieldDefinitionRow> {
      const shape: Shape = {
        type: input.type,
        required: input.required ?? false,
        defaultValue: input.defaultValue ?? null,
        options: input.options ?? []
      }
      return fields.create(ctx, async () => {
        const problems = definitionProblems(shape)
        if (problems.length > 0) throw validationFailed(problems)
        return {
          kind: input.kind,
          key: input.key,
          label: input.label,
          ...shape,
          position: input.position ?? 0,
          active: input.active ?? true
        }
      })
    },

    update: (ctx: Ctx, id: string, input: UpdateCustomFieldInput, expectedVersion?: number) =>
      fields.update(ctx, id, expectedVersion, async (_tx, before) => {
        const old = shapeOf(before)
        const next: Shape = {
          type: old.type,
          required: input.required ?? old.required,
          defaultValue: input.defaultValue !== undefined ? input.defaultValue : old.defaultValue,
          options: input.options ?? old.options
        }
        // An option list that drops the unchanged default is refused naming options, not defaultValue
        const problems = definitionProblems(next, input.defaultValue === undefined ? old : undefined)
        if (problems.length > 0) throw validationFailed(problems)
        return { ...input }
      }),

    values
  }
}

export type CustomFieldService = ReturnType<typeof createCustomFieldService>
