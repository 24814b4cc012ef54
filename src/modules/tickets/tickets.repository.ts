import { and, eq, getTableColumns, gte, inArray, lt, lte, or, type SQL, sql } from 'drizzle-orm'
import { type AnyPgColumn, alias } from 'drizzle-orm/pg-core'
import type { TicketScope } from '../../auth/policy.js'
import type { Db } from '../../db/client.js'
import { teams, ticketFormerNumbers, ticketNotes, tickets, users } from '../../db/schema/index.js'
import type { Queryable } from '../../lib/context.js'
import type { Cursor } from '../../lib/cursor.js'
import { selectList, selectRows } from '../../lib/fast-rows.js'
import { executePrepared } from '../../lib/prepared.js'
import type { Change } from '../audit/audit.service.js'
import { formatNumber, KIND_INFO, parseNumber, type TicketKind } from './kinds.js'
import type { TicketListInput } from './tickets.schemas.js'

export type TicketRow = typeof tickets.$inferSelect
export type Row = Omit<TicketRow, 'search'>

/** Who or what an id names, as much as anyone who may see the ticket may know: `{ id, displayName }`. */
export interface RefSummary {
  id: string
  displayName: string
}
/** Names read with the row (list joins, single-read subqueries) or looked up after a write. */
export interface RefNames {
  requesterName?: string | null
  assigneeName?: string | null
  teamName?: string | null
}
type RefIds = Pick<Row, 'requesterId' | 'assigneeId' | 'teamId'>

const ref = (id: string | null, name: string | null | undefined): RefSummary | null =>
  id && name != null ? { id, displayName: name } : null

/** The embedded summaries GraphQL resolves as `requester { displayName }` and the like, for REST reads. */
export function refsOf(row: RefIds & RefNames) {
  return {
    requester: ref(row.requesterId, row.requesterName),
    assignee: ref(row.assigneeId, row.assigneeName),
    team: ref(row.teamId, row.teamName)
  }
}

const requesterUser = alias(users, 'requester_user')
const assigneeUser = alias(users, 'assignee_user')
const teamRow = alias(teams, 'team_row')
/** List rows join the names (one query, primary-key lookups on the page's rows). */
const joinedNames = {
  requesterName: requesterUser.displayName,
  assigneeName: assigneeUser.displayName,
  teamName: teamRow.name
}
/** Single reads take them as subqueries, so a prepared single-row statement stays one round trip. */
export const nameSubqueries = {
  requesterName: sql<
    string | null
  >`(select ${users.displayName} from ${users} where ${users.id} = ${tickets.requesterId})`,
  assigneeName: sql<
    string | null
  >`(select ${users.displayName} from ${users} where ${users.id} = ${tickets.assigneeId})`,
  teamName: sql<string | null>`(select ${teams.name} from ${teams} where ${teams.id} = ${tickets.teamId})`
}

/** Names for rows that came without them (write answers, batched reads): one query for all of them. */
export async function withNames<T extends RefIds & RefNames>(q: Queryable, rows: T[]): Promise<T[]> {
  const missing = rows.filter(r => r.requesterName === undefined)
  if (missing.length === 0) return rows
  const userIds = [...new Set(missing.flatMap(r => [r.requesterId, r.assigneeId]).filter(Boolean))]
  const teamIds = [...new Set(missing.map(r => r.teamId).filter(Boolean))]
  const result = await q.execute(sql`
    SELECT id, display_name AS name FROM users
    WHERE id IN (SELECT jsonb_array_elements_text(${JSON.stringify(userIds)}::jsonb)::uuid)
    UNION ALL
    SELECT id, name FROM teams
    WHERE id IN (SELECT jsonb_array_elements_text(${JSON.stringify(teamIds)}::jsonb)::uuid)`)
  const names = new Map(
    (result as unknown as { rows: { id: string; name: string }[] }).rows.map(r => [r.id, r.name] as const)
  )
  for (const r of missing) {
    r.requesterName = names.get(r.requesterId) ?? null
    r.assigneeName = r.assigneeId ? (names.get(r.assigneeId) ?? null) : null
    r.teamName = r.teamId ? (names.get(r.teamId) ?? null) : null
  }
  return rows
}

/** The API shape every kind shares: human number beside the id, no search vector. */
export function toTicket(row: Row & RefNames) {
  return {
    id: row.id,
    kind: row.kind as TicketKind,
    number: formatNumber(row.kind as TicketKind, row.number),
    title: row.title,
    description: row.description,
    status: row.status,
    impact: row.impact,
    urgency: row.urgency,
    priority: row.priority,
    category: row.category,
    categoryId: row.categoryId,
    requesterId: row.requesterId,
    organisationId: row.organisationId,
    serviceId: row.serviceId,
    teamId: row.teamId,
    layer: row.layer,
    assigneeId: row.assigneeId,
    ...refsOf(row),
    createdById: row.createdBy,
    resolutionCode: row.resolutionCode,
    resolution: row.resolution,
    customFields: (row.customFields ?? {}) as Record<string, unknown>,
    version: row.version,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    resolvedAt: row.resolvedAt,
    closedAt: row.closedAt
  }
}
export type TicketView = ReturnType<typeof toTicket>

