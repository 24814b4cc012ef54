import { eq, type SQL, sql } from 'drizzle-orm'
import { authorize, canSeeInternal, ticketScope } from '../../auth/policy.js'
import type { Db } from '../../db/client.js'
import { slaClocks, tickets } from '../../db/schema/index.js'
import type { Ctx, Queryable } from '../../lib/context.js'
import { decodeCursor, encodeCursor, type Page, pageOf } from '../../lib/cursor.js'
import { badRequest, fieldError } from '../../lib/errors.js'
import {
  compileFilter,
  customSortCast,
  customSortExpression,
  customSortValue,
  type FilterField
} from '../../lib/rsql.js'
import type { Workflow } from '../workflows/workflows.service.js'
import { KIND_INFO, parseNumber, TICKET_KINDS, type TicketKind } from './kinds.js'
import type { CustomFieldPort, KindHooks, SlaReadPort } from './tickets.ports.js'
import {
  filterConditions,
  type SortSpec,
  type SummaryRow,
  scopeConditions,
  type TicketQueries,
  type TicketSummaryView,
  toSummary,
  withNames
} from './tickets.repository.js'
import type { TicketListInput } from './tickets.schemas.js'

/**
 * Fields for report drill-downs (ticket-reports README), and the expressions the reports count with:
 * one definition, so a report's link lists what it counted.
 */
export const REPORT_FIELDS = {
  // When the running SLA resolution clock breached or is due (null when it is stopped, paused before
  // its due time, or the ticket has none) ...
  resolutionDueAt: {
    sql: sql`(select coalesce(${slaClocks.breachedAt}, ${slaClocks.dueAt}) from ${slaClocks} where ${slaClocks.ticketId} = ${tickets.id} and ${slaClocks.agreement} = 'sla' and ${slaClocks.target} = 'resolution' and ${slaClocks.state} <> 'stopped')`,
    type: 'datetime',
    nullable: true
  },
  // ... and wall-clock days from creation to resolution (or closing); null while open
  resolutionDays: {
    sql: sql`(extract(epoch from (coalesce(${tickets.resolvedAt}, ${tickets.closedAt}) - ${tickets.createdAt})) / 86400)`,
    type: 'integer',
    nullable: true
  }
} satisfies Record<string, FilterField>

/** Built-in fields of the filter language, for every kind. */
const BUILT_IN: Record<string, FilterField> = {
  status: { sql: tickets.status, type: 'text' },
  priority: { sql: tickets.priority, type: 'integer', min: 1, max: 5 },
  impact: { sql: tickets.impact, type: 'integer', min: 1, max: 3 },
  urgency: { sql: tickets.urgency, type: 'integer', min: 1, max: 3 },
  number: { sql: tickets.number, type: 'integer', min: 1 },
  title: { sql: tickets.title, type: 'text' },
  category: { sql: tickets.category, type: 'text', nullable: true },
  categoryId: { sql: tickets.categoryId, type: 'uuid', nullable: true },
  requesterId: { sql: tickets.requesterId, type: 'uuid' },
  organisationId: { sql: tickets.organisationId, type: 'uuid', nullable: true },
  serviceId: { sql: tickets.serviceId, type: 'uuid', nullable: true },
  teamId: { sql: tickets.teamId, type: 'uuid', nullable: true },
  layer: { sql: tickets.layer, type: 'integer', nullable: true },
  assigneeId: { sql: tickets.assigneeId, type: 'uuid', nullable: true },
  createdAt: { sql: tickets.createdAt, type: 'datetime' },
  updatedAt: { sql: tickets.updatedAt, type: 'datetime' },
  resolvedAt: { sql: tickets.resolvedAt, type: 'datetime', nullable: true },
  closedAt: { sql: tickets.closedAt, type: 'datetime', nullable: true },
  ...REPORT_FIELDS
}
const ACROSS_KINDS: Record<string, FilterField> = {
  ...BUILT_IN,
  kind: { sql: tickets.kind, type: 'enum', values: TICKET_KINDS }
}

/** `number` takes the number every answer shows (INC-000003) as well as the bare integer. */
function humanNumber(kind: TicketKind | null): FilterField['parse'] {
  return value => {
    const ref = parseNumber(value)
    if (!ref) return `"${value}" is not a ticket number (like INC-000003) or an integer`
    if (kind && ref.kind !== kind) return `"${value}" is not a number of ${KIND_INFO[kind].collection}`
    return kind ? { value: ref.number } : { value: ref.number, also: eq(tickets.kind, ref.kind) }
  }
}

