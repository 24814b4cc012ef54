import { and, eq, inArray, type SQL, sql } from 'drizzle-orm'
import {
  authorize,
  can,
  isStaff,
  requesterAllowed,
  requiredRequesterOrganisation,
  type TicketScope,
  ticketScope
} from '../../auth/policy.js'
import { ticketFormerNumbers, tickets, users } from '../../db/schema/index.js'
import { type Ctx, type Deps, inTransaction, type Queryable, withTx } from '../../lib/context.js'
import type { Page } from '../../lib/cursor.js'
import { AppError, badRequest, conflict, fieldError, forbidden, notFound } from '../../lib/errors.js'
import { preparedRows } from '../../lib/fast-rows.js'
import { runIdempotent } from '../../lib/idempotency.js'
import { uuidv7 } from '../../lib/ids.js'
import { checkVersion as checkVersionRule } from '../../lib/version.js'
import { actorLabel, type Change, diff } from '../audit/audit.service.js'
import type { createTeamService } from '../identity/teams.service.js'
import { allowedFor, sideOf, type Workflow, type WorkflowService } from '../workflows/workflows.service.js'
import {
  formatNumber,
  KIND_INFO,
  KIND_TRANSITION_OPTIONS,
  type KindTransitionOption,
  type TicketKind
} from './kinds.js'
import { withVisibleProblems } from './ticket-refs.js'
import { createTicketLifecycle } from './tickets.lifecycle.js'
import { createTicketListing } from './tickets.listing.js'
import { createTicketNotes } from './tickets.notes.js'
import type { KindHooks, TicketPorts } from './tickets.ports.js'
import {
  createTicketQueries,
  fullColumns,
  insertTicket,
  nameSubqueries,
  type RefNames,
  type Row,
  type TicketView,
  toTicket,
  withNames
} from './tickets.repository.js'
import { assignmentPlan, initialStatus, priorityOf, priorityPlan } from './tickets.rules.js'
import type {
  AssignmentInput,
  CreateTicketInput,
  TicketListInput,
  TransitionInput,
  UpdateTicketInput
} from './tickets.schemas.js'
import { createTicketWriter } from './tickets.writer.js'

type Teams = ReturnType<typeof createTeamService>

export interface TicketCoreDeps extends Deps {
  teams: Teams
  workflows: WorkflowService
  ports?: TicketPorts
}

export const visibleTo = (scope: TicketScope | null, row: Pick<Row, 'organisationId' | 'requesterId'>) =>
  !scope ||
  ((!scope.organisationId || row.organisationId === scope.organisationId) &&
    (!scope.requesterId || row.requesterId === scope.requesterId))

const CREATE_AUDITED = [
  'title',
  'status',
  'impact',
  'urgency',
  'priority',
  'category',
  'categoryId',
  'requesterId',
  'serviceId',
  'teamId',
  'layer',
  'assigneeId'
] as const

/**
 * The ticket core every kind shares: create, read, list, update, assign, transition, notes and history.
 * Authorisation and every invariant live here; kinds add their detail through hooks, and REST and
 * GraphQL only adapt.
 */
