import { and, asc, desc, eq, getTableColumns, gte, inArray, lt, lte, or, type SQL, sql } from 'drizzle-orm'
import type { TicketScope } from '../../auth/policy.js'
import type { Db } from '../../db/client.js'
import { tickets } from '../../db/schema/index.js'
import type { Queryable } from '../../lib/context.js'
import { type Cursor, encodeCursor } from '../../lib/cursor.js'
import type { Change } from '../audit/audit.service.js'
import type { IncidentListInput, Sort } from './incidents.schemas.js'
import { formatNumber, type IncidentStatus, parseNumber } from './workflow.js'

export type TicketRow = typeof tickets.$inferSelect

/** The API shape of an incident: human number beside the id, no search vector. */
export function toIncident(row: Omit<TicketRow, 'search'>) {
  return {
    id: row.id,
    number: formatNumber('incident', row.number),
    title: row.title,
    description: row.description,
    status: row.status as IncidentStatus,
    impact: row.impact,
    urgency: row.urgency,
    priority: row.priority,
    category: row.category,
    requesterId: row.requesterId,
    organisationId: row.organisationId,
    teamId: row.teamId,
    layer: row.layer,
    assigneeId: row.assigneeId,
    createdById: row.createdBy,
    resolutionCode: row.resolutionCode,
    resolution: row.resolution,
    version: row.version,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    resolvedAt: row.resolvedAt,
    closedAt: row.closedAt
  }
}
export type IncidentView = ReturnType<typeof toIncident>

/** Everything but the search vector; lists leave out the long text too. */
const { search: _search, ...fullColumns } = getTableColumns(tickets)
const { description: _d, resolution: _r, createdBy: _c, resolutionCode: _rc, ...summaryColumns } = fullColumns

export { fullColumns }

export function toSummary(row: typeof summaryRow) {
  return {
    id: row.id,
    number: formatNumber('incident', row.number),
    title: row.title,
    status: row.status as IncidentStatus,
    impact: row.impact,
    urgency: row.urgency,
    priority: row.priority,
    category: row.category,
    requesterId: row.requesterId,
    organisationId: row.organisationId,
    teamId: row.teamId,
    layer: row.layer,
    assigneeId: row.assigneeId,
    version: row.version,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    resolvedAt: row.resolvedAt,
    closedAt: row.closedAt
  }
}
declare const summaryRow: { [K in keyof typeof summaryColumns]: TicketRow[K & keyof TicketRow] }
export type IncidentSummaryView = ReturnType<typeof toSummary>

export interface NewIncident {
  id: string
  title: string
  description: string
  status: string
  impact: number
  urgency: number
  priority: number
  category: string | null
  requesterId: string
  teamId: string | null
  layer: number | null
  assigneeId: string | null
  createdBy: string
  /** Set for org-pinned actors: the requester must belong to this organisation. */
  requiredOrganisationId: string | null
}

export interface AuditStamp {
  actorId: string | null
  actorLabel: string
  requestId: string | null
  changes: (row: { number: string }) => Change[]
}

/**
 * Creates an incident and its audit row in one statement (one round trip, atomic without BEGIN).
 * The organisation is the requester's; no row comes back when the requester is absent or disabled.
 */
