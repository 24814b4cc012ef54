import { inArray, sql } from 'drizzle-orm'
import type { CiAttributeDefinition } from '../../db/schema/cmdb.js'
import { ciClasses, configurationItems } from '../../db/schema/index.js'
import type { Queryable } from '../../lib/context.js'
import type { CustomFieldSpec, CustomFieldType } from '../../lib/custom-field-types.js'
import { type AppError, conflict, type FieldError, validationFailed } from '../../lib/errors.js'
import { isUuid } from '../../lib/ids.js'
import { sqlArray } from '../../lib/sql-array.js'

export type ClassRow = typeof ciClasses.$inferSelect

/** Every class by name, with what it inherits resolved: one small query, read per write or per import. */
export interface ClassCatalogue {
  byName: ReadonlyMap<string, ClassRow>
  /** The class's own and inherited definitions, nearest class last (a subclass may narrow a default). */
  definitions(name: string): CiAttributeDefinition[]
  /** The class and every class below it (for uniqueness and filters over a class tree), worked out once. */
  descendants(name: string): readonly string[]
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
  const descendantsOf = (name: string) => {
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
  const trees = new Map<string, readonly string[]>()
  return {
    byName,
    definitions(name) {
      const defs = new Map<string, CiAttributeDefinition>()
      for (const c of chain(name)) for (const d of c.attributes) defs.set(d.name, d)
      return [...defs.values()]
    },
    descendants(name) {
      // An import asks once per item: 10,000 times for a handful of classes
      const known = trees.get(name)
      if (known) return known
      const tree = descendantsOf(name)
      trees.set(name, tree)
      return tree
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

/** One CI's attributes to check: its class, the values after a merge, and how (see `checkAttributes`). */
export interface AttributeCheck {
  className: string
  merged: Record<string, unknown>
  fill: boolean
  /** The CI written (its planned id for a create): never a clash with itself. */
  selfId?: string | undefined
  /** On an update, the attributes it sets: only those are checked for uniqueness. */
  touched?: readonly string[] | undefined
}

export type AttributeResult = { ok: true; value: Record<string, unknown> } | { ok: false; error: AppError }

/** A class's definitions made ready once for every CI of it that a write or an import checks. */
interface Compiled {
  defs: CiAttributeDefinition[]
  byName: Map<string, CiAttributeDefinition>
  refs: CiAttributeDefinition[]
  unique: { def: CiAttributeDefinition; tree: readonly string[] }[]
}

function compile(catalogue: ClassCatalogue, className: string): Compiled {
  const defs = catalogue.definitions(className)
  const unique = defs
    .filter(d => d.unique)
    .map(def => {
      const owner = [...catalogue.byName.values()].find(c => c.attributes.some(a => a.name === def.name && a.unique))
      const tree = catalogue.descendants(
        owner && catalogue.descendants(owner.name).includes(className) ? owner.name : className
      )
      return { def, tree }
    })
  return { defs, byName: new Map(defs.map(d => [d.name, d])), refs: defs.filter(d => d.type === 'ci'), unique }
}

/** Names, types, enum values, defaults and required of one CI: no database. */
function shapeOf(c: Compiled, check: AttributeCheck): { out: Record<string, unknown>; errors: FieldError[] } {
  const errors: FieldError[] = []
  const out: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(check.merged)) {
    if (value === null || value === undefined) continue
    const def = c.byName.get(name)
    if (!def) {
      errors.push({ field: `attributes.${name}`, message: `not an attribute of class ${check.className}` })
      continue
    }
    const problem = attributeProblem(def, value)
    if (problem) errors.push({ field: `attributes.${name}`, message: problem })
    else out[name] = value
  }
  for (const def of c.defs) {
    if (out[def.name] === undefined && check.fill && def.default !== undefined && def.default !== null) {
      if (!(def.name in check.merged)) out[def.name] = def.default
    }
    if (def.required && out[def.name] === undefined && !errors.some(e => e.field === `attributes.${def.name}`)) {
      errors.push({ field: `attributes.${def.name}`, message: 'required' })
    }
  }
  return { out, errors }
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
  const [result] = await checkAttributesMany(q, catalogue, [{ className, merged, ...opts }])
  if (!result!.ok) throw result!.error
  return result!.value
}

/**
 * `checkAttributes` for many CIs at once (a discovery import): each class's definitions read once, one
 * query for every CI reference, and per unique attribute one lock and one query for every value, so
 * 10,000 CIs cost a few statements rather than some per CI. Two CIs of the batch giving one unique
 * value: the second is refused. The results follow the checks' order.
 */
export async function checkAttributesMany(
  q: Queryable,
  catalogue: ClassCatalogue,
  checks: readonly AttributeCheck[]
): Promise<AttributeResult[]> {
  const compiled = new Map<string, Compiled>()
  const of = (name: string) => {
    const known = compiled.get(name)
    if (known) return known
    const c = compile(catalogue, name)
    compiled.set(name, c)
    return c
  }
  const shaped = checks.map(check => ({ check, c: of(check.className), ...shapeOf(of(check.className), check) }))

  // References to CIs: one query for every id any CI names
  const refIds = new Set<string>()
  for (const s of shaped)
    if (s.errors.length === 0)
      for (const d of s.c.refs) if (typeof s.out[d.name] === 'string') refIds.add(s.out[d.name] as string)
  const have = new Set<string>()
  if (refIds.size) {
    const found = await q
      .select({ id: configurationItems.id })
      .from(configurationItems)
      .where(inArray(configurationItems.id, [...refIds]))
    for (const r of found) have.add(r.id)
  }
  for (const s of shaped) {
    if (s.errors.length) continue
    for (const d of s.c.refs)
      if (typeof s.out[d.name] === 'string' && !have.has(s.out[d.name] as string))
        s.errors.push({ field: `attributes.${d.name}`, message: 'no such configuration item' })
  }

  // Unique values: per class tree and attribute, one lock and one query for every value checked
  const clashes = shaped.map(() => [] as FieldError[])
  const groups = new Map<string, { tree: readonly string[]; name: string; at: number[] }>()
  shaped.forEach((s, i) => {
    if (s.errors.length) return
    const touched = s.check.touched ? new Set(s.check.touched) : null
    for (const { def, tree } of s.c.unique) {
      if (s.out[def.name] === undefined || (touched && !touched.has(def.name))) continue
      const key = `${tree[0]}:${def.name}`
      const g = groups.get(key) ?? { tree, name: def.name, at: [] }
      g.at.push(i)
      groups.set(key, g)
    }
  })
  for (const [key, g] of [...groups].sort(([a], [b]) => (a < b ? -1 : 1))) {
    // A transaction-scoped advisory lock per attribute serialises writers of it, so two cannot both pass
    await q.execute(sql`select pg_advisory_xact_lock(hashtext(${`ci-attribute:${key}`}))`)
    const values = [...new Set(g.at.map(i => JSON.stringify(shaped[i]!.out[g.name])))]
    const taken = (
      (await q.execute(sql`select ${configurationItems.id}::text as id, (${configurationItems.attributes} -> ${g.name}::text)::text as v
        from ${configurationItems}
        where ${configurationItems.ciClass} = any(${sqlArray(g.tree, 'text')})
          and ${configurationItems.attributes} -> ${g.name}::text in (select jsonb_array_elements(${JSON.stringify(values.map(v => JSON.parse(v)))}::jsonb))
        order by ${configurationItems.id}`)) as unknown as { rows: { id: string; v: string }[] }
    ).rows
    const holders = new Map<string, string[]>()
    for (const r of taken) holders.set(canonical(r.v), [...(holders.get(canonical(r.v)) ?? []), r.id])
    const claimed = new Map<string, string | undefined>()
    for (const i of g.at) {
      const s = shaped[i]!
      const v = canonical(JSON.stringify(s.out[g.name]))
      const other = (holders.get(v) ?? []).find(id => id !== s.check.selfId)
      if (other) {
        clashes[i]!.push({ field: `attributes.${g.name}`, message: `already used by configuration item ${other}` })
      } else if (claimed.has(v)) {
        const first = claimed.get(v)
        clashes[i]!.push({
          field: `attributes.${g.name}`,
          message: first ? `already used by configuration item ${first}` : 'already used by another item'
        })
      } else claimed.set(v, s.check.selfId)
    }
  }
  return shaped.map((s, i) => {
    if (s.errors.length) return { ok: false, error: validationFailed(s.errors) }
    if (clashes[i]!.length)
      return { ok: false, error: conflict('a unique attribute value is taken', undefined, clashes[i]) }
    return { ok: true, value: s.out }
  })
}

/** One spelling of a JSON value, whichever side (PostgreSQL's jsonb text or JSON.stringify) wrote it. */
const canonical = (json: string) => JSON.stringify(JSON.parse(json))

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
