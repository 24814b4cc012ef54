import { eq, getTableColumns, type SQL, sql } from 'drizzle-orm'
import { authorize } from '../../auth/policy.js'
import { ciRelationshipTypes, ciSourceRecords, configurationItems, discoverySources } from '../../db/schema/index.js'
import { type Ctx, type Deps, type Tx, withTx } from '../../lib/context.js'
import { AppError, type FieldError, fieldError } from '../../lib/errors.js'
import { selectList, selectRows } from '../../lib/fast-rows.js'
import { uuidv7 } from '../../lib/ids.js'
import { sqlArray } from '../../lib/sql-array.js'
import { type AuditEntry, recordAudit } from '../audit/audit.service.js'
import { type AttributeCheck, type ClassCatalogue, checkAttributesMany, loadCatalogue } from './attributes.js'
import { ciChanges } from './ci-fields.js'
import { toCiView } from './cis.repository.js'
import { viaSource } from './cis.service.js'
import {
  type CiRow,
  createdChanges,
  emptyReport,
  errorsOf,
  identifyItem,
  indexCandidates,
  type NormalisedItem,
  normaliseItem,
  type Planned,
  planUpdate,
  type SourceRow
} from './import.plan.js'
import { planRelationships } from './import.relationships.js'
import type { ImportInput, ImportItemInput, ImportItemReport, ImportReportView } from './import.schemas.js'

const ci = configurationItems
/**
 * Rows as one JSON array parameter, read element by element: PostgreSQL parses one 10 MB jsonb document
 * (jsonb_to_recordset) several times slower than json elements each cast to jsonb, and json_to_recordset
 * builds a hash table per row. `shape` names the columns and their types.
 */
const recordset = (rows: readonly unknown[], shape: SQL) =>
  sql`json_array_elements(${JSON.stringify(rows)}::json) j cross join lateral jsonb_to_record(j::jsonb) as ${shape}`

/**
 * How stale a source record's `last_seen_at` may be before a re-import writes it again: the missing
 * sweep counts in days, so an unchanged item seen within this grain costs no write at all.
 */
const SEEN_GRAIN = '1 hour'

const ciColumns = getTableColumns(ci)
const byKeyColumns = {
  ...ciColumns,
  sourceKey: ciSourceRecords.externalKey,
  fresh: sql<boolean>`${ciSourceRecords.lastSeenAt} > now() - ${sql.raw(`'${SEEN_GRAIN}'`)}::interval`
}
let byKeyHead: SQL | undefined
let byKeysHead: SQL | undefined

/**
 * The CIs the items could be. First the CIs this source already knows by the items' keys, with their
 * records, in one join; then, for the items no key finds, every CI sharing a serial, UUID, MAC, FQDN or
 * name with one of them (one index probe per key kind, MACs through the GIN index). A re-import, where
 * every key is known, reads each CI once and runs no identification query; rows are read without
 * drizzle's per-cell mapping (lib/fast-rows.ts).
 */
async function candidates(tx: Tx, source: SourceRow, items: NormalisedItem[]) {
  const keys = items.flatMap(i => (i.key ? [i.key] : []))
  const byKey = new Map<string, CiRow>()
  const fresh = new Set<string>()
  if (keys.length) {
    byKeyHead ??= selectList(
      tx.select(byKeyColumns).from(ciSourceRecords).innerJoin(ci, eq(ci.id, ciSourceRecords.ciId))
    )
    const found = await selectRows<CiRow & { sourceKey: string; fresh: boolean }>(
      tx,
      byKeyColumns,
      sql`${byKeyHead} where ${ciSourceRecords.sourceId} = ${source.id}
        and ${ciSourceRecords.externalKey} = any(${sqlArray(keys, 'text')})`
    )
    for (const { sourceKey, fresh: isFresh, ...row } of found) {
      byKey.set(sourceKey, row)
      if (isFresh) fresh.add(`${sourceKey}|${row.id}`)
    }
  }
  const rest = items.filter(i => !(i.key && byKey.has(i.key)))
  if (rest.length === 0) return { rows: [] as CiRow[], byKey, fresh }
  const serials = rest.flatMap(i => (i.keys.serial ? [i.keys.serial] : []))
  const uuids = rest.flatMap(i => (i.keys.systemUuid ? [i.keys.systemUuid] : []))
  const macs = rest.flatMap(i => i.keys.macAddresses)
  const fqdns = rest.flatMap(i => (i.keys.fqdn ? [i.keys.fqdn] : []))
  const names = rest.map(i => i.keys.name)
  const text = (v: string[]) => sqlArray(v, 'text')
  byKeysHead ??= selectList(tx.select(ciColumns).from(ci))
  const rows = await selectRows<CiRow>(
    tx,
    ciColumns,
    sql`${byKeysHead} where ${ci.id} in (
        select id from ${ci} where ${ci.serial} = any(${text(serials)})
        union all select id from ${ci} where ${ci.systemUuid} = any(${text(uuids)})
        union all select id from ${ci} where ${ci.macAddresses} && ${text(macs)}
        union all select id from ${ci} where ${ci.fqdn} = any(${text(fqdns)})
        union all select id from ${ci} where ${ci.name} = any(${text(names)}))`
  )
  return { rows, byKey, fresh }
}

