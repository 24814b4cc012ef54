import { sql } from 'drizzle-orm'
import { ciRelationships, ciSourceRecords } from '../../db/schema/index.js'
import type { Tx } from '../../lib/context.js'
import type { FieldError } from '../../lib/errors.js'
import { uuidv7 } from '../../lib/ids.js'
import type { AuditEntry } from '../audit/audit.service.js'
import type { Planned, SourceRow } from './import.plan.js'
import type { ImportItemInput, ImportItemReport } from './import.schemas.js'

const json = (v: unknown) => sql`${JSON.stringify(v)}::jsonb`
type Edge = { sourceId: string; targetId: string; type: string }
const edgeKey = (e: Edge) => `${e.sourceId}|${e.targetId}|${e.type}`

/**
 * The relationships items name by external keys (of this request, or seen before by this source),
 * checked, and planned against what exists: what to add, and — for the types an item replaces — what
 * to remove. An item whose relationship cannot be resolved fails, and so, in turn, do relationships to
 * the CI it would have created.
 */
export async function planRelationships(
  tx: Tx,
  raw: readonly ImportItemInput[],
  planned: Planned[],
  reports: ImportItemReport[],
  source: SourceRow,
  types: ReadonlySet<string>
) {
  const live = () => planned.filter(p => reports[p.item.index]!.result !== 'error')
  const withRels = planned.filter(
    p => raw[p.item.index]!.relationships?.length || raw[p.item.index]!.replaceRelationships?.length
  )
  const keyToCi = new Map<string, { ciId: string; index: number | null }>()
  for (const p of planned) if (p.item.key) keyToCi.set(p.item.key, { ciId: p.row.id, index: p.item.index })
  const referenced = new Set<string>()
  for (const p of withRels)
    for (const r of raw[p.item.index]!.relationships ?? []) {
      const k = r.target ?? r.source
      if (k && !keyToCi.has(k)) referenced.add(k)
    }
  if (referenced.size) {
    const known = await tx
      .select({ key: ciSourceRecords.externalKey, ciId: ciSourceRecords.ciId })
      .from(ciSourceRecords)
      .where(
        sql`${ciSourceRecords.sourceId} = ${source.id} and ${ciSourceRecords.externalKey} in (select jsonb_array_elements_text(${json([...referenced])}))`
      )
    for (const k of known) keyToCi.set(k.key, { ciId: k.ciId, index: null })
  }

  const edgesOf = new Map<number, Edge[]>()
  for (let changed = true; changed; ) {
    changed = false
    for (const p of withRels) {
      const report = reports[p.item.index]!
      if (report.result === 'error') continue
      const errors: FieldError[] = []
      const edges: Edge[] = []
      const item = raw[p.item.index]!
      ;(item.relationships ?? []).forEach((r, j) => {
        if (!types.has(r.type))
          errors.push({ field: `relationships.${j}.type`, message: `no such relationship type: ${r.type}` })
        if (!!r.target === !!r.source) {
          errors.push({ field: `relationships.${j}`, message: 'names exactly one of target and source' })
          return
        }
        const side = r.target ? 'target' : 'source'
        const key = (r.target ?? r.source)!
        const other = keyToCi.get(key)
        const otherFailed = other?.index != null && ['error', 'conflict'].includes(reports[other.index]!.result)
        if (!other || otherFailed) {
          errors.push({ field: `relationships.${j}.${side}`, message: `no configuration item with key ${key}` })
          return
        }
        if (other.ciId === p.row.id) {
          errors.push({
            field: `relationships.${j}.${side}`,
            message: 'a configuration item cannot be related to itself'
          })
          return
        }
        edges.push(
          r.target
            ? { sourceId: p.row.id, targetId: other.ciId, type: r.type }
            : { sourceId: other.ciId, targetId: p.row.id, type: r.type }
        )
      })
      ;(item.replaceRelationships ?? []).forEach((t, j) => {
        if (!types.has(t))
          errors.push({ field: `replaceRelationships.${j}`, message: `no such relationship type: ${t}` })
      })
      if (errors.length) {
        report.result = 'error'
        report.errors = errors
        report.reason = errors.map(e => `${e.field}: ${e.message}`).join('; ')
        if (p.item.key) keyToCi.delete(p.item.key)
        changed = true
      } else edgesOf.set(p.item.index, edges)
    }
  }

  const involved = [
    ...new Set(
      live()
        .filter(p => !p.isNew && edgesOf.has(p.item.index))
        .map(p => p.row.id)
    )
  ]
  const existing = involved.length
    ? await tx
        .select()
        .from(ciRelationships)
        .where(
          sql`${ciRelationships.sourceId} in (select (jsonb_array_elements_text(${json(involved)}))::uuid)
            or ${ciRelationships.targetId} in (select (jsonb_array_elements_text(${json(involved)}))::uuid)`
        )
    : []
  const existingKeys = new Set(existing.map(edgeKey))
  const wanted = new Map<string, Edge>()
  for (const p of live()) for (const e of edgesOf.get(p.item.index) ?? []) wanted.set(edgeKey(e), e)
  const adds = [...wanted.values()].filter(e => !existingKeys.has(edgeKey(e)))
  const removes = new Map<string, (typeof existing)[number]>()
  for (const p of live()) {
    const replace = new Set(raw[p.item.index]!.replaceRelationships ?? [])
    if (!replace.size || p.isNew) continue
    for (const e of existing) {
      const touches = e.sourceId === p.row.id || e.targetId === p.row.id
      if (touches && replace.has(e.type) && !wanted.has(edgeKey(e))) removes.set(e.id, e)
    }
  }
  const changed = new Map<string, Set<string>>()
  const mark = (e: Edge) => {
    for (const id of [e.sourceId, e.targetId]) {
      const set = changed.get(id) ?? new Set<string>()
      set.add(`relationships.${e.type}`)
      changed.set(id, set)
    }
  }
  const added = adds.map(e => ({ id: uuidv7(), ...e }))
  added.forEach(mark)
  for (const e of removes.values()) mark(e)
  const value = (e: Edge & { id: string }) => ({ id: e.id, type: e.type, sourceId: e.sourceId, targetId: e.targetId })
  const audit: AuditEntry[] = [
    ...added.flatMap(e => [
      {
        entityType: 'ci',
        entityId: e.sourceId,
        action: 'relationship.added',
        changes: [{ field: 'relationships.outgoing', old: null, new: value(e) }]
      },
      {
        entityType: 'ci',
        entityId: e.targetId,
        action: 'relationship.added',
        changes: [{ field: 'relationships.incoming', old: null, new: value(e) }]
      }
    ]),
    ...[...removes.values()].flatMap(e => [
      {
        entityType: 'ci',
        entityId: e.sourceId,
        action: 'relationship.removed',
        changes: [{ field: 'relationships.outgoing', old: value(e), new: null }]
      },
      {
        entityType: 'ci',
        entityId: e.targetId,
        action: 'relationship.removed',
        changes: [{ field: 'relationships.incoming', old: value(e), new: null }]
      }
    ])
  ]
  return {
    changedOf: (ciId: string) => [...(changed.get(ciId) ?? [])].sort(),
    audit,
    async write(q: Tx) {
      if (added.length) {
        await q.execute(sql`insert into ${ciRelationships} (id, source_id, target_id, type)
          select id, source_id, target_id, type
          from jsonb_to_recordset(${json(added.map(e => ({ id: e.id, source_id: e.sourceId, target_id: e.targetId, type: e.type })))})
            as x(id uuid, source_id uuid, target_id uuid, type text)
          on conflict do nothing`)
      }
      if (removes.size) {
        await q.execute(
          sql`delete from ${ciRelationships} where id in (select (jsonb_array_elements_text(${json([...removes.keys()])}))::uuid)`
        )
      }
    }
  }
}