/** Everything but the search vector; lists leave out the long text too. */
const { search: _search, ...fullColumns } = getTableColumns(tickets)
const { description: _d, resolution: _r, createdBy: _c, resolutionCode: _rc, ...summaryColumns } = fullColumns

export { fullColumns, summaryColumns }

/** A list page's columns: the summary and the joined names. */
const listColumns = { ...summaryColumns, ...joinedNames }

export type SummaryRow = { [K in keyof typeof summaryColumns]: TicketRow[K & keyof TicketRow] }

export function toSummary(row: SummaryRow & RefNames) {
  return {
    id: row.id,
    kind: row.kind as TicketKind,
    number: formatNumber(row.kind as TicketKind, row.number),
    title: row.title,
    status: row.status,
    impact: row.impact,
    urgency: row.urgency,
    priority: row.priority,
    category: row.category,
    categoryId: row.categoryId,
    requesterId: row.requesterId,
    organisationId: row.organisationId,
    serviceId: row.serviceId,
    teamId: row.teamId,
    layer: row.layer,
    assigneeId: row.assigneeId,
    ...refsOf(row),
    customFields: (row.customFields ?? {}) as Record<string, unknown>,
    version: row.version,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    resolvedAt: row.resolvedAt,
    closedAt: row.closedAt
  }
}
export type TicketSummaryView = ReturnType<typeof toSummary>

export interface NewTicket {
  id: string
  kind: TicketKind
  title: string
  description: string
  status: string
  impact: number
  urgency: number
  priority: number
  category: string | null
  categoryId: string | null
  customFields: Record<string, unknown>
  requesterId: string
  serviceId: string | null
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
  changes: Change[]
}

/**
 * Creates a ticket and its audit row in one statement (one round trip, atomic without BEGIN).
 * The organisation is the requester's; no row comes back when the requester is absent or disabled.
 * `parts` are further CTE bodies reading `t`, the inserted row (the writer's subscribers' createPart:
 * outbox rows), written in the same statement. `guards` are conditions the row is written under (the
 * named service still usable): no row comes back when one fails either, and the caller asks why. The names the answer embeds (requester, assignee,
 * team) are read by the same statement, so a create stays one round trip. On node-postgres it is a
 * statement prepared by its text (a few shapes: per kind and number of outbox rows).
 */
export async function insertTicket(
  q: Queryable,
  v: NewTicket,
  audit: AuditStamp,
  parts: readonly { name: string; sql: SQL }[] = [],
  guards: readonly SQL[] = []
): Promise<{ row: Row; names: Required<RefNames> } | null> {
  const { prefix, sequence } = KIND_INFO[v.kind]
  const rows = await executePrepared(
    q,
    sql`
    WITH req AS (
      SELECT id, organisation_id FROM users
      WHERE id = ${v.requesterId} AND active
        AND (${v.requiredOrganisationId}::uuid IS NULL OR organisation_id = ${v.requiredOrganisationId}::uuid)
    ), t AS (
      INSERT INTO tickets (id, kind, number, title, description, status, impact, urgency, priority, category,
                           category_id, custom_fields, requester_id, organisation_id, team_id, layer, assignee_id,
                           created_by, service_id)
      SELECT ${v.id}, ${v.kind}, nextval(${sequence}::regclass), ${v.title}, ${v.description}, ${v.status},
             ${v.impact}, ${v.urgency}, ${v.priority}, ${v.category}, ${v.categoryId},
             ${JSON.stringify(v.customFields)}::jsonb, req.id, req.organisation_id, ${v.teamId}, ${v.layer},
             ${v.assigneeId}, ${v.createdBy}, ${v.serviceId}
      FROM req${guards.length ? sql` WHERE ${sql.join([...guards], sql` AND `)}` : sql``}
      RETURNING *
    ), a AS (
      INSERT INTO audit_log (actor_id, actor_label, entity_type, entity_id, action, changes, request_id)
      SELECT ${audit.actorId}, ${audit.actorLabel}, 'ticket', t.id, 'created',
             jsonb_build_array(jsonb_build_object('field', 'number', 'old', null, 'new',
               ${prefix} || '-' || lpad(t.number::text, 6, '0'))) || ${JSON.stringify(audit.changes)}::jsonb,
             ${audit.requestId}
      FROM t
    )${sql.join(
      parts.map(part => sql`, ${sql.identifier(part.name)} AS (${part.sql})`),
      sql``
    )}
    SELECT id, number, status, organisation_id, version, created_at, updated_at,
           (SELECT display_name FROM users WHERE id = t.requester_id) AS requester_name,
           (SELECT display_name FROM users WHERE id = t.assignee_id) AS assignee_name,
           (SELECT name FROM teams WHERE id = t.team_id) AS team_name
    FROM t`
  )
  const raw = rows[0]
  if (!raw) return null
  const names = {
    requesterName: (raw.requester_name as string | null) ?? null,
    assigneeName: (raw.assignee_name as string | null) ?? null,
    teamName: (raw.team_name as string | null) ?? null
  }
  const row: Row = {
    id: raw.id as string,
    kind: v.kind,
    number: Number(raw.number),
    title: v.title,
    description: v.description,
    status: raw.status as string,
    impact: v.impact,
    urgency: v.urgency,
    priority: v.priority,
    category: v.category,
    categoryId: v.categoryId,
    requesterId: v.requesterId,
    organisationId: (raw.organisation_id as string | null) ?? null,
    serviceId: v.serviceId,
    teamId: v.teamId,
    layer: v.layer,
    assigneeId: v.assigneeId,
    createdBy: v.createdBy,
    resolutionCode: null,
    resolution: null,
    customFields: v.customFields,
    version: Number(raw.version),
    createdAt: asDate(raw.created_at),
    updatedAt: asDate(raw.updated_at),
    resolvedAt: null,
    closedAt: null
  }
  return { row, names }
}

