import { and, inArray, ne, type SQL, sql } from 'drizzle-orm'
import type { CiAttributeDefinition } from '../../db/schema/cmdb.js'
import { ciClasses, configurationItems } from '../../db/schema/index.js'
import type { Queryable } from '../../lib/context.js'
import type { CustomFieldSpec, CustomFieldType } from '../../lib/custom-field-types.js'
import { conflict, type FieldError, validationFailed } from '../../lib/errors.js'
import { isUuid } from '../../lib/ids.js'

export type ClassRow = typeof ciClasses.$inferSelect

/** Every class by name, with what it inherits resolved: one small query, read per write or per import. */
export interface ClassCatalogue {
  byName: ReadonlyMap<string, ClassRow>
  /** The class's own and inherited definitions, nearest class last (a subclass may narrow a default). */
  definitions(name: string): CiAttributeDefinition[]
  /** The class and every class below it (for uniqueness and filters over a class tree). */
  descendants(name: string): string[]
}

export async function loadCatalogue(q: Queryable): Promise<ClassCatalogue> {
  const rows = await q.select().from(ciClasses)
  const byName = new Map(rows.map(r => [r.name, r]))
  const byId = new Map(rows.map(r => [r.id, r]))
  const chain = (name: string) => {
    const out: ClassRow[] = []
    const seen = new Set<string>()
    for (let c = byName.get(name); c && !seen.has(c.id); c = c.parentId ? byId.get(c.parentId) : undefined) {
      seen.add(c.id)
      out.unshift(c)
    }
    return out
  }
  return {
    byName,
    definitions(name) {
      const defs = new Map<string, CiAttributeDefinition>()
      for (const c of chain(name)) for (const d of c.attributes) defs.set(d.name, d)
      return [...defs.values()]
    },
    descendants(name) {
      const root = byName.get(name)
      if (!root) return []
      const out = [root.name]
      const ids = new Set([root.id])
      let grew = true
      while (grew) {
        grew = false
        for (const r of rows) {
          if (r.parentId && ids.has(r.parentId) && !ids.has(r.id)) {
            ids.add(r.id)
            out.push(r.name)
            grew = true
          }
        }
      }
      return out
    }
  }
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/
const realDate = (v: string) => {
  const m = DATE_RE.exec(v)
  if (!m) return false
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])))
  return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3])
}
export const MAX_TEXT_ATTRIBUTE = 4000

/** Why `value` is not a value of `def`, or null when it is one. */
export function attributeProblem(def: CiAttributeDefinition, value: unknown): string | null {
  switch (def.type) {
    case 'text':
      if (typeof value !== 'string') return 'must be a string'
      return value.length > MAX_TEXT_ATTRIBUTE ? `at most ${MAX_TEXT_ATTRIBUTE} characters` : null
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? null : 'must be a number'
    case 'boolean':
      return typeof value === 'boolean' ? null : 'must be true or false'
    case 'date':
      return typeof value === 'string' && realDate(value) ? null : 'must be a date (YYYY-MM-DD)'
    case 'enum':
      return typeof value === 'string' && (def.values ?? []).includes(value)
        ? null
        : `must be one of ${(def.values ?? []).join(', ')}`
    case 'ci':
      return typeof value === 'string' && isUuid(value) ? null : 'must be the id of a configuration item'
  }
}

/**
 * The attributes a CI of `className` is written with: `given` checked against the class's definitions
 * (unknown names, types, enum values, required), defaults filled in where `fill` (a create, or a class
 * change) finds none, null removing a value. Every problem at once, each naming `attributes.<name>` (422);
 * references to CIs are checked against the database, and a unique value another CI holds is a 409.
 */
