import { eq, inArray } from 'drizzle-orm'
import { type configurationItems, costCentres, organisations, teams } from '../../db/schema/index.js'
import { normaliseHost, normaliseMac, normaliseSerial, normaliseUuid } from '../../lib/ci-identity.js'
import type { Queryable } from '../../lib/context.js'
import { fieldError, validationFailed } from '../../lib/errors.js'
import type { Change } from '../audit/audit.service.js'
import type { CiView } from './cis.repository.js'
import type { UpdateCiInput } from './cmdb.schemas.js'

/** The fields of a CI that history records (attributes are recorded one by one as attributes.<name>). */
export const CI_FIELDS = [
  'name',
  'class',
  'hostname',
  'fqdn',
  'serial',
  'macAddress',
  'systemUuid',
  'status',
  'supportTeamId',
  'macAddresses',
  'assetTag',
  'ownerTeamId',
  'organisationId',
  'location',
  'costCentreId'
] as const satisfies readonly (keyof CiView)[]
export type CiField = (typeof CI_FIELDS)[number]

/** Column property of each field (`class` is `ciClass` in drizzle). */
export const COLUMN_OF: Record<CiField, keyof typeof configurationItems.$inferInsert> = {
  name: 'name',
  class: 'ciClass',
  status: 'status',
  hostname: 'hostname',
  fqdn: 'fqdn',
  serial: 'serial',
  macAddress: 'macAddress',
  macAddresses: 'macAddresses',
  systemUuid: 'systemUuid',
  assetTag: 'assetTag',
  supportTeamId: 'supportTeamId',
  ownerTeamId: 'ownerTeamId',
  organisationId: 'organisationId',
  location: 'location',
  costCentreId: 'costCentreId'
}

const scalar = (v: unknown) => typeof v === 'string' || typeof v === 'boolean' || Number.isFinite(v)

/**
 * Whether two field or attribute values are one value as JSON (null and absent alike). Strings, booleans
 * and numbers compare directly (an import compares some 100,000 of them); anything else by its JSON.
 */
export function same(a: unknown, b: unknown): boolean {
  const x = a ?? null
  const y = b ?? null
  if (x === y) return true
  if ((x === null || scalar(x)) && (y === null || scalar(y))) return false
  return JSON.stringify(x) === JSON.stringify(y)
}
const shown = (v: unknown) => (v instanceof Date ? v.toISOString() : (v ?? null))

/** Field by field, then attribute by attribute: what history records of a CI write. */
export function ciChanges(
  before: Partial<Pick<CiView, CiField | 'attributes'>>,
  after: Partial<Pick<CiView, CiField | 'attributes'>>
): Change[] {
  const changes: Change[] = []
  for (const f of CI_FIELDS) {
    if (!(f in after)) continue
    if (!same(before[f], after[f])) changes.push({ field: f, old: shown(before[f]), new: shown(after[f]) })
  }
  if (after.attributes) {
    const a = before.attributes ?? {}
    const b = after.attributes
    for (const name of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      if (!same(a[name], b[name]))
        changes.push({ field: `attributes.${name}`, old: a[name] ?? null, new: b[name] ?? null })
    }
  }
  return changes
}

/**
 * A MAC or system UUID the schema let through but that names no machine (mixed separators, all zeros,
 * all F) is refused rather than stored, naming the field.
 */
function keyOf(field: string, raw: string | null | undefined, normalise: (v: string) => string | null) {
  if (raw === undefined) return undefined
  if (raw === null) return null
  const v = normalise(raw)
  if (v === null) throw fieldError(field, 'does not identify a machine')
  return v
}

/**
 * The fields a create or update body sets, identification keys in their one spelling (lib/ci-identity.ts)
 * so events and ticket references find what the CMDB stores. The primary MAC is always among the MACs.
 */
export function fieldsOf(input: UpdateCiInput, current?: { macAddress: string | null; macAddresses: string[] }) {
  const { hostname, fqdn, serial, macAddress, macAddresses, systemUuid, attributes: _a, ...rest } = input
  const set: Partial<Pick<CiView, CiField>> = { ...rest }
  if (hostname !== undefined) set.hostname = normaliseHost(hostname)
  if (fqdn !== undefined) set.fqdn = normaliseHost(fqdn)
  if (serial !== undefined) set.serial = normaliseSerial(serial)
  if (systemUuid !== undefined) set.systemUuid = keyOf('systemUuid', systemUuid, normaliseUuid)
  const primary = keyOf('macAddress', macAddress, normaliseMac)
  if (macAddresses !== undefined) {
    set.macAddresses = [...new Set(macAddresses.map((m, i) => keyOf(`macAddresses[${i}]`, m, normaliseMac)!))]
  }
  if (primary !== undefined) set.macAddress = primary
  if (macAddresses !== undefined && primary === undefined && current?.macAddress == null) {
    set.macAddress = set.macAddresses?.[0] ?? null
  }
  if (set.macAddress || set.macAddresses) {
    const all = set.macAddresses ?? current?.macAddresses ?? []
    const first = set.macAddress !== undefined ? set.macAddress : (current?.macAddress ?? null)
    if (first && !all.includes(first)) set.macAddresses = [first, ...all]
  }
  return set
}

/** Field values as columns for an insert or update. */
export function columnsOf(fields: Partial<Pick<CiView, CiField>>) {
  const out: Partial<typeof configurationItems.$inferInsert> = {}
  for (const [f, v] of Object.entries(fields)) (out as Record<string, unknown>)[COLUMN_OF[f as CiField]] = v
  return out
}

/** Teams and the organisation a CI names must exist: one 422 naming every bad field. */
export async function assertReferences(q: Queryable, fields: Partial<Pick<CiView, CiField>>) {
  const teamFields = (['supportTeamId', 'ownerTeamId'] as const).filter(f => fields[f])
  const errors = []
  if (teamFields.length) {
    const ids = teamFields.map(f => fields[f]!)
    const found = new Set((await q.select({ id: teams.id }).from(teams).where(inArray(teams.id, ids))).map(r => r.id))
    for (const f of teamFields) if (!found.has(fields[f]!)) errors.push({ field: f, message: 'no such team' })
  }
  if (fields.organisationId) {
    const [org] = await q
      .select({ id: organisations.id })
      .from(organisations)
      .where(eq(organisations.id, fields.organisationId))
    if (!org) errors.push({ field: 'organisationId', message: 'no such organisation' })
  }
  if (fields.costCentreId) {
    const [centre] = await q
      .select({ id: costCentres.id })
      .from(costCentres)
      .where(eq(costCentres.id, fields.costCentreId))
    if (!centre) errors.push({ field: 'costCentreId', message: 'no such cost centre' })
  }
  if (errors.length) throw validationFailed(errors)
}