const asDate = (v: unknown) => (v instanceof Date ? v : new Date(String(v)))

export function scopeConditions(scope: TicketScope | null): SQL[] {
  if (!scope) return []
  const out: SQL[] = []
  if (scope.organisationId) out.push(eq(tickets.organisationId, scope.organisationId))
  if (scope.requesterId) out.push(eq(tickets.requesterId, scope.requesterId))
  return out
}

/**
 * Tickets whose title, description or notes match a web-search style query. Internal notes count only
 * for callers who may read them. The matching notes' tickets become one array (an InitPlan), so the
 * whole test is a plain OR the planner may take either way: a BitmapOr of the search and primary-key
 * indexes, sorted, when few tickets match; or the list's own keyset index walk, filtering, when many do.
 * (An `id IN (… UNION …)` forced the first way: a word in most of 100,000 tickets took 0.5 s, now 1 ms.)
 */
export function textMatch(text: string, includeInternalNotes: boolean): SQL {
  const query = sql`websearch_to_tsquery('simple', ${text})`
  const notes = includeInternalNotes
    ? sql`select ${ticketNotes.ticketId} from ${ticketNotes} where ${ticketNotes.search} @@ ${query}`
    : sql`select ${ticketNotes.ticketId} from ${ticketNotes} where ${ticketNotes.search} @@ ${query} and not ${ticketNotes.internal}`
  return sql`(${tickets.search} @@ ${query} or ${tickets.id} = any(array(${notes})))`
}

/** The plain query-parameter filters every ticket list accepts. */
export function filterConditions(kind: TicketKind | null, f: TicketListInput, includeInternalNotes: boolean): SQL[] {
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
  if (f.categoryId) out.push(eq(tickets.categoryId, f.categoryId))
  if (f.serviceId) out.push(eq(tickets.serviceId, f.serviceId))
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
    const text = textMatch(f.q, includeInternalNotes)
    if (ref) {
      // The current number (when it is of this list's kind) or one the ticket had before a reclassification
      const current = kind === null || ref.kind === kind
      const former = sql`${tickets.id} = any(array(select ${ticketFormerNumbers.ticketId} from ${ticketFormerNumbers} where ${ticketFormerNumbers.kind} = ${ref.kind} and ${ticketFormerNumbers.number} = ${ref.number}))`
      out.push(
        current ? or(text, and(eq(tickets.kind, ref.kind), eq(tickets.number, ref.number)), former)! : or(text, former)!
      )
    } else out.push(text)
  }
  return out
}

export interface SortSpec {
  /** The sort as the client named it ("-createdAt", "customFields.site"). */
  name: string
  expression: SQL | AnyPgColumn
  descending: boolean
  /** How a cursor's value is cast back in SQL. */
  cast: 'timestamptz' | 'int' | 'text' | 'numeric' | 'float8'
  /** The expression is no column of the row: it is selected as `sortValue` for valueOf to read. */
  computed?: boolean
  /** What is selected as `sortValue` when not the expression itself (its text, so a cursor holds it exactly). */
  selected?: SQL
  /** The sort value of a row, as it goes into a cursor. */
  valueOf: (row: SummaryRow) => string | number
}