/**
 * Discovery import: items identified by the source's key, then serial + UUID, serial, UUID, MAC, FQDN,
 * name + class (placeholders never identify), fields written as the source's precedence allows,
 * attributes validated, relationships by external keys. One transaction under one lock, so two
 * imports never create the same machine twice; atomic refuses the lot when an item fails, partial
 * writes the good ones; a dry run answers the same report and writes nothing. The same payload twice
 * is all `unchanged` and writes no history.
 */
export function createImportService(_deps: Deps) {
  return {
    async importCis(ctx: Ctx, input: ImportInput): Promise<ImportReportView> {
      authorize(ctx.actor, 'ci.manage')
      const mode = input.mode ?? 'atomic'
      const dryRun = input.dryRun ?? false
      return withTx(ctx, async (tx, tctx) => {
        // JIT compiling a statement over 10,000 rows costs more than running it (hundreds of ms)
        await tx.execute(sql`select pg_advisory_xact_lock(hashtext('ci-import')), set_config('jit', 'off', true)`)
        const sourceRows = await tx.select().from(discoverySources)
        const source = sourceRows.find(s => s.name === input.source)
        if (!source) throw fieldError('source', `no such discovery source: ${input.source}`)
        const sources = new Map(sourceRows.map(s => [s.id, s]))
        const catalogue = await loadCatalogue(tx)
        const types = new Set(
          (await tx.select({ name: ciRelationshipTypes.name }).from(ciRelationshipTypes)).map(t => t.name)
        )
        const items = input.items.map(normaliseItem)
        const { rows, byKey, fresh } = await candidates(tx, source, items)
        const candidatesOf = indexCandidates(rows)

        const reports = items.map(emptyReport)
        const claimed = new Map<string, number>()
        const env = { source, sources, catalogue, byKey, candidatesOf, claimed, owned: new Map() }
        const drafts = items.flatMap(item => {
          const d = planItem(item, reports[item.index]!, env)
          return d ? [d] : []
        })
        // Attributes of every item at once: each class's definitions once, a few statements in all
        const checked = await checkAttributesMany(
          tx,
          catalogue,
          drafts.flatMap(d => (d.check ? [d.check] : []))
        )
        const planned: Planned[] = []
        let k = 0
        for (const d of drafts) {
          const result = d.check ? checked[k++]! : null
          if (result && !result.ok) {
            failItem(d.report, result.error)
            continue
          }
          planned.push(d.finish(result ? result.value : null))
        }
        const rels = await planRelationships(tx, input.items as ImportItemInput[], planned, reports, source, types)

        const failed = reports.filter(r => r.result === 'conflict' || r.result === 'error')
        const ok = planned.filter(p => reports[p.item.index]!.result !== 'error')
        for (const p of ok) {
          const r = p.report
          const relChanged = rels.changedOf(p.row.id)
          if (!p.isNew && p.changes.length === 0 && relChanged.length === 0) r.result = 'unchanged'
          else if (!p.isNew) r.result = 'updated'
          r.changed = [...p.changes.map(c => c.field), ...relChanged]
        }
        const summary = { created: 0, updated: 0, unchanged: 0, conflict: 0, error: 0 }
        for (const r of reports) summary[r.result]++
        if (mode === 'atomic' && failed.length && !dryRun) throw atomicFailure(failed, reports)
        const commit = !dryRun && !(mode === 'atomic' && failed.length)
        if (commit) await write(tx, viaSource(tctx, source.name), source, ok, rels, fresh)
        return { source: source.name, mode, dryRun, committed: commit, summary, items: reports }
      })
    }
  }
}

/** An item identified and planned but for its attributes, which are checked with every other item's. */
interface Draft {
  report: ImportItemReport
  check: AttributeCheck | null
  /** The planned write, given the checked attributes (null when the item touches none). */
  finish(attributes: Record<string, unknown> | null): Planned
}

function failItem(report: ImportItemReport, err: unknown) {
  const errors = errorsOf(err)
  if (!errors) throw err
  report.result = 'error'
  report.errors = errors
  report.reason = errors.map(e => `${e.field}: ${e.message}`).join('; ')
}