export function createTicketService(deps: TicketCoreDeps) {
  const { db } = deps
  const writer = createTicketWriter()
  const hooks = new Map<TicketKind, KindHooks>()
  // Given at construction and never replaced: the modules providing them are built first
  const ports: Readonly<TicketPorts> = { ...deps.ports }
  // Reads select the SLA clocks with their rows: the `sla` object costs no round trip
  const slaColumn: Record<string, SQL> = ports.slaReads ? { slaClocks: ports.slaReads.clocksSql } : {}
  const queries = createTicketQueries(db, slaColumn)

  /** Reads a ticket of this kind (any kind when null) the actor may see, or 404. */
  async function visible(ctx: Ctx, kind: TicketKind | null, id: string): Promise<Row> {
    authorize(ctx.actor, 'ticket.read')
    // Inside a transaction the row is locked for the write that follows
    const row = inTransaction(ctx.db) ? await queries.lockById(ctx.db, id) : await queries.getById(id)
    if (!row || (kind && row.kind !== kind) || !visibleTo(ticketScope(ctx.actor), row)) {
      throw notFound(kind ? KIND_INFO[kind].noun : 'ticket')
    }
    return row
  }

  /** Edits follow the one rule (lib/versioning.ts); actions (assign, transition) check a version when sent. */
  function checkVersion(row: Row, expected: number | undefined, required: boolean) {
    if (expected === undefined && !required) return
    checkVersionRule(KIND_INFO[row.kind as TicketKind].noun, row.version, expected)
  }

  function assertOpen(wf: Workflow, row: Row) {
    if (wf.isClosed(row.status)) {
      throw conflict(`the ${KIND_INFO[wf.kind].noun} is ${row.status} and can no longer be changed`)
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

  /** The full API shape of tickets: the shared fields and each kind's detail. */
  async function views(q: Queryable, rows: Row[]): Promise<TicketView[]> {
    const out = (await withNames(q, rows)).map(toTicket) as (TicketView & Record<string, unknown>)[]
    for (const kind of new Set(rows.map(r => r.kind as TicketKind))) {
      const details = hooks.get(kind)?.details
      if (!details) continue
      const found = await details(
        q,
        rows.filter(r => r.kind === kind).map(r => r.id),
        true
      )
      for (const v of out) if (v.kind === kind) Object.assign(v, found.get(v.id) ?? {})
    }
    if (ports.ciLinks && rows.length) {
      const cis = await ports.ciLinks.idsOf(
        q,
        rows.map(r => r.id)
      )
      for (const v of out) v.ciIds = cis.get(v.id) ?? []
    }
    return withSla(q, out)
  }

  /** The CIs a create or update body names, checked (422 naming ciIds); undefined when it names none. */
  async function ciIdsOf(q: Queryable, ctx: Ctx, input: Record<string, unknown>): Promise<string[] | undefined> {
    const v = input.ciIds
    if (v === undefined || v === null) return undefined
    if (!Array.isArray(v) || v.some(x => typeof x !== 'string')) throw fieldError('ciIds', 'a list of CI ids')
    if (!ports.ciLinks) throw fieldError('ciIds', 'no CMDB is installed')
    // Naming a CI needs seeing CIs: customers cannot probe the CMDB through their tickets
    if (!can(ctx.actor, 'ci.read')) throw forbidden('naming configuration items (ciIds) needs the ci.read permission')
    return ports.ciLinks.check(q, v as string[], 'ciIds')
  }
  const viewOf = async (q: Queryable, row: Row) => (await views(q, [row]))[0]!

  /** Every ticket answer carries the compact `sla` object (one query for all of them). */
  async function withSla<T extends { id: string }>(q: Queryable, list: T[]): Promise<T[]> {
    if (!ports.slaReads || list.length === 0) return list
    const found = await ports.slaReads.summariesOf(
      q,
      list.map(v => v.id)
    )
    for (const v of list) (v as T & { sla?: unknown }).sla = found.get(v.id)
    return list
  }

  const singleReads = new Map<TicketKind, ReturnType<typeof prepareSingleRead>>()
  function prepareSingleRead(kind: TicketKind, extra: Record<string, SQL>) {
    const selection = { ...fullColumns, ...nameSubqueries, ...extra }
    const query = db
      .select(selection)
      .from(tickets)
      .where(eq(tickets.id, sql.placeholder('id')))
    return preparedRows<Record<string, unknown>>(`ticket_by_id_${kind}`, selection, query)
  }
  function singleReadOf(kind: TicketKind, extra: Record<string, SQL>) {
    let prepared = singleReads.get(kind)
    if (!prepared) {
      prepared = prepareSingleRead(kind, {
        ...extra,
        ...(ports.ciLinks ? { ciIds: ports.ciLinks.idsSql } : {}),
        ...slaColumn
      })
      singleReads.set(kind, prepared)
    }
    return prepared
  }

  async function resolveCustomFields(
    q: Queryable,
    kind: TicketKind,
    input: Record<string, unknown> | undefined,
    existing: Record<string, unknown> | null
  ) {
    if (!ports.customFields) {
      if (input && Object.keys(input).length) throw fieldError('customFields', 'no custom fields are defined')
      return { values: existing ?? {}, changes: [] as Change[] }
    }
    return ports.customFields.resolve(q, kind, input, existing)
  }

  const notes = createTicketNotes(db, visible, (kind, q) => deps.workflows.get(kind, q), assertOpen, writer.note)
  const { checkRequirements, move, enterApproval, decide } = createTicketLifecycle({
    workflows: deps.workflows,
    queries,
    hooks,
    ports,
    write: writer.update
  })
  const listing = createTicketListing(
    db,
    queries,
    hooks,
    () => ports.customFields,
    kind => deps.workflows.get(kind),
    {
      ...(ports.ciLinks ? { ciId: ports.ciLinks.filterField } : {}),
      ...(ports.slaReads?.filterFields ?? {})
    },
    ports.slaReads
  )

  return {
    hooks,
    ports,
    /** The one write path: subscribers added here see every change of every ticket, in its transaction. */
    subscribe: writer.subscribe,
    writer,
    visible,
    views,

    /** Registers what a kind adds (its module calls this once when services are built). */
    register(kind: TicketKind, h: KindHooks) {
      hooks.set(kind, h)
    },

    async create(ctx: Ctx, kind: TicketKind, raw: CreateTicketInput, idempotencyKey?: string) {
      mayCreate(ctx, kind)
      return runIdempotent(ctx, idempotencyKey, `${kind}.create`, raw, 201, async c => {
        const run = async (c: Ctx) => {
          const input = (
            raw.templateId && ports.templates ? await ports.templates.apply(c.db, kind, raw.templateId, raw) : raw
          ) as CreateTicketInput
          // What the template sets is the template's authority (an admin saved it), not the caller's
          return createRow(c, kind, input, raw)
        }
        // A ticket without side rows is one INSERT statement (with its audit row); checks before it only
        // read. Side rows or an approval round need a transaction (the caller's, or one of their own).
        const wf = await deps.workflows.get(kind, c.db)
        const simple =
          !hooks.get(kind)?.prepareCreate &&
          !wf.status(wf.initial)?.approval &&
          !(await writer.listensToCreate(c.db, kind)) &&
          !(Array.isArray(raw.ciIds) && raw.ciIds.length)
        if (simple) return run(c)
        return withTx(c, (_tx, t) => run(t))
      })
    },

    async get(ctx: Ctx, kind: TicketKind | null, id: string): Promise<TicketView> {
      const singleRead = kind ? hooks.get(kind)?.singleRead : undefined
      if (!kind || !singleRead || ctx.db !== db)
        return (await withVisibleProblems(ctx.db, ctx.actor, [await viewOf(ctx.db, await visible(ctx, kind, id))]))[0]!
      // The row and the kind's detail in one prepared statement: the hot single read stays one round trip
      authorize(ctx.actor, 'ticket.read')
      const found = await singleReadOf(kind, singleRead).execute(db, { id })
      const row = found[0] as (Row & Record<string, unknown>) | undefined
      if (!row || row.kind !== kind || !visibleTo(ticketScope(ctx.actor), row)) throw notFound(KIND_INFO[kind].noun)
      const view = toTicket(row) as TicketView & Record<string, unknown>
      for (const key of Object.keys(singleRead)) view[key] = row[key] ?? null
      if (ports.ciLinks) view.ciIds = row.ciIds ?? []
      if (ports.slaReads) view.sla = ports.slaReads.summaryOf(row.slaClocks)
      return (await withVisibleProblems(db, ctx.actor, [view]))[0]!
    },

    /** Several tickets in one query (GraphQL loaders); invisible ones are left out. */
    async byIds(ctx: Ctx, kind: TicketKind | null, ids: readonly string[]): Promise<TicketView[]> {
      authorize(ctx.actor, 'ticket.read')
      if (ids.length === 0) return []
      const scope = ticketScope(ctx.actor)
      const rows = await ctx.db
        .select(fullColumns)
        .from(tickets)
        .where(and(kind ? eq(tickets.kind, kind) : undefined, inArray(tickets.id, [...ids])))
      return withVisibleProblems(
        ctx.db,
        ctx.actor,
        await views(
          ctx.db,
          rows.filter(r => visibleTo(scope, r))
        )
      )
    },

    async getByNumber(ctx: Ctx, ref: string): Promise<TicketView> {
      authorize(ctx.actor, 'ticket.read')
      const row = await queries.getByNumber(ref)
      if (!row || !visibleTo(ticketScope(ctx.actor), row)) throw notFound('ticket')
      return (await withVisibleProblems(db, ctx.actor, [await viewOf(db, row)]))[0]!
    },

    list: (ctx: Ctx, kind: TicketKind | null, input: TicketListInput) => listing.list(ctx, kind, input),

    /** List-row shapes (summary fields and each kind's summary detail) of rows read elsewhere. */
    summaries: listing.summaries,

    /** A list's WHERE conditions (scope, plain filters, RSQL) for reports counting over the same set. */
    listConditions: listing.conditions,

    async update(ctx: Ctx, kind: TicketKind, id: string, input: UpdateTicketInput, expectedVersion?: number) {
      return withTx(ctx, async (tx, ctx) => {
        const before = await visible(ctx, kind, id)
        authorize(ctx.actor, 'ticket.update')
        checkVersion(before, expectedVersion, true)
        const wf = await deps.workflows.get(kind, tx)
        assertOpen(wf, before)
        const set: Partial<Row> = {}
        if (input.title !== undefined) set.title = input.title.trim()
        if (input.description !== undefined) set.description = input.description
        if (input.category !== undefined) set.category = input.category
        if (input.categoryId !== undefined) {
          if (input.categoryId === null) set.categoryId = null
          else Object.assign(set, await categoryOf(tx, kind, input.categoryId))
        }
        if (input.serviceId !== undefined) {
          set.serviceId = input.serviceId === null ? null : await serviceOf(tx, ctx, input.serviceId, before.serviceId)
        }
        Object.assign(set, priorityPlan(before, input))
        if (input.requesterId !== undefined && input.requesterId !== before.requesterId) {
          authorize(ctx.actor, 'ticket.createForOthers')
          const [requester] = await tx
            .select({ organisationId: users.organisationId, active: users.active })
            .from(users)
            .where(eq(users.id, input.requesterId))
          if (!requester?.active) throw fieldError('requesterId', 'no such active user')
          if (!requesterAllowed(ctx.actor, { id: input.requesterId, organisationId: requester.organisationId })) {
            throw fieldError('requesterId', 'no such active user in your organisation')
          }
          set.requesterId = input.requesterId
          set.organisationId = requester.organisationId
        }
        let custom: Change[] = []
        if (input.customFields !== undefined) {
          const resolved = await resolveCustomFields(
            tx,
            kind,
            input.customFields,
            before.customFields as Record<string, unknown>
          )
          set.customFields = resolved.values
          custom = resolved.changes
        }
        const extra = (await hooks.get(kind)?.update?.(tx, ctx, before, input)) ?? []
        const ciIds = await ciIdsOf(tx, ctx, input)
        if (ciIds && ports.ciLinks) extra.push(...(await ports.ciLinks.replace(tx, before.id, ciIds)))
        const changes = [
          ...diff(before, set, [
            'title',
            'description',
            'impact',
            'urgency',
            'priority',
            'category',
            'categoryId',
            'requesterId',
            'organisationId',
            'serviceId'
          ]),
          ...custom,
          ...extra
        ]
        if (changes.length === 0) return viewOf(tx, before)
        return viewOf(tx, await writer.update(ctx, { before, set, changes, type: 'updated', cause: 'updated' }))
      })
    },

    async assign(ctx: Ctx, kind: TicketKind, id: string, input: AssignmentInput, expectedVersion?: number) {
      return withTx(ctx, async (tx, ctx) => {
        const before = await visible(ctx, kind, id)
        authorize(ctx.actor, 'ticket.assign')
        checkVersion(before, expectedVersion, false)
        const wf = await deps.workflows.get(kind, tx)
        assertOpen(wf, before)
        const set = await assignment(tx, wf, before, input)
        const changes = diff(before, set, ['teamId', 'layer', 'assigneeId', 'status'])
        if (changes.length === 0) return viewOf(tx, before)
        return viewOf(tx, await writer.update(ctx, { before, set, changes, type: 'assigned', cause: 'assigned' }))
      })
    },

    async transitions(ctx: Ctx, kind: TicketKind, id: string) {
      const row = await visible(ctx, kind, id)
      const wf = await deps.workflows.get(kind, ctx.db)
      return { status: row.status, allowed: allowedFor(ctx.actor, wf, row.status) }
    },

    async transition(ctx: Ctx, kind: TicketKind, id: string, input: TransitionInput, expectedVersion?: number) {
      return withTx(ctx, async (tx, ctx) => {
        const before = await visible(ctx, kind, id)
        authorize(ctx.actor, 'ticket.transition')
        checkVersion(before, expectedVersion, false)
        const wf = await deps.workflows.get(kind, tx)
        const allowed = allowedFor(ctx.actor, wf, before.status)
        if (!wf.rule(before.status, input.to, sideOf(ctx.actor)) || !allowed.includes(input.to)) {
          throw conflict(`cannot go from ${before.status} to ${input.to}; allowed: ${allowed.join(', ') || 'none'}`, {
            allowed,
            from: before.status
          })
        }
        await checkKindOptions(tx, wf, before, input)
        await checkRequirements(tx, wf, before, input.to, input)
        return viewOf(tx, await move(ctx, wf, before, input.to, input))
      })
    },

    /** A system-driven move inside the caller's transaction (cascades: a problem resolving its incidents). */
    systemMove(ctx: Ctx, row: Row, to: string, input: Omit<TransitionInput, 'to'> = {}) {
      return withTx(ctx, async (tx, ctx) => {
        const wf = await deps.workflows.get(row.kind as TicketKind, tx)
        if (!wf.status(to) || wf.status(row.status)?.phase === 'closed' || row.status === to) return null
        return move(ctx, wf, row, to, { ...input, to })
      })
    },

    /** The approval of a ticket was decided: the system moves it on (approved) or back (rejected). */
    decide: (ctx: Ctx, ticketId: string, outcome: 'approved' | 'rejected') =>
      withTx(ctx, (_tx, t) => decide(t, ticketId, outcome)),

    addNote: notes.addNote,
    notes: notes.notes,
    firstNotes: notes.firstNotes,
    history: notes.history,
    firstHistory: notes.firstHistory,

    /**
     * Moves an incident to a service request or back, keeping its id (so notes, links and history stay)
     * and giving it a number of the new kind; the old number is kept in the history.
     */
    async reclassify(
      ctx: Ctx,
      from: TicketKind,
      id: string,
      input: { to: TicketKind; customFields?: Record<string, unknown>; note?: string } & Record<string, unknown>
    ) {
      return withTx(ctx, async (tx, ctx) => {
        const before = await visible(ctx, from, id)
        authorize(ctx.actor, 'ticket.update')
        const oldWf = await deps.workflows.get(from, tx)
        assertOpen(oldWf, before)
        if (input.to === from) throw fieldError('to', `it is already a ${KIND_INFO[from].noun}`)
        const wf = await deps.workflows.get(input.to, tx)
        const prepared = await hooks.get(input.to)?.prepareCreate?.(tx, ctx, input)
        const specs = ports.customFields ? await ports.customFields.specs(tx, input.to) : new Map()
        const carried = Object.fromEntries(
          Object.entries(before.customFields as Record<string, unknown>).filter(([k]) => specs.has(k))
        )
        const custom = await resolveCustomFields(tx, input.to, { ...carried, ...(input.customFields ?? {}) }, null)
        if (ports.approvals && oldWf.status(before.status)?.approval) await ports.approvals.cancelOpen(tx, ctx, id)
        await hooks.get(from)?.remove?.(tx, id)
        // A ticket without a team takes the one the new kind names (a request's offering)
        const defaultTeam = before.teamId ? null : (prepared?.defaults?.teamId ?? null)
        const team = defaultTeam ? { teamId: defaultTeam, layer: 1 } : {}
        const defaultService = before.serviceId ? null : (prepared?.defaults?.serviceId ?? null)
        const service = defaultService ? { serviceId: defaultService } : {}
        // The new number first: the audit row and the change record name it
        const numbered = await tx.execute(sql`select nextval(${KIND_INFO[input.to].sequence}::regclass) as n`)
        const number = Number((numbered as unknown as { rows: { n: unknown }[] }).rows[0]!.n)
        const row = await writer.update(ctx, {
          before,
          set: {
            kind: input.to,
            number,
            status: wf.initial,
            ...team,
            ...service,
            customFields: custom.values,
            // Category trees are per kind: the old node does not belong to the new kind's tree
            categoryId: null,
            resolvedAt: null
          },
          changes: [
            { field: 'kind', old: from, new: input.to },
            { field: 'number', old: toTicket(before).number, new: formatNumber(input.to, number) },
            { field: 'status', old: before.status, new: wf.initial },
            ...diff(before, team, ['teamId', 'layer']),
            ...diff(before, service, ['serviceId']),
            ...(before.categoryId ? [{ field: 'categoryId', old: before.categoryId, new: null }] : []),
            ...custom.changes,
            ...(prepared?.changes ?? [])
          ],
          type: 'reclassified',
          cause: 'reclassified',
          ...(input.note ? { note: { body: input.note, internal: false } } : {})
        })
        // The old number keeps finding the ticket (lookup by number and `q`)
        await tx.insert(ticketFormerNumbers).values({ kind: from, number: before.number, ticketId: id })
        await prepared?.write(tx, row)
        return viewOf(tx, await enterApproval(ctx, wf, row))
      })
    }
  }

  /** A kind's own transition options: refused on other kinds, checked by the kind that owns them. */
  async function checkKindOptions(q: Queryable, wf: Workflow, row: Row, input: TransitionInput) {
    const kind = row.kind as TicketKind
    for (const [name, option] of Object.entries(KIND_TRANSITION_OPTIONS)) {
      if (input[name as KindTransitionOption] && option.kind !== kind) {
        throw fieldError(name, `only for ${KIND_INFO[option.kind].collection}`)
      }
    }
    const target = wf.status(input.to)
    if (target) await hooks.get(kind)?.checkTransition?.(q, target, row, input)
  }

  /** Customers raise the kinds that say so (incidents, requests); the others are staff work. */
  function mayCreate(ctx: Ctx, kind: TicketKind) {
    authorize(ctx.actor, 'ticket.create')
    if (!KIND_INFO[kind].customerRaised && ctx.actor.kind !== 'system' && !isStaff(ctx.actor)) {
      throw forbidden(`only staff raise ${KIND_INFO[kind].collection}`, { action: 'ticket.create' })
    }
  }

  async function categoryOf(q: Queryable, kind: TicketKind, categoryId: string) {
    if (!ports.categories) throw fieldError('categoryId', 'no categories are defined')
    const found = await ports.categories.resolve(q, kind, categoryId)
    return { categoryId: found.id, category: found.path }
  }

  /** The service a ticket names, checked by the services module for this actor (422 naming `serviceId`). */
  async function serviceOf(q: Queryable, ctx: Ctx, serviceId: string, current: string | null = null) {
    if (!ports.services) throw fieldError('serviceId', 'no services are defined')
    return (await ports.services.resolve(q, ctx.actor, serviceId, current)).id
  }

  async function assignment(q: Queryable, wf: Workflow, before: Row, input: AssignmentInput): Promise<Partial<Row>> {
    if (input.teamId === null && input.assigneeId) {
      throw fieldError('assigneeId', 'cannot assign a person without a team')
    }
    const set = assignmentPlan(wf, before, input)
    if (set.teamId) await assertAssignable(q, set.teamId, set.layer!, set.assigneeId ?? null)
    return set
  }

  async function createRow(ctx: Ctx, kind: TicketKind, input: CreateTicketInput, asked: CreateTicketInput = input) {
    const q = ctx.db
    const self = ctx.actor.id
    const requesterId = input.requesterId ?? self
    if (!requesterId) throw fieldError('requesterId', 'required when acting as the system')
    if (requesterId !== self) authorize(ctx.actor, 'ticket.createForOthers')
    const assigning = asked.teamId !== undefined || asked.assigneeId !== undefined || asked.layer !== undefined
    if (assigning) authorize(ctx.actor, 'ticket.assign')
    if (!input.teamId && (input.assigneeId || input.layer)) {
      throw fieldError('teamId', 'required when assigneeId or layer is given')
    }
    // The schema leaves title optional only because a template may give it: answer as the schema would
    if (!input.title)
      throw badRequest('title: required (or a templateId giving one)', [
        { field: 'title', message: 'required (or a templateId giving one)' }
      ])
    const wf = await deps.workflows.get(kind, q)
    const impact = input.impact ?? 2
    const urgency = input.urgency ?? 2
    const category = input.categoryId ? await categoryOf(q, kind, input.categoryId) : null
    const custom = await resolveCustomFields(q, kind, input.customFields, null)
    const prepared = await hooks.get(kind)?.prepareCreate?.(q, ctx, input)
    const ciIds = (await ciIdsOf(q, ctx, input)) ?? []
    // The kind may name a team when the body names none (a request's offering): layer 1, nobody yet
    const teamId = input.teamId ?? prepared?.defaults?.teamId ?? null
    // The same for the service (an offering's, which an admin saved under it). One the caller names is
    // checked by the create statement itself where the services module can say how (no read before it)
    const guard = input.serviceId ? (ports.services?.createGuard?.(ctx.actor, input.serviceId) ?? null) : null
    const serviceId = guard
      ? guard.id
      : input.serviceId
        ? await serviceOf(q, ctx, input.serviceId)
        : (prepared?.defaults?.serviceId ?? null)
    const layer = teamId ? (input.layer ?? 1) : null
    const values = {
      id: uuidv7(),
      kind,
      title: input.title.trim(),
      description: input.description ?? '',
      status: initialStatus(wf, input.assigneeId),
      impact,
      urgency,
      priority: priorityOf(impact, urgency),
      category: category?.category ?? input.category ?? null,
      categoryId: category?.categoryId ?? null,
      customFields: custom.values,
      requesterId,
      serviceId,
      teamId,
      layer,
      assigneeId: input.assigneeId ?? null,
      createdBy: self ?? requesterId,
      requiredOrganisationId: requiredRequesterOrganisation(ctx.actor)
    }
    if (values.teamId) await assertAssignable(q, values.teamId, layer!, values.assigneeId)
    const changes: Change[] = [
      ...CREATE_AUDITED.filter(f => values[f] !== null).map(f => ({ field: f, old: null, new: values[f] })),
      ...custom.changes,
      ...(prepared?.changes ?? []),
      ...(ciIds.length ? [{ field: 'ciIds', old: null, new: ciIds }] : [])
    ]
    const parts = await writer.createParts(ctx, q, values)
    const stamp = { actorId: ctx.actor.id, actorLabel: actorLabel(ctx), requestId: ctx.requestId ?? null, changes }
    let inserted = await insertTicket(q, values, stamp, parts.ctes, guard ? [guard.holds] : [])
    if (!inserted && guard) {
      // The requester or the service failed: the service's own check says which (its 422), else the
      // statement runs again as it would have without the guard
      await serviceOf(q, ctx, guard.id)
      inserted = await insertTicket(q, values, stamp, parts.ctes)
    }
    if (!inserted) {
      throw fieldError(
        'requesterId',
        values.requiredOrganisationId ? 'no such active user in your organisation' : 'no such active user'
      )
    }
    const { row, names } = inserted
    const more = prepared || wf.status(row.status)?.approval
    if (!more && !ciIds.length && !(await writer.listensToCreate(q, kind)))
      return Object.assign(createdView(kind, row, names, ciIds), parts.answer?.(row))
    // Not simple: `create` runs this in a transaction
    return withTx(ctx, async (tx, ctx) => {
      await prepared?.write(tx, row)
      if (ciIds.length && ports.ciLinks) await ports.ciLinks.replace(tx, row.id, ciIds)
      await writer.created(ctx, row, changes)
      // The clocks the subscribers just started, read in the same transaction
      if (!more) return (await withSla(tx, [createdView(kind, row, names, ciIds)]))[0]!
      return viewOf(tx, await enterApproval(ctx, wf, row))
    })
  }

  /**
   * The same representation as GET: the names (read by the create statement), and what the kind reads
   * with the row (an incident's problemId) still empty on a ticket just made, since links come after it.
   */
  function createdView(kind: TicketKind, row: Row, names: RefNames, ciIds: string[]): TicketView {
    const view = toTicket({ ...row, ...names }) as TicketView & Record<string, unknown>
    for (const key of Object.keys(hooks.get(kind)?.singleRead ?? {})) view[key] = null
    if (ports.ciLinks) view.ciIds = ciIds
    // No clock started, unless a create part started one (its answer then gives the sla object)
    if (ports.slaReads) view.sla = { response: null, resolution: null }
    return view
  }
}

export type TicketService = ReturnType<typeof createTicketService>
export type { Page }
