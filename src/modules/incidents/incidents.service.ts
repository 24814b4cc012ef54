import { and, asc, eq, getTableColumns, gt, inArray, type SQL, sql } from 'drizzle-orm'
import type { AnyPgColumn } from 'drizzle-orm/pg-core'
import type { Actor } from '../../auth/actor.js'
import { authorize, can, canSeeInternal, isStaff, type TicketScope, ticketScope } from '../../auth/policy.js'
import { auditLog, ticketNotes, tickets, users } from '../../db/schema/index.js'
import type { Ctx, Deps, Queryable } from '../../lib/context.js'
import { decodeCursor, type Page, pageOf } from '../../lib/cursor.js'
import {
  AppError,
  conflict,
  fieldError,
  forbidden,
  notFound,
  preconditionFailed,
  preconditionRequired,
  validationFailed
} from '../../lib/errors.js'
import { runIdempotent } from '../../lib/idempotency.js'
import { uuidv7 } from '../../lib/ids.js'
import { actorLabel, type Change, diff, readAudit, recordAudit } from '../audit/audit.service.js'
import type { createTeamService } from '../identity/teams.service.js'
import {
  createIncidentQueries,
  fullColumns,
  type IncidentSummaryView,
  type IncidentView,
  insertIncident,
  sortValue,
  type TicketRow,
  toIncident,
  toSummary
} from './incidents.repository.js'
import type {
  AssignmentInput,
  CreateIncidentInput,
  IncidentListInput,
  NoteInput,
  PageInput,
  Sort,
  TransitionInput,
  UpdateIncidentInput
} from './incidents.schemas.js'
import { type IncidentStatus, priorityOf, incidentWorkflow as workflow } from './workflow.js'

type Row = Omit<TicketRow, 'search'>
type Teams = ReturnType<typeof createTeamService>

const visibleTo = (scope: TicketScope | null, row: Row) =>
  !scope ||
  ((!scope.organisationId || row.organisationId === scope.organisationId) &&
    (!scope.requesterId || row.requesterId === scope.requesterId))

/** Statuses this actor may move the ticket to from where it is. */
export function allowedTransitions(actor: Actor, row: Pick<Row, 'status'>): IncidentStatus[] {
  if (!can(actor, 'ticket.transition')) return []
  const side = isStaff(actor) && ticketScope(actor) === null ? 'staff' : 'requester'
  const out = workflow.transitions.filter(t => t.from === row.status && t.by === side).map(t => t.to)
  return [...new Set(out)]
}