function planItem(
  item: NormalisedItem,
  report: ImportItemReport,
  env: {
    source: SourceRow
    sources: ReadonlyMap<string, SourceRow>
    catalogue: ClassCatalogue
    byKey: ReadonlyMap<string, CiRow>
    candidatesOf: ReturnType<typeof indexCandidates>
    claimed: Map<string, number>
    /** Created CIs' field sources by the fields they own: one frozen object per set, sent once (see write) */
    owned: Map<string, Readonly<Record<string, string>>>
  }
): Draft | null {
  const { source, catalogue } = env
  if (!catalogue.byName.has(item.fields.class)) {
    failItem(report, fieldError('class', `no such class: ${item.fields.class}`))
    return null
  }
  const found = identifyItem(item, env.byKey, env.candidatesOf, catalogue)
  if (found && 'conflict' in found) {
    report.result = 'conflict'
    report.reason = found.conflict
    return null
  }
  if (found) {
    const { row, by } = found
    report.ciId = row.id
    report.identifiedBy = by
    const first = env.claimed.get(row.id)
    if (first !== undefined) {
      report.result = 'conflict'
      report.reason = `item ${first} already describes configuration item ${row.id}`
      return null
    }
    env.claimed.set(row.id, item.index)
    if (!catalogue.descendants(item.fields.class).includes(row.ciClass)) {
      report.result = 'conflict'
      report.reason = `configuration item ${row.id} (found by ${by}) is a ${row.ciClass}, not a ${item.fields.class}`
      return null
    }
    const plan = planUpdate(row, item, source, env.sources)
    report.protected = plan.protected
    const check: AttributeCheck | null = plan.touchedAttributes.length
      ? {
          className: row.ciClass,
          merged: plan.attributes,
          fill: false,
          selfId: row.id,
          touched: plan.touchedAttributes
        }
      : null
    return {
      report,
      check,
      finish(checked) {
        // Nothing to write: the row as it is, no history (the common case of a re-import)
        if (!checked && Object.keys(plan.set).length === 0 && !row.missingSince) {
          report.result = 'unchanged'
          return { item, report, row, isNew: false, changes: [] }
        }
        const before = toCiView(row)
        const after: CiRow = {
          ...row,
          ...Object.fromEntries(Object.entries(plan.set).map(([f, v]) => [f === 'class' ? 'ciClass' : f, v])),
          attributes: checked ?? plan.attributes,
          fieldSources: plan.fieldSources,
          missingSince: null
        }
        const changes = ciChanges(before, { ...toCiView(after), class: before.class })
        if (row.missingSince) changes.push({ field: 'missingSince', old: row.missingSince.toISOString(), new: null })
        report.result = changes.length ? 'updated' : 'unchanged'
        return { item, report, row: after, isNew: false, changes }
      }
    }
  }
  const id = uuidv7()
  return {
    report,
    check: { className: item.fields.class, merged: item.attributes, fill: true, selfId: id },
    finish(checked) {
      const attributes = checked ?? {}
      const now = new Date()
      const f = item.fields
      const row: CiRow = {
        id,
        name: f.name,
        ciClass: f.class,
        hostname: (f.hostname as string | null) ?? null,
        fqdn: (f.fqdn as string | null) ?? null,
        serial: (f.serial as string | null) ?? null,
        macAddress: (f.macAddress as string | null) ?? null,
        macAddresses: (f.macAddresses as string[] | undefined) ?? [],
        systemUuid: (f.systemUuid as string | null) ?? null,
        assetTag: (f.assetTag as string | null) ?? null,
        status: (f.status as string | undefined) ?? 'live',
        supportTeamId: null,
        ownerTeamId: null,
        organisationId: null,
        location: null,
        costCentreId: null,
        attributes,
        fieldSources: ownedBy(
          env.owned,
          [...Object.keys(f), ...Object.keys(attributes).map(a => `attributes.${a}`)],
          source
        ),
        missingSince: null,
        createdAt: now,
        updatedAt: now,
        version: 1
      }
      report.result = 'created'
      report.ciId = id
      return { item, report, row, isNew: true, changes: createdChanges(row) }
    }
  }
}

/** Every field owned by `source`: one shared, frozen object per set of fields (planUpdate copies before a change). */
function ownedBy(cache: Map<string, Readonly<Record<string, string>>>, fields: string[], source: SourceRow) {
  const key = fields.join('\n')
  let owned = cache.get(key)
  if (!owned) {
    owned = Object.freeze(Object.fromEntries(fields.map(k => [k, source.id])))
    cache.set(key, owned)
  }
  return owned as Record<string, string>
}

