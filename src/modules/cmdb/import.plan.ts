import type { configurationItems, discoverySources } from '../../db/schema/index.js'
import {
  type DiscoveredKeys,
  identifyDiscovered,
  normaliseHost,
  normaliseMac,
  normaliseSerial,
  normaliseUuid,
  shortHost
} from '../../lib/ci-identity.js'
import { AppError, type FieldError } from '../../lib/errors.js'
import type { Change } from '../audit/audit.service.js'
import type { ClassCatalogue } from './attributes.js'
import { CI_FIELDS, type CiField, COLUMN_OF, same } from './ci-fields.js'
import type { ImportItemInput, ImportItemReport } from './import.schemas.js'

export type CiRow = typeof configurationItems.$inferSelect
export type SourceRow = typeof discoverySources.$inferSelect

/** Fields discovery writes, as the item states them (identifiers in their stored spelling). */
export type DiscoveredFields = Partial<Record<CiField, unknown>> & { name: string; class: string }

/** One item normalised: what it says and what it is identified by. */
export interface NormalisedItem {
  index: number
  key: string | null
  fields: DiscoveredFields
  keys: DiscoveredKeys
  attributes: Record<string, unknown>
}

export function normaliseItem(item: ImportItemInput, index: number): NormalisedItem {
  const id = item.identifiers ?? {}
  const fqdn = id.fqdn != null ? normaliseHost(id.fqdn) : null
  const hostname = id.hostname != null ? normaliseHost(id.hostname) : fqdn ? shortHost(fqdn) : null
  const macs = [...new Set((id.macAddresses ?? []).map(m => normaliseMac(m)).filter((m): m is string => m !== null))]
  const serial = id.serial != null ? normaliseSerial(id.serial) : null
  const systemUuid = id.systemUuid != null ? normaliseUuid(id.systemUuid) : null
  const fields: DiscoveredFields = { name: item.name, class: item.class }
  if (item.status) fields.status = item.status
  if (id.serial !== undefined) fields.serial = serial
  if (id.systemUuid !== undefined) fields.systemUuid = systemUuid
  if (id.fqdn !== undefined) fields.fqdn = fqdn
  if (id.hostname !== undefined || id.fqdn !== undefined) fields.hostname = hostname
  if (id.assetTag !== undefined) fields.assetTag = id.assetTag?.trim() || null
  if (id.macAddresses !== undefined) {
    fields.macAddresses = macs
    fields.macAddress = macs[0] ?? null
  }
  return {
    index,
    key: item.key ?? null,
    fields,
    attributes: item.attributes ?? {},
    keys: { serial, systemUuid, macAddresses: macs, fqdn, name: item.name, className: item.class }
  }
}

/** Candidates by each key, so identifying 10,000 items is 10,000 lookups, not a scan each. */
export function indexCandidates(rows: readonly CiRow[]) {
  const add = (m: Map<string, CiRow[]>, k: string | null, r: CiRow) => {
    if (!k) return
    const list = m.get(k)
    if (list) list.push(r)
    else m.set(k, [r])
  }
  const bySerial = new Map<string, CiRow[]>()
  const byUuid = new Map<string, CiRow[]>()
  const byMac = new Map<string, CiRow[]>()
  const byFqdn = new Map<string, CiRow[]>()
  const byName = new Map<string, CiRow[]>()
  for (const r of rows) {
    add(bySerial, r.serial, r)
    add(byUuid, r.systemUuid, r)
    for (const m of r.macAddresses) add(byMac, m, r)
    add(byFqdn, r.fqdn, r)
    add(byName, r.name, r)
  }
  /** The rows sharing any key with these: the only ones identification can pick. */
  return (keys: DiscoveredKeys): CiRow[] => {
    const out = new Map<string, CiRow>()
    const take = (list: CiRow[] | undefined) => {
      for (const r of list ?? []) out.set(r.id, r)
    }
    if (keys.serial) take(bySerial.get(keys.serial))
    if (keys.systemUuid) take(byUuid.get(keys.systemUuid))
    for (const m of keys.macAddresses) take(byMac.get(m))
    if (keys.fqdn) take(byFqdn.get(keys.fqdn))
    take(byName.get(keys.name))
    return [...out.values()].sort((a, b) => (a.id < b.id ? -1 : 1))
  }
}