/** Incidents end to end. Authorisation and every invariant live here; REST and GraphQL only adapt. */
export function createIncidentService(deps: Deps & { teams: Teams }) {
  const { db } = deps
  const queries = createIncidentQueries(db)

  /** Reads a ticket the actor may see, or 404: absent and not-yours look the same. */
  async function visible(ctx: Ctx, id: string, q?: Queryable): Promise<Row> {
    authorize(ctx.actor, 'ticket.read')
    const row = q ? await queries.lockById(q, id) : await queries.getById(id)
    if (!row || !visibleTo(ticketScope(ctx.actor), row)) throw notFound('incident')
    return row
  }

  function checkVersion(row: Row, expected: number | undefined, required: boolean) {
    if (expected === undefined) {
      if (required)
        throw preconditionRequired('send If-Match with the ETag (or "version" in the body) of what you edited')
      return
    }
    if (row.version !== expected) {
      throw preconditionFailed(`the incident was changed by someone else (now version ${row.version})`, {
        currentVersion: row.version
      })
    }
  }

  function assertOpen(row: Row) {
    if (workflow.final.includes(row.status as IncidentStatus)) {
      throw conflict(`the incident is ${row.status} and can no longer be changed`)
    }
  }

  async function assertAssignable(q: Queryable, teamId: string, layer: number, assigneeId: string | null) {
    const team = await deps.teams.load(q, teamId).catch(err => {
      if (err instanceof AppError && err.status === 404) throw fieldError('teamId', 'no such team')
      throw err
    })
    if (!team.layers.some(l => l.level === layer)) {
      throw fieldError('layer', `team "${team.name}" has layers 1 to ${team.layers.length}`)
    }
    if (assigneeId && !(await deps.teams.isMember(q, teamId, layer, assigneeId))) {
      throw fieldError('assigneeId', `not a member of layer ${layer} of team "${team.name}"`)
    }
  }

  async function write(q: Queryable, ctx: Ctx, before: Row, set: Partial<Row>, changes: Change[], action: string) {
    const [row] = await q
      .update(tickets)
      .set({ ...set, version: sql`${tickets.version} + 1`, updatedAt: new Date() })
      .where(eq(tickets.id, before.id))
      .returning()
    await recordAudit(q, ctx, { entityType: 'ticket', entityId: before.id, action, changes })
    return row!
  }

  /**
   * The first `limit + 1` rows of each group, in `order`, for several groups in one query (a window
   * function): what lets a list of incidents load the first page of a nested list in one round trip.
   */
  async function firstRowsPer<T extends typeof ticketNotes | typeof auditLog>(
    table: T,
    group: AnyPgColumn,
    order: AnyPgColumn,
    ids: readonly string[],
    limit: number,
    where: SQL | undefined
  ): Promise<(T['$inferSelect'] & { rn: number })[]> {
    if (ids.length === 0) return []
    const ranked = db
      .select({
        ...getTableColumns(table as typeof ticketNotes),
        rn: sql<number>`row_number() over (partition by ${group} order by ${order})`.as('rn')
      })
      .from(table as typeof ticketNotes)
      .where(and(inArray(group, [...ids]), where))
      .as('ranked')
    const rows = await db
      .select()
      .from(ranked)
      .where(sql`rn <= ${limit + 1}`)
      .orderBy(sql`rn`)
    return rows as unknown as (T['$inferSelect'] & { rn: number })[]
  }

  return {
    async create(ctx: Ctx, input: CreateIncidentInput, idempotencyKey?: string) {
      authorize(ctx.actor, 'ticket.create')
      const self = ctx.actor.id
      const requesterId = input.requesterId ?? self
      if (!requesterId) throw fieldError('requesterId', 'required when acting as the system')
      if (requesterId !== self) authorize(ctx.actor, 'ticket.createForOthers')
      const assigning = input.teamId !== undefined || input.assigneeId !== undefined || input.layer !== undefined
      if (assigning) authorize(ctx.actor, 'ticket.assign')
      if (!input.teamId && (input.assigneeId || input.layer)) {
        throw fieldError('teamId', 'required when assigneeId or layer is given')
      }
      const impact = input.impact ?? 2
      const urgency = input.urgency ?? 2
      const layer = input.teamId ? (input.layer ?? 1) : null
      const values = {
        id: uuidv7(),
        title: input.title.trim(),
        description: input.description ?? '',
        status: input.assigneeId ? 'assigned' : workflow.initial,
        impact,
        urgency,
        priority: priorityOf(impact, urgency),
        category: input.category ?? null,
        requesterId,
        teamId: input.teamId ?? null,
        layer,
        assigneeId: input.assigneeId ?? null,
        createdBy: self ?? requesterId,
        requiredOrganisationId: ticketScope(ctx.actor)?.organisationId ?? null
      }
      const result = await runIdempotent(db, ctx, idempotencyKey, 'incident.create', input, 201, async q => {
        const run = async (tx: Queryable) => {
          if (values.teamId) await assertAssignable(tx, values.teamId, layer!, values.assigneeId)
          const row = await insertIncident(tx, values, {
            actorId: ctx.actor.id,
            actorLabel: actorLabel(ctx),
            requestId: ctx.requestId ?? null,
            changes: () =>
              (
                [
                  'title',
                  'status',
                  'impact',
                  'urgency',
                  'priority',
                  'category',
                  'requesterId',
                  'teamId',
                  'layer',
                  'assigneeId'
                ] as const
              )
                .filter(f => values[f] !== null)
                .map(f => ({ field: f, old: null, new: values[f] }))
          })
          if (!row) {
            throw fieldError(
              'requesterId',
              values.requiredOrganisationId ? 'no such active user in your organisation' : 'no such active user'
            )
          }
          return toIncident(row)
        }
        // The plain create is one statement; with checks first it needs a transaction of its own
        return values.teamId && q === db ? db.transaction(run) : run(q)
      })
      return result
    },

    async get(ctx: Ctx, id: string): Promise<IncidentView> {
      return toIncident(await visible(ctx, id))
    },

    /** Several incidents in one query (GraphQL loaders); invisible ones are left out. */
    async byIds(ctx: Ctx, ids: readonly string[]): Promise<IncidentView[]> {
      authorize(ctx.actor, 'ticket.read')
      if (ids.length === 0) return []
      const scope = ticketScope(ctx.actor)
      const rows = await db
        .select(fullColumns)
        .from(tickets)
        .where(and(eq(tickets.kind, 'incident'), inArray(tickets.id, [...ids])))
      return rows.filter(r => visibleTo(scope, r)).map(toIncident)
    },

    async getByNumber(ctx: Ctx, ref: string): Promise<IncidentView> {
      authorize(ctx.actor, 'ticket.read')
      const row = await queries.getByNumber(ref)
      if (!row || !visibleTo(ticketScope(ctx.actor), row)) throw notFound('ticket')
      return toIncident(row)
    },

    async list(ctx: Ctx, input: IncidentListInput): Promise<Page<IncidentSummaryView>> {
      authorize(ctx.actor, 'ticket.read')
      const sort = (input.sort ?? '-createdAt') as Sort
      const limit = input.limit ?? 50
      const cursor = input.cursor ? decodeCursor(input.cursor, sort) : null
      for (const f of ['createdFrom', 'createdTo', 'updatedFrom', 'updatedTo'] as const) {
        if (input[f] && Number.isNaN(Date.parse(input[f]!))) throw fieldError(f, 'not a date-time')
      }
      const rows = await queries.list(ticketScope(ctx.actor), input, cursor, limit)
      return pageOf(rows, limit, last => ({ sort, value: sortValue(last, sort), id: last.id }), toSummary)
    },

    async update(ctx: Ctx, id: string, input: UpdateIncidentInput, expectedVersion?: number) {
      return db.transaction(async tx => {
        const before = await visible(ctx, id, tx)
        authorize(ctx.actor, 'ticket.update')
        checkVersion(before, expectedVersion, true)
        assertOpen(before)
        const set: Partial<Row> = {}
        if (input.title !== undefined) set.title = input.title.trim()
        if (input.description !== undefined) set.description = input.description
        if (input.category !== undefined) set.category = input.category
        if (input.impact !== undefined) set.impact = input.impact
        if (input.urgency !== undefined) set.urgency = input.urgency
        if (set.impact !== undefined || set.urgency !== undefined) {
          set.priority = priorityOf(set.impact ?? before.impact, set.urgency ?? before.urgency)
        }
        if (input.requesterId !== undefined && input.requesterId !== before.requesterId) {
          authorize(ctx.actor, 'ticket.createForOthers')
          const [requester] = await tx
            .select({ organisationId: users.organisationId, active: users.active })
            .from(users)
            .where(eq(users.id, input.requesterId))
          if (!requester?.active) throw fieldError('requesterId', 'no such active user')
          set.requesterId = input.requesterId
          set.organisationId = requester.organisationId
        }
        const changes = diff(before, set, [
          'title',
          'description',
          'impact',
          'urgency',
          'priority',
          'category',
          'requesterId',
          'organisationId'
        ])
        if (changes.length === 0) return toIncident(before)
        return toIncident(await write(tx, ctx, before, set, changes, 'updated'))
      })
    },

    async assign(ctx: Ctx, id: string, input: AssignmentInput, expectedVersion?: number) {
      return db.transaction(async tx => {
        const before = await visible(ctx, id, tx)
        authorize(ctx.actor, 'ticket.assign')
        checkVersion(before, expectedVersion, false)
        assertOpen(before)
        const set: Partial<Row> = {}
        if (input.teamId === null) {
          if (input.assigneeId) throw fieldError('assigneeId', 'cannot assign a person without a team')
          Object.assign(set, { teamId: null, layer: null, assigneeId: null })
        } else {
          const layer = input.layer ?? (input.teamId === before.teamId && before.layer ? before.layer : 1)
          const assigneeId =
            input.assigneeId !== undefined
              ? input.assigneeId
              : input.teamId === before.teamId && layer === before.layer
                ? before.assigneeId
                : null
          await assertAssignable(tx, input.teamId, layer, assigneeId)
          Object.assign(set, { teamId: input.teamId, layer, assigneeId })
        }
        // Giving a new ticket an owner moves it on; taking the owner away from an assigned one moves it back
        if (set.assigneeId && before.status === 'new') set.status = 'assigned'
        if (!set.teamId && before.status === 'assigned') set.status = 'new'
        const changes = diff(before, set, ['teamId', 'layer', 'assigneeId', 'status'])
        if (changes.length === 0) return toIncident(before)
        return toIncident(await write(tx, ctx, before, set, changes, 'assigned'))
      })
    },

    async transitions(ctx: Ctx, id: string) {
      const row = await visible(ctx, id)
      return { status: row.status as IncidentStatus, allowed: allowedTransitions(ctx.actor, row) }
    },

    async transition(ctx: Ctx, id: string, input: TransitionInput, expectedVersion?: number) {
      return db.transaction(async tx => {
        const before = await visible(ctx, id, tx)
        authorize(ctx.actor, 'ticket.transition')
        checkVersion(before, expectedVersion, false)
        const allowed = allowedTransitions(ctx.actor, before)
        const side = allowed.length && isStaff(ctx.actor) && ticketScope(ctx.actor) === null ? 'staff' : 'requester'
        const rule = workflow.transitions.find(t => t.from === before.status && t.to === input.to && t.by === side)
        if (!rule || !allowed.includes(input.to)) {
          throw conflict(`cannot go from ${before.status} to ${input.to}; allowed: ${allowed.join(', ') || 'none'}`, {
            allowed,
            from: before.status
          })
        }
        const missing: { field: string; message: string }[] = []
        for (const need of rule.requires ?? []) {
          if (need === 'resolution' && !input.resolution)
            missing.push({ field: 'resolution', message: 'required to resolve' })
          if (need === 'team' && !before.teamId) missing.push({ field: 'teamId', message: 'assign a team first' })
        }
        if (missing.length) throw validationFailed(missing)
        const set: Partial<Row> = { status: input.to }
        const now = new Date()
        if (input.to === 'resolved') {
          Object.assign(set, {
            resolvedAt: now,
            resolution: input.resolution,
            resolutionCode: input.resolutionCode ?? null
          })
        }
        if (input.to === 'closed') set.closedAt = now
        if (before.status === 'resolved' && input.to !== 'closed') Object.assign(set, { resolvedAt: null })
        const changes = diff(before, set, ['status', 'resolutionCode', 'resolution', 'resolvedAt', 'closedAt'])
        const row = await write(
          tx,
          ctx,
          before,
          set,
          changes,
          before.status === 'resolved' && input.to === 'in_progress' ? 'reopened' : 'transitioned'
        )
        if (input.note) await addNoteRow(tx, ctx, row, { body: input.note, internal: false })
        return toIncident(row)
      })
    },

    async addNote(ctx: Ctx, id: string, input: NoteInput) {
      return db.transaction(async tx => {
        const row = await visible(ctx, id, tx)
        authorize(ctx.actor, input.internal ? 'ticket.noteInternal' : 'ticket.note')
        if (input.internal && !canSeeInternal(ctx.actor)) throw forbidden('internal notes are for staff only')
        assertOpen(row)
        return addNoteRow(tx, ctx, row, input)
      })
    },

    async notes(ctx: Ctx, id: string, page: PageInput) {
      await visible(ctx, id)
      const limit = page.limit ?? 50
      const where = [eq(ticketNotes.ticketId, id)]
      if (!canSeeInternal(ctx.actor)) where.push(eq(ticketNotes.internal, false))
      if (page.cursor) where.push(gt(ticketNotes.id, decodeCursor(page.cursor, 'notes').id))
      const rows = await db
        .select()
        .from(ticketNotes)
        .where(and(...where))
        .orderBy(asc(ticketNotes.id))
        .limit(limit + 1)
      return pageOf(rows, limit, last => ({ sort: 'notes', value: null, id: last.id }))
    },

    /**
     * First pages of notes for many incidents in one query (GraphQL lists). The incidents came from a
     * read that already checked visibility; internal notes still depend on who asks.
     */
    async firstNotes(ctx: Ctx, ids: readonly string[], limit: number) {
      authorize(ctx.actor, 'ticket.read')
      const hide = canSeeInternal(ctx.actor) ? undefined : eq(ticketNotes.internal, false)
      const rows = await firstRowsPer(ticketNotes, ticketNotes.ticketId, ticketNotes.id, ids, limit, hide)
      return ids.map(id =>
        pageOf(
          rows.filter(r => r.ticketId === id),
          limit,
          last => ({ sort: 'notes', value: null, id: last.id }),
          ({ rn: _rn, ...note }) => note
        )
      )
    },

    /** First pages of history for many incidents in one query (GraphQL lists). */
    async firstHistory(ctx: Ctx, ids: readonly string[], limit: number) {
      authorize(ctx.actor, 'ticket.read')
      const where = and(
        eq(auditLog.entityType, 'ticket'),
        canSeeInternal(ctx.actor) ? undefined : eq(auditLog.internal, false)
      )
      const rows = await firstRowsPer(auditLog, auditLog.entityId, auditLog.id, ids, limit, where)
      return ids.map(id =>
        pageOf(
          rows.filter(r => r.entityId === id),
          limit,
          last => ({ sort: 'history', value: last.id, id }),
          r => ({
            id: r.id,
            at: r.at,
            actorId: r.actorId,
            actor: r.actorLabel,
            action: r.action,
            changes: r.changes as Change[]
          })
        )
      )
    },

    async history(ctx: Ctx, id: string, page: PageInput) {
      await visible(ctx, id)
      const limit = page.limit ?? 50
      const after = page.cursor ? Number(decodeCursor(page.cursor, 'history').value) : undefined
      const rows = await readAudit(db, {
        entityType: 'ticket',
        entityId: id,
        includeInternal: canSeeInternal(ctx.actor),
        limit,
        ...(after !== undefined && Number.isInteger(after) ? { afterId: after } : {})
      })
      return pageOf(
        rows,
        limit,
        last => ({ sort: 'history', value: last.id, id }),
        r => ({
          id: r.id,
          at: r.at,
          actorId: r.actorId,
          actor: r.actorLabel,
          action: r.action,
          changes: r.changes as Change[]
        })
      )
    }
  }

  async function addNoteRow(q: Queryable, ctx: Ctx, row: Row, input: NoteInput) {
    if (!ctx.actor.id) throw fieldError('authorId', 'notes need a person as author')
    const [note] = await q
      .insert(ticketNotes)
      .values({
        id: uuidv7(),
        ticketId: row.id,
        authorId: ctx.actor.id,
        internal: input.internal ?? false,
        body: input.body
      })
      .returning()
    await q.update(tickets).set({ updatedAt: new Date() }).where(eq(tickets.id, row.id))
    await recordAudit(q, ctx, {
      entityType: 'ticket',
      entityId: row.id,
      action: note!.internal ? 'note.internal' : 'note.public',
      changes: [{ field: 'notes', old: null, new: note!.id }],
      internal: note!.internal
    })
    return note!
  }
}

export type IncidentService = ReturnType<typeof createIncidentService>
