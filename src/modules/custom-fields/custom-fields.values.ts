import { and, asc, eq, inArray } from 'drizzle-orm'
import { configurationItems, customFieldDefinitions, users } from '../../db/schema/index.js'
import type { Deps, Queryable } from '../../lib/context.js'
import { type FieldError, validationFailed } from '../../lib/errors.js'
import type { Change } from '../audit/audit.service.js'
import type { TicketKind } from '../tickets/kinds.js'
import { checkValue, sameValue } from './custom-fields.rules.js'
import type { CustomFieldSpec, CustomFieldType } from './custom-fields.types.js'

type DbRow = typeof customFieldDefinitions.$inferSelect
/** A definition as stored; kind, type and options only ever hold what the service checked on the way in. */
export type CustomFieldDefinitionRow = Omit<DbRow, 'kind' | 'type' | 'options'> & {
  kind: TicketKind
  type: CustomFieldType
  options: string[]
}
export const asDefinition = (row: DbRow) => row as CustomFieldDefinitionRow

/** What resolve() answers: the whole value object to store, and the per-key diff for the audit. */
export interface ResolvedCustomFields {
  values: Record<string, unknown>
  changes: Change[]
}

interface KindEntry {
  until: number
  all: CustomFieldDefinitionRow[]
  active: CustomFieldDefinitionRow[]
  specs: ReadonlyMap<string, CustomFieldSpec>
}

export const specOf = (row: Pick<CustomFieldDefinitionRow, 'key' | 'type' | 'options'>): CustomFieldSpec => ({
  key: row.key,
  type: row.type,
  ...(row.type === 'choice' || row.type === 'multichoice' ? { options: row.options } : {})
})

const fieldName = (key: string) => `customFields.${key}`

/**
 * The custom-field value engine the ticket core calls on every write. Definitions of a kind are cached
 * per process for AUTH_CACHE_TTL_MS: a definition write here invalidates at once, another process sees
 * it when its cache runs out.
 */