export async function checkAttributes(
  q: Queryable,
  catalogue: ClassCatalogue,
  className: string,
  merged: Record<string, unknown>,
  opts: { fill: boolean; selfId?: string; touched?: readonly string[] }
): Promise<Record<string, unknown>> {
  const defs = catalogue.definitions(className)
  const byName = new Map(defs.map(d => [d.name, d]))
  const errors: FieldError[] = []
  const out: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(merged)) {
    if (value === null || value === undefined) continue
    const def = byName.get(name)
    if (!def) {
      errors.push({ field: `attributes.${name}`, message: `not an attribute of class ${className}` })
      continue
    }
    const problem = attributeProblem(def, value)
    if (problem) errors.push({ field: `attributes.${name}`, message: problem })
    else out[name] = value
  }
  for (const def of defs) {
    if (out[def.name] === undefined && opts.fill && def.default !== undefined && def.default !== null) {
      if (!(def.name in merged)) out[def.name] = def.default
    }
    if (def.required && out[def.name] === undefined && !errors.some(e => e.field === `attributes.${def.name}`)) {
      errors.push({ field: `attributes.${def.name}`, message: 'required' })
    }
  }
  if (errors.length === 0) errors.push(...(await referenceProblems(q, defs, out)))
  if (errors.length) throw validationFailed(errors)
  const touched = opts.touched ? new Set(opts.touched) : null
  const clashes = await uniqueProblems(q, catalogue, className, defs, out, opts.selfId, touched)
  if (clashes.length) throw conflict('a unique attribute value is taken', undefined, clashes)
  return out
}

async function referenceProblems(q: Queryable, defs: CiAttributeDefinition[], values: Record<string, unknown>) {
  const refs = defs.filter(d => d.type === 'ci' && typeof values[d.name] === 'string')
  if (refs.length === 0) return []
  const ids = [...new Set(refs.map(d => values[d.name] as string))]
  const found = await q
    .select({ id: configurationItems.id })
    .from(configurationItems)
    .where(inArray(configurationItems.id, ids))
  const have = new Set(found.map(r => r.id))
  return refs
    .filter(d => !have.has(values[d.name] as string))
    .map(d => ({ field: `attributes.${d.name}`, message: 'no such configuration item' }))
}

/**
 * A unique attribute holds one value across its class tree (the class that defines it and those below).
 * A transaction-scoped advisory lock per attribute serialises writers of it, so two cannot both pass.
 */
async function uniqueProblems(
  q: Queryable,
  catalogue: ClassCatalogue,
  className: string,
  defs: CiAttributeDefinition[],
  values: Record<string, unknown>,
  selfId: string | undefined,
  touched: Set<string> | null
): Promise<FieldError[]> {
  const errors: FieldError[] = []
  for (const def of defs) {
    if (!def.unique || values[def.name] === undefined || (touched && !touched.has(def.name))) continue
    const owner = [...catalogue.byName.values()].find(c => c.attributes.some(a => a.name === def.name && a.unique))
    const tree = catalogue.descendants(
      owner && catalogue.descendants(owner.name).includes(className) ? owner.name : className
    )
    await q.execute(sql`select pg_advisory_xact_lock(hashtext(${`ci-attribute:${tree[0]}:${def.name}`}))`)
    const where: SQL[] = [
      inArray(configurationItems.ciClass, tree),
      sql`${configurationItems.attributes} @> ${JSON.stringify({ [def.name]: values[def.name] })}::jsonb`
    ]
    if (selfId) where.push(ne(configurationItems.id, selfId))
    const [clash] = await q
      .select({ id: configurationItems.id })
      .from(configurationItems)
      .where(and(...where))
      .limit(1)
    if (clash)
      errors.push({ field: `attributes.${def.name}`, message: `already used by configuration item ${clash.id}` })
  }
  return errors
}

const FILTER_TYPE: Record<CiAttributeDefinition['type'], CustomFieldType> = {
  text: 'text',
  number: 'number',
  boolean: 'boolean',
  date: 'date',
  enum: 'choice',
  ci: 'ci'
}

/** Every attribute any class defines, as the filter compiler's field specs (`attributes.<name>`). */
export function attributeSpecs(catalogue: ClassCatalogue): Map<string, CustomFieldSpec> {
  const specs = new Map<string, CustomFieldSpec>()
  for (const c of catalogue.byName.values()) {
    for (const d of c.attributes) {
      const prev = specs.get(d.name)
      const options = d.type === 'enum' ? [...new Set([...(prev?.options ?? []), ...(d.values ?? [])])] : undefined
      specs.set(d.name, { key: d.name, type: FILTER_TYPE[d.type], ...(options ? { options } : {}) })
    }
  }
  return specs
}