/**
 * `listExtra`: columns other modules add to every list row, as subqueries without bound parameters
 * (the SLA clocks), so a page stays one statement.
 */
export function createTicketQueries(db: Db, listExtra: Record<string, SQL> = {}) {
  let listHead: SQL | undefined
  const pageColumns = { ...listColumns, ...listExtra }
  const byId = db
    .select({ ...fullColumns, ...nameSubqueries })
    .from(tickets)
    .where(eq(tickets.id, sql.placeholder('id')))
    .prepare('ticket_by_id')

  const byNumber = db
    .select({ ...fullColumns, ...nameSubqueries })
    .from(tickets)
    .where(and(eq(tickets.kind, sql.placeholder('kind')), eq(tickets.number, sql.placeholder('number'))))
    .prepare('ticket_by_number')

  // A number the ticket had before it was reclassified
  const byFormerNumber = db
    .select({ ...fullColumns, ...nameSubqueries })
    .from(tickets)
    .innerJoin(ticketFormerNumbers, eq(ticketFormerNumbers.ticketId, tickets.id))
    .where(
      and(
        eq(ticketFormerNumbers.kind, sql.placeholder('kind')),
        eq(ticketFormerNumbers.number, sql.placeholder('number'))
      )
    )
    .prepare('ticket_by_former_number')

  return {
    async getById(id: string): Promise<(Row & RefNames) | null> {
      const [row] = await byId.execute({ id })
      return row ?? null
    },
    async getByNumber(ref: string): Promise<(Row & RefNames) | null> {
      const parsed = parseNumber(ref)
      if (!parsed) return null
      const [row] = await byNumber.execute({ kind: parsed.kind, number: parsed.number })
      if (row) return row
      const [former] = await byFormerNumber.execute({ kind: parsed.kind, number: parsed.number })
      return former ?? null
    },
    async lockById(q: Queryable, id: string): Promise<Row | null> {
      const [row] = await q.select(fullColumns).from(tickets).where(eq(tickets.id, id)).for('update')
      return row ?? null
    },
    /**
     * A page of list rows. `prepare` when the conditions take few shapes and their plan does not hang
     * on the values (the plain filters; not a text search, whose best plan depends on the words).
     */
    async list(where: SQL[], sort: SortSpec, cursor: Cursor | null, limit: number, prepare = false) {
      const conditions = [...where]
      if (cursor) {
        // Row comparison keeps the keyset on the (column, id) index order
        const value = sql`${cursor.value}::${sql.raw(sort.cast)}`
        const id = sql`${cursor.id}::uuid`
        conditions.push(
          sort.descending
            ? sql`(${sort.expression}, ${tickets.id}) < (${value}, ${id})`
            : sql`(${sort.expression}, ${tickets.id}) > (${value}, ${id})`
        )
      }
      const order = sort.descending
        ? sql`${sort.expression} desc, ${tickets.id} desc`
        : sql`${sort.expression} asc, ${tickets.id} asc`
      if (sort.computed) {
        const columns = { ...pageColumns, sortValue: sql`${sort.selected ?? sort.expression}`.as('sort_value') }
        return db
          .select(columns)
          .from(tickets)
          .leftJoin(requesterUser, eq(requesterUser.id, tickets.requesterId))
          .leftJoin(assigneeUser, eq(assigneeUser.id, tickets.assigneeId))
          .leftJoin(teamRow, eq(teamRow.id, tickets.teamId))
          .where(and(...conditions))
          .orderBy(order)
          .limit(limit + 1)
      }
      // The hot list: its select built once, its rows read without drizzle's per-cell mapping
      listHead ??= selectList(
        db
          .select(pageColumns)
          .from(tickets)
          .leftJoin(requesterUser, eq(requesterUser.id, tickets.requesterId))
          .leftJoin(assigneeUser, eq(assigneeUser.id, tickets.assigneeId))
          .leftJoin(teamRow, eq(teamRow.id, tickets.teamId))
      )
      const filter = conditions.length ? sql` where ${and(...conditions)}` : sql``
      return selectRows<SummaryRow & Required<RefNames>>(
        db,
        pageColumns,
        sql`${listHead}${filter} order by ${order} limit ${limit + 1}`,
        { prepare }
      )
    },
    async count(where: SQL[]): Promise<number> {
      const [row] = await db
        .select({ n: sql<number>`count(*)::int` })
        .from(tickets)
        .where(and(...where))
      return Number(row?.n ?? 0)
    }
  }
}

export type TicketQueries = ReturnType<typeof createTicketQueries>