export async function insertIncident(q: Queryable, v: NewIncident, audit: AuditStamp): Promise<TicketRow | null> {
  const changes = audit.changes({ number: '' }).filter(c => c.field !== 'number')
  const result = await q.execute(sql`
    WITH req AS (
      SELECT id, organisation_id FROM users
      WHERE id = ${v.requesterId} AND active
        AND (${v.requiredOrganisationId}::uuid IS NULL OR organisation_id = ${v.requiredOrganisationId}::uuid)
    ), t AS (
      INSERT INTO tickets (id, kind, number, title, description, status, impact, urgency, priority, category,
                           requester_id, organisation_id, team_id, layer, assignee_id, created_by)
      SELECT ${v.id}, 'incident', nextval('incident_number_seq'), ${v.title}, ${v.description}, ${v.status},
             ${v.impact}, ${v.urgency}, ${v.priority}, ${v.category}, req.id, req.organisation_id,
             ${v.teamId}, ${v.layer}, ${v.assigneeId}, ${v.createdBy}
      FROM req
      RETURNING *
    ), a AS (
      INSERT INTO audit_log (actor_id, actor_label, entity_type, entity_id, action, changes, request_id)
      SELECT ${audit.actorId}, ${audit.actorLabel}, 'ticket', t.id, 'created',
             jsonb_build_array(jsonb_build_object('field', 'number', 'old', null, 'new',
               'INC-' || lpad(t.number::text, 6, '0'))) || ${JSON.stringify(changes)}::jsonb,
             ${audit.requestId}
      FROM t
    )
    SELECT id, number, title, description, status, impact, urgency, priority, category, requester_id,
           organisation_id, team_id, layer, assignee_id, created_by, resolution_code, resolution, version,
           created_at, updated_at, resolved_at, closed_at
    FROM t`)
  const raw = (result as unknown as { rows: Record<string, unknown>[] }).rows[0]
  if (!raw) return null
  return {
    id: raw.id as string,
    kind: 'incident',
    number: Number(raw.number),
    title: raw.title as string,
    description: raw.description as string,
    status: raw.status as string,
    impact: Number(raw.impact),
    urgency: Number(raw.urgency),
    priority: Number(raw.priority),
    category: (raw.category as string | null) ?? null,
    requesterId: raw.requester_id as string,
    organisationId: (raw.organisation_id as string | null) ?? null,
    teamId: (raw.team_id as string | null) ?? null,
    layer: raw.layer === null ? null : Number(raw.layer),
    assigneeId: (raw.assignee_id as string | null) ?? null,
    createdBy: raw.created_by as string,
    resolutionCode: null,
    resolution: null,
    version: Number(raw.version),
    createdAt: asDate(raw.created_at),
    updatedAt: asDate(raw.updated_at),
    resolvedAt: null,
    closedAt: null,
    search: null
  } as TicketRow
}

const asDate = (v: unknown) => (v instanceof Date ? v : new Date(String(v)))

export function createIncidentQueries(db: Db) {
  const byId = db
    .select(fullColumns)
    .from(tickets)
    .where(and(eq(tickets.id, sql.placeholder('id')), eq(tickets.kind, 'incident')))
    .prepare('incident_by_id')

  const byNumber = db
    .select(fullColumns)
    .from(tickets)
    .where(and(eq(tickets.kind, 'incident'), eq(tickets.number, sql.placeholder('number'))))
    .prepare('incident_by_number')

  return {
    async getById(id: string) {
      const [row] = await byId.execute({ id })
      return row ?? null
    },
    async getByNumber(ref: string) {
      const parsed = parseNumber(ref)
      if (parsed?.kind !== 'incident') return null
      const [row] = await byNumber.execute({ number: parsed.number })
      return row ?? null
    },
    async lockById(q: Queryable, id: string) {
      const [row] = await q
        .select(fullColumns)
        .from(tickets)
        .where(and(eq(tickets.id, id), eq(tickets.kind, 'incident')))
        .for('update')
      return row ?? null
    },
    async list(scope: TicketScope | null, input: IncidentListInput, cursor: Cursor | null, limit: number) {
      const sort = (input.sort ?? '-createdAt') as Sort
      const where = [eq(tickets.kind, 'incident'), ...scopeConditions(scope), ...filterConditions(input)]
      const { column, descending } = SORT_COLUMNS[sort.replace('-', '') as keyof typeof SORT_COLUMNS](sort)
      const isTime = column === tickets.createdAt || column === tickets.updatedAt
      if (cursor) {
        // Row comparison keeps the keyset on the (column, id) index order
        const value = isTime ? sql`${String(cursor.value)}::timestamptz` : sql`${Number(cursor.value)}::int`
        const id = sql`${cursor.id}::uuid`
        where.push(
          descending
            ? sql`(${column}, ${tickets.id}) < (${value}, ${id})`
            : sql`(${column}, ${tickets.id}) > (${value}, ${id})`
        )
      }
      return db
        .select(summaryColumns)
        .from(tickets)
        .where(and(...where))
        .orderBy(...(descending ? [desc(column), desc(tickets.id)] : [asc(column), asc(tickets.id)]))
        .limit(limit + 1)
    }
  }
}