function atomicFailure(failed: ImportItemReport[], reports: ImportItemReport[]) {
  const errors: FieldError[] = failed.flatMap(r =>
    r.errors.length
      ? r.errors.map(e => ({ field: `items.${r.index}${e.field ? `.${e.field}` : ''}`, message: e.message }))
      : [{ field: `items.${r.index}`, message: r.reason ?? r.result }]
  )
  return new AppError(
    'VALIDATION_FAILED',
    422,
    'Unprocessable Content',
    `${failed.length} of ${reports.length} items failed; nothing was written (mode=atomic)`,
    errors,
    { items: reports }
  )
}

async function write(
  tx: Tx,
  ctx: Ctx,
  source: SourceRow,
  planned: Planned[],
  rels: Awaited<ReturnType<typeof planRelationships>>,
  fresh: ReadonlySet<string>
) {
  const created = planned.filter(p => p.isNew)
  const updated = planned.filter(p => !p.isNew && p.changes.length > 0)
  const shape = sql.raw(`x(id uuid, name text, class text, status text, hostname text, fqdn text, serial text,
    mac_address text, mac_addresses text[], system_uuid text, asset_tag text, attributes jsonb, field_sources int)`)
  // Field sources are shared objects for the created CIs of one import (ownedBy): each distinct one is
  // sent once and rows name it by position, which halves what a 10,000-CI create sends and parses
  const rowsOf = (list: Planned[]) => {
    const documents: Record<string, string>[] = []
    const position = new Map<Record<string, string>, number>()
    const rows = list.map(({ row: r }) => {
      let at = position.get(r.fieldSources)
      if (at === undefined) {
        at = documents.push(r.fieldSources) - 1
        position.set(r.fieldSources, at)
      }
      return {
        id: r.id,
        name: r.name,
        class: r.ciClass,
        status: r.status,
        hostname: r.hostname,
        fqdn: r.fqdn,
        serial: r.serial,
        mac_address: r.macAddress,
        mac_addresses: r.macAddresses,
        system_uuid: r.systemUuid,
        asset_tag: r.assetTag,
        attributes: r.attributes,
        field_sources: at
      }
    })
    return {
      from: recordset(rows, shape),
      fieldSources: sql`(select ${JSON.stringify(documents)}::jsonb) -> x.field_sources`
    }
  }
  if (created.length) {
    const { from, fieldSources } = rowsOf(created)
    await tx.execute(sql`insert into ${ci} (id, name, class, status, hostname, fqdn, serial, mac_address, mac_addresses,
        system_uuid, asset_tag, attributes, field_sources)
      select id, name, class, status, hostname, fqdn, serial, mac_address, coalesce(mac_addresses, '{}'), system_uuid,
        asset_tag, attributes, ${fieldSources}
      from ${from}`)
  }
  if (updated.length) {
    const { from, fieldSources } = rowsOf(updated)
    await tx.execute(sql`update ${ci} c set name = x.name, status = x.status, hostname = x.hostname, fqdn = x.fqdn,
        serial = x.serial, mac_address = x.mac_address, mac_addresses = coalesce(x.mac_addresses, '{}'),
        system_uuid = x.system_uuid, asset_tag = x.asset_tag, attributes = x.attributes,
        field_sources = ${fieldSources}, missing_since = null, version = c.version + 1, updated_at = now()
      from ${from}
      where c.id = x.id`)
  }
  await rels.write(tx)
  // Records of this source pointing at the same CI and seen lately stay as they are
  const seen = planned.flatMap(p => {
    const key = p.item.key ?? `ci:${p.row.id}`
    return fresh.has(`${key}|${p.row.id}`) ? [] : [{ source_id: source.id, external_key: key, ci_id: p.row.id }]
  })
  if (seen.length) {
    await tx.execute(sql`insert into ${ciSourceRecords} (source_id, external_key, ci_id, last_seen_at)
      select source_id, external_key, ci_id, now()
      from ${recordset(seen, sql`x(source_id uuid, external_key text, ci_id uuid)`)}
      on conflict (source_id, external_key) do update set ci_id = excluded.ci_id, last_seen_at = excluded.last_seen_at`)
  }
  const entries: AuditEntry[] = [
    ...created.map(p => ({ entityType: 'ci', entityId: p.row.id, action: 'created', changes: p.changes })),
    ...updated.map(p => ({ entityType: 'ci', entityId: p.row.id, action: 'updated', changes: p.changes })),
    ...rels.audit
  ]
  await recordAudit(tx, ctx, entries)
}

export type ImportService = ReturnType<typeof createImportService>