const iso = (d: Date) => d.toISOString()
/** PostgreSQL's text of a timestamptz (any DateStyle ISO offset), or infinity: what an sla.* sort cursor holds. */
const TIMESTAMP_TEXT = /^(infinity|\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([+-]\d{2}(:\d{2}){0,2}|Z)?)$/
const BUILT_IN_SORTS: Record<string, Omit<SortSpec, 'name' | 'descending'>> = {
  createdAt: { expression: tickets.createdAt, cast: 'timestamptz', valueOf: r => iso(r.createdAt) },
  updatedAt: { expression: tickets.updatedAt, cast: 'timestamptz', valueOf: r => iso(r.updatedAt) },
  priority: { expression: tickets.priority, cast: 'int', valueOf: r => r.priority },
  number: { expression: tickets.number, cast: 'int', valueOf: r => r.number }
}

/**
 * Best match first: ts_rank of title and description (a match only in notes or by number ranks 0).
 * The rank goes through float8, which holds a float4 exactly, so the keyset cursor compares equal.
 */
function relevance(name: string, q: string | undefined): SortSpec {
  if (!q) throw badRequest('sort: relevance needs q', [{ field: 'sort', message: 'relevance needs q' }])
  return {
    name,
    descending: true,
    expression: sql`ts_rank(${tickets.search}, websearch_to_tsquery('simple', ${q}))::float8`,
    cast: 'float8',
    computed: true,
    valueOf: r => (r as SummaryRow & { sortValue: number }).sortValue
  }
}