const SORT_COLUMNS = {
  createdAt: (s: string) => ({ column: tickets.createdAt, descending: s.startsWith('-') }),
  updatedAt: (s: string) => ({ column: tickets.updatedAt, descending: s.startsWith('-') }),
  priority: (s: string) => ({ column: tickets.priority, descending: s.startsWith('-') }),
  number: (s: string) => ({ column: tickets.number, descending: s.startsWith('-') })
}

export function sortValue(row: IncidentSummaryRowLike, sort: Sort): string | number {
  switch (sort.replace('-', '')) {
    case 'updatedAt':
      return row.updatedAt.toISOString()
    case 'priority':
      return row.priority
    case 'number':
      return row.number
    default:
      return row.createdAt.toISOString()
  }
}
/** The cursor that resumes a list right after this item (GraphQL edges). */
export function cursorOf(item: IncidentSummaryView, sort: Sort): string {
  const raw = {
    createdAt: toDate(item.createdAt),
    updatedAt: toDate(item.updatedAt),
    priority: item.priority,
    number: Number(item.number.slice(4))
  }
  return encodeCursor({ sort, value: sortValue(raw, sort), id: item.id })
}
const toDate = (v: Date | string) => (v instanceof Date ? v : new Date(v))

interface IncidentSummaryRowLike {
  createdAt: Date
  updatedAt: Date
  priority: number
  number: number
}

export function scopeConditions(scope: TicketScope | null): SQL[] {
  if (!scope) return []
  const out: SQL[] = []
  if (scope.organisationId) out.push(eq(tickets.organisationId, scope.organisationId))
  if (scope.requesterId) out.push(eq(tickets.requesterId, scope.requesterId))
  return out
}

function filterConditions(f: IncidentListInput): SQL[] {
  const out: SQL[] = []
  if (f.status) {
    const list = f.status.split(',')
    out.push(list.length === 1 ? eq(tickets.status, list[0]!) : inArray(tickets.status, list))
  }
  if (f.priority) {
    const list = f.priority.split(',').map(Number)
    out.push(list.length === 1 ? eq(tickets.priority, list[0]!) : inArray(tickets.priority, list))
  }
  if (f.impact) out.push(eq(tickets.impact, f.impact))
  if (f.urgency) out.push(eq(tickets.urgency, f.urgency))
  if (f.category) out.push(eq(tickets.category, f.category))
  if (f.teamId) out.push(eq(tickets.teamId, f.teamId))
  if (f.layer) out.push(eq(tickets.layer, f.layer))
  if (f.assigneeId) out.push(eq(tickets.assigneeId, f.assigneeId))
  if (f.requesterId) out.push(eq(tickets.requesterId, f.requesterId))
  if (f.organisationId) out.push(eq(tickets.organisationId, f.organisationId))
  if (f.createdFrom) out.push(gte(tickets.createdAt, new Date(f.createdFrom)))
  if (f.createdTo) out.push(lt(tickets.createdAt, new Date(f.createdTo)))
  if (f.updatedFrom) out.push(gte(tickets.updatedAt, new Date(f.updatedFrom)))
  if (f.updatedTo) out.push(lte(tickets.updatedAt, new Date(f.updatedTo)))
  if (f.q) {
    const ref = parseNumber(f.q.trim())
    const text = sql`${tickets.search} @@ websearch_to_tsquery('simple', ${f.q})`
    out.push(ref?.kind === 'incident' ? or(text, eq(tickets.number, ref.number))! : text)
  }
  return out
}