/** Finds the CI an item describes: the source's own key first, then the identification rules. */
export function identifyItem(
  item: NormalisedItem,
  byKey: ReadonlyMap<string, CiRow>,
  candidatesOf: (keys: DiscoveredKeys) => CiRow[],
  catalogue: ClassCatalogue
): { row: CiRow; by: string } | { conflict: string } | null {
  if (item.key) {
    const row = byKey.get(item.key)
    if (row) return { row, by: 'key' }
  }
  const tree = catalogue.descendants(item.fields.class)
  return identifyDiscovered(item.keys, candidatesOf(item.keys), c => tree.includes(c))
}

/** Whether `source` may overwrite a field last written by `owner` (a source id, `manual`, or nobody). */
export function mayWrite(source: SourceRow, owner: string | undefined, sources: ReadonlyMap<string, SourceRow>) {
  if (!owner || owner === source.id) return true
  if (owner === 'manual') return source.overridesManual
  const other = sources.get(owner)
  return !other || source.precedence >= other.precedence
}

export interface FieldPlan {
  /** New field values (class kept when the CI's class is the item's or below it). */
  set: Partial<Record<CiField, unknown>>
  /** Attributes after the item's allowed values are merged in (before validation). */
  attributes: Record<string, unknown>
  touchedAttributes: string[]
  protected: string[]
  fieldSources: Record<string, string>
}

/** What an item changes on an existing CI, field by field, as the source's precedence allows. */
export function planUpdate(
  row: CiRow,
  item: NormalisedItem,
  source: SourceRow,
  sources: ReadonlyMap<string, SourceRow>
): FieldPlan {
  const set: Partial<Record<CiField, unknown>> = {}
  const protectedFields: string[] = []
  // Copied on the first change only: an unchanged item (the common re-import) allocates nothing
  let fieldSources = row.fieldSources
  const own = (field: string) => {
    if (fieldSources === row.fieldSources) fieldSources = { ...row.fieldSources }
    fieldSources[field] = source.id
  }
  for (const [f, v] of Object.entries(item.fields) as [CiField, unknown][]) {
    if (f === 'class' || f === 'macAddress' || same(row[COLUMN_OF[f]], v)) continue
    if (!mayWrite(source, row.fieldSources[f], sources)) {
      protectedFields.push(f)
      continue
    }
    set[f] = v
    own(f)
  }
  // The machine's MACs as reported: the primary one stays while it is among them
  const macs = item.fields.macAddresses as string[] | undefined
  if (macs && !protectedFields.includes('macAddresses')) {
    const primary = row.macAddress && macs.includes(row.macAddress) ? row.macAddress : (macs[0] ?? null)
    if (primary !== row.macAddress) {
      set.macAddress = primary
      own('macAddress')
    }
  }
  let attributes = row.attributes
  const touched: string[] = []
  for (const [name, v] of Object.entries(item.attributes)) {
    const field = `attributes.${name}`
    if (same(attributes[name], v)) continue
    if (!mayWrite(source, row.fieldSources[field], sources)) {
      protectedFields.push(field)
      continue
    }
    if (attributes === row.attributes) attributes = { ...row.attributes }
    if (v === null) delete attributes[name]
    else attributes[name] = v
    touched.push(name)
    own(field)
  }
  return { set, attributes, touchedAttributes: touched, protected: protectedFields, fieldSources }
}

/**
 * History changes of a created CI: every field from nothing, then every attribute by name, as
 * `ciChanges` of a blank CI and this one answers, read from the row without building either view
 * (an import creates 10,000 of them).
 */
export function createdChanges(row: CiRow): Change[] {
  const changes: Change[] = []
  for (const f of CI_FIELDS) {
    const v = row[COLUMN_OF[f]]
    if (!same(null, v)) changes.push({ field: f, old: null, new: v instanceof Date ? v.toISOString() : v })
  }
  const attributes = row.attributes
  for (const name of Object.keys(attributes).sort()) {
    const v = attributes[name]
    if (!same(null, v)) changes.push({ field: `attributes.${name}`, old: null, new: v ?? null })
  }
  return changes
}

export function emptyReport(item: { index: number; key: string | null }): ImportItemReport {
  return {
    index: item.index,
    key: item.key,
    result: 'unchanged',
    ciId: null,
    identifiedBy: null,
    changed: [],
    protected: [],
    reason: null,
    errors: []
  }
}

/** An AppError's field errors, or one naming the item. */
export function errorsOf(err: unknown): FieldError[] | null {
  if (!(err instanceof AppError) || err.status >= 500) return null
  return err.errors?.length ? err.errors : [{ field: '', message: err.message }]
}

/** An item planned for writing: its row after the import, and the history it leaves. */
export interface Planned {
  item: NormalisedItem
  report: ImportItemReport
  row: CiRow
  isNew: boolean
  changes: Change[]
}