/** Ticket lists: plain filters, the RSQL filter, keyset sorts (custom fields too) and an optional total. */
export function createTicketListing(
  _db: Db,
  queries: TicketQueries,
  hooks: ReadonlyMap<TicketKind, KindHooks>,
  customFields: () => CustomFieldPort | undefined,
  workflows: (kind: TicketKind) => Promise<Workflow>,
  /** Fields other modules add for every kind (the CIs a ticket names, the SLA clocks' due times). */
  extraFields: Record<string, FilterField> = {},
  /** The SLA clocks: the `sla` object of list items and the sla.* sort keys. */
  slaReads?: SlaReadPort
) {
  async function sortOf(db: Db, kind: TicketKind | null, name: string, q: string | undefined): Promise<SortSpec> {
    if (name === 'relevance') return relevance(name, q)
    const descending = name.startsWith('-')
    const key = descending ? name.slice(1) : name
    const builtIn = BUILT_IN_SORTS[key]
    if (builtIn) return { ...builtIn, name, descending }
    if (key.startsWith('sla.')) return slaSort(name, key, descending)
    const field = key.slice('customFields.'.length)
    if (!kind)
      throw badRequest('sort: custom fields sort a list of one kind', [
        { field: 'sort', message: 'custom fields sort a list of one kind' }
      ])
    const spec = (await customFields()?.specs(db, kind))?.get(field)
    if (!spec) {
      throw badRequest(`sort: no custom field "${field}" on ${KIND_INFO[kind].collection}`, [
        { field: 'sort', message: `no custom field "${field}"` }
      ])
    }
    const expression = customSortExpression(tickets.customFields, spec)
    const cast = customSortCast(spec)
    return {
      name,
      descending,
      expression,
      cast,
      valueOf: r => customSortValue(spec, (r.customFields as Record<string, unknown>)[field])
    }
  }

  /**
   * By a due time of the SLA: a computed never-null key ('infinity' for tickets without the clock or
   * with it paused), selected as its text so the cursor holds the exact instant (or 'infinity').
   */
  function slaSort(name: string, key: string, descending: boolean): SortSpec {
    const expression = slaReads?.sortKeys[key as keyof SlaReadPort['sortKeys']]
    if (!expression)
      throw badRequest(`sort: unknown sort "${key}"`, [{ field: 'sort', message: `unknown sort "${key}"` }])
    return {
      name,
      descending,
      expression,
      selected: sql`(${expression})::text`,
      cast: 'timestamptz',
      computed: true,
      valueOf: r => (r as SummaryRow & { sortValue: string }).sortValue
    }
  }

  async function summaries(db: Queryable, rows: SummaryRow[]): Promise<TicketSummaryView[]> {
    const out = (await withNames(db, rows)).map(toSummary) as (TicketSummaryView & Record<string, unknown>)[]
    for (const kind of new Set(rows.map(r => r.kind as TicketKind))) {
      const details = hooks.get(kind)?.details
      if (!details) continue
      const found = await details(
        db,
        rows.filter(r => r.kind === kind).map(r => r.id),
        false
      )
      for (const v of out) if (v.kind === kind) Object.assign(v, found.get(v.id) ?? {})
    }
    if (slaReads && rows.length) {
      // List pages select the clocks with their rows (tickets.repository.ts listExtra)
      const clocks = rows as (SummaryRow & { slaClocks?: unknown })[]
      const missing = clocks.filter(r => r.slaClocks === undefined).map(r => r.id)
      const loaded = missing.length ? await slaReads.summariesOf(db, missing) : undefined
      out.forEach((v, i) => {
        const raw = clocks[i]!.slaClocks
        v.sla = raw === undefined ? loaded?.get(v.id) : slaReads.summaryOf(raw)
      })
    }
    return out
  }

  /**
   * The WHERE conditions of a list: the actor's ticket scope, the plain filters and the RSQL filter.
   * Reports count over the same conditions, so a report's drill-down link lists exactly what it counted.
   */
  async function conditions(
    ctx: Ctx,
    kind: TicketKind | null,
    input: Omit<TicketListInput, 'sort' | 'limit' | 'cursor' | 'includeTotal'>
  ): Promise<SQL[]> {
    const db = _db
    const where: SQL[] = [
      ...(kind ? [eq(tickets.kind, kind)] : []),
      ...scopeConditions(ticketScope(ctx.actor)),
      ...filterConditions(kind, input, canSeeInternal(ctx.actor))
    ]
    if (input.filter) {
      // Statuses are the workflows' (admins edit them): a status no workflow has is a 400, as for `status`
      const flows = await Promise.all((kind ? [kind] : TICKET_KINDS).map(k => workflows(k)))
      const known = [...new Set(flows.flatMap(wf => wf.definition.statuses.map(st => st.key)))]
      const fields: Record<string, FilterField> = {
        ...(kind ? { ...BUILT_IN, ...(hooks.get(kind)?.filterFields ?? {}) } : ACROSS_KINDS),
        ...extraFields,
        status: { ...BUILT_IN.status!, known },
        number: { ...BUILT_IN.number!, parse: humanNumber(kind) }
      }
      const specs = kind ? await customFields()?.specs(db, kind) : undefined
      where.push(compileFilter(input.filter, fields, specs ? { column: tickets.customFields, specs } : null))
    }
    return where
  }

  return {
    summaries,
    conditions,

    /**
     * A page of summaries; `cursors` holds each item's own resume cursor (GraphQL edges), which REST
     * answers leave out.
     */
    async list(
      ctx: Ctx,
      kind: TicketKind | null,
      input: TicketListInput
    ): Promise<Page<TicketSummaryView> & { total?: number; cursors: string[] }> {
      const db = _db
      authorize(ctx.actor, 'ticket.read')
      for (const f of ['createdFrom', 'createdTo', 'updatedFrom', 'updatedTo'] as const) {
        if (input[f] && Number.isNaN(Date.parse(input[f]!))) throw fieldError(f, 'not a date-time')
      }
      if (kind && input.status) {
        const wf = await workflows(kind)
        const unknown = input.status.split(',').filter(st => !wf.status(st))
        if (unknown.length) {
          const known = wf.definition.statuses.map(st => st.key).join(', ')
          throw badRequest(`status: ${unknown.join(', ')} is not a status of ${KIND_INFO[kind].collection}`, [
            { field: 'status', message: `unknown status ${unknown.join(', ')}; statuses: ${known}` }
          ])
        }
      }
      const sort = await sortOf(db, kind, input.sort ?? '-createdAt', input.q)
      const limit = input.limit ?? 50
      const cursor = input.cursor ? decodeCursor(input.cursor, sort.name) : null
      const numeric = sort.cast === 'int' || sort.cast === 'numeric' || sort.cast === 'float8'
      const badNumber = typeof cursor?.value !== 'number' && !(sort.cast === 'numeric' && cursor?.value === '-Infinity')
      if (cursor && numeric && badNumber) {
        throw badRequest('invalid cursor', [{ field: 'cursor', message: 'not a cursor from this API' }])
      }
      if (cursor && sort.selected && !(typeof cursor.value === 'string' && TIMESTAMP_TEXT.test(cursor.value))) {
        throw badRequest('invalid cursor', [{ field: 'cursor', message: 'not a cursor from this API' }])
      }
      const where = await conditions(ctx, kind, input)
      const [rows, total] = await Promise.all([
        queries.list(where, sort, cursor, limit, !input.filter && !input.q),
        input.includeTotal ? queries.count(where) : Promise.resolve(undefined)
      ])
      const at = (row: SummaryRow) => ({ sort: sort.name, value: sort.valueOf(row), id: row.id })
      const page = pageOf(rows, limit, at)
      const items = await summaries(db, page.items)
      const result = { items, nextCursor: page.nextCursor, ...(total !== undefined ? { total } : {}) }
      // Per-item cursors are for GraphQL edges only: computed when read, never for a REST answer
      let cursors: string[] | undefined
      Object.defineProperty(result, 'cursors', {
        enumerable: false,
        get: () => {
          cursors ??= page.items.map(r => encodeCursor(at(r)))
          return cursors
        }
      })
      return result as typeof result & { cursors: string[] }
    }
  }
}