export function createCustomFieldValues({ config }: Pick<Deps, 'config'>) {
  const ttl = config.AUTH_CACHE_TTL_MS
  const cache = new Map<TicketKind, KindEntry>()
  // A load that began before an invalidation must not put what it read back into the cache
  let generation = 0

  async function load(q: Queryable, kind: TicketKind): Promise<KindEntry> {
    const hit = cache.get(kind)
    if (hit && hit.until > Date.now()) return hit
    const startedAt = generation
    const rows = await q
      .select()
      .from(customFieldDefinitions)
      .where(eq(customFieldDefinitions.kind, kind))
      .orderBy(asc(customFieldDefinitions.position), asc(customFieldDefinitions.key))
    const all = rows.map(asDefinition)
    const entry: KindEntry = {
      until: Date.now() + ttl,
      all,
      active: all.filter(r => r.active),
      specs: new Map(all.map(r => [r.key, specOf(r)]))
    }
    if (ttl > 0 && startedAt === generation) cache.set(kind, entry)
    return entry
  }

  /** Ids among `ids` that name rows of the query; one query however many values. */
  async function existing(q: Queryable, type: 'user' | 'ci', ids: string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set()
    const unique = [...new Set(ids)]
    const rows =
      type === 'user'
        ? await q
            .select({ id: users.id })
            .from(users)
            .where(and(inArray(users.id, unique), eq(users.active, true)))
        : await q
            .select({ id: configurationItems.id })
            .from(configurationItems)
            .where(inArray(configurationItems.id, unique))
    return new Set(rows.map(r => r.id))
  }

  async function resolve(
    q: Queryable,
    kind: TicketKind,
    input: Record<string, unknown> | undefined,
    existingValues: Record<string, unknown> | null
  ): Promise<ResolvedCustomFields> {
    const creating = existingValues === null
    const before = existingValues ?? {}
    const { all } = await load(q, kind)
    const byKey = new Map(all.map(r => [r.key, r]))
    const errors: FieldError[] = []
    const set = new Map<string, unknown>()
    const cleared = new Set<string>()
    const refs: { key: string; type: 'user' | 'ci'; id: string }[] = []

    if (input !== undefined && (input === null || typeof input !== 'object' || Array.isArray(input))) {
      throw validationFailed([{ field: 'customFields', message: 'must be an object keyed by field key' }])
    }

    for (const [key, value] of Object.entries(input ?? {})) {
      if (value === undefined) continue
      const def = byKey.get(key)
      if (!def) {
        errors.push({ field: fieldName(key), message: `unknown field for ${kind}` })
        continue
      }
      if (!def.active) {
        // Sending back an unchanged value read earlier is no write: a client may round-trip what it read
        if (!creating && sameValue(before[key], value)) continue
        errors.push({ field: fieldName(key), message: 'field is inactive' })
        continue
      }
      if (value === null) {
        if (def.required) errors.push({ field: fieldName(key), message: 'required' })
        else cleared.add(key)
        continue
      }
      const checked = checkValue(specOf(def), value, def.required)
      if (!checked.ok) {
        errors.push({ field: fieldName(key), message: checked.message })
        continue
      }
      set.set(key, checked.value)
      if (def.type === 'user' || def.type === 'ci') refs.push({ key, type: def.type, id: checked.value as string })
    }

    if (creating) {
      for (const def of all) {
        if (!def.active || set.has(def.key) || cleared.has(def.key) || byKeyErrored(errors, def.key)) continue
        if (def.defaultValue !== null && def.defaultValue !== undefined) {
          set.set(def.key, structuredClone(def.defaultValue))
        } else if (def.required) {
          errors.push({ field: fieldName(def.key), message: 'required' })
        }
      }
      // An explicit null on create for a required field was reported above; for others it means "no value"
    }

    if (refs.length > 0) {
      const [foundUsers, foundCis] = await Promise.all([
        existing(
          q,
          'user',
          refs.filter(r => r.type === 'user').map(r => r.id)
        ),
        existing(
          q,
          'ci',
          refs.filter(r => r.type === 'ci').map(r => r.id)
        )
      ])
      for (const r of refs) {
        if (r.type === 'user' && !foundUsers.has(r.id)) {
          errors.push({ field: fieldName(r.key), message: 'must be an existing active user' })
        }
        if (r.type === 'ci' && !foundCis.has(r.id)) {
          errors.push({ field: fieldName(r.key), message: 'must be an existing configuration item' })
        }
      }
    }

    if (errors.length > 0) throw validationFailed(errors)

    const values: Record<string, unknown> = { ...before }
    for (const key of cleared) delete values[key]
    for (const [key, value] of set) values[key] = value

    const changes: Change[] = []
    const keys = [...all.map(r => r.key), ...Object.keys(values), ...Object.keys(before)]
    for (const key of new Set(keys)) {
      const old = before[key] ?? null
      const now = values[key] ?? null
      if (!sameValue(old, now)) changes.push({ field: fieldName(key), old, new: now })
    }
    return { values, changes }
  }

  return {
    /** Active definitions of a kind, in form order (position, key). */
    async definitions(q: Queryable, kind: TicketKind): Promise<CustomFieldDefinitionRow[]> {
      return (await load(q, kind)).active
    },
    /** Every key of a kind, active or not, so values written before a field was retired stay filterable. */
    async specs(q: Queryable, kind: TicketKind): Promise<ReadonlyMap<string, CustomFieldSpec>> {
      return (await load(q, kind)).specs
    },
    /**
     * Checks and merges the custom-field values of a ticket write. Create (`existing` null): applies
     * defaults and refuses missing required fields. Update: merges into `existing`; null clears a
     * non-required field. Every bad value is reported at once (422), each named `customFields.<key>`.
     */
    resolve,
    /** Drops the cached definitions: called after every definition write. */
    invalidate(): void {
      generation++
      cache.clear()
    }
  }
}

export type CustomFieldValues = ReturnType<typeof createCustomFieldValues>

const byKeyErrored = (errors: FieldError[], key: string) => errors.some(e => e.field === fieldName(key))
