import type { TObject } from 'typebox'
import type { Loaders, Resolvers } from '../../graphql/types.js'
import { toConnection } from '../../lib/connection.js'
import { encodeCursor } from '../../lib/cursor.js'
import { type Args, connectionLoader, defined, type GqlCtx, Id, pageArgs, paged } from '../../lib/graphql.js'
import { check } from '../../lib/validate.js'
import { organisationsBy, teamsBy, usersBy } from '../identity/identity.resolvers.js'
import { allowedFor } from '../workflows/workflows.service.js'
import { KIND_INFO, type TicketKind } from './kinds.js'
import type { TicketSummaryView } from './tickets.repository.js'
import {
  AssignmentBody,
  type AssignmentInput,
  type CreateTicketInput,
  NoteBody,
  type NoteInput,
  type TicketListInput,
  TicketListQuery,
  TransitionBody,
  type TransitionInput,
  type UpdateTicketInput
} from './tickets.schemas.js'

/** A ticket named by `field` on each parent, looked up in one batch (null when not visible). */
export const ticketsBy =
  (field: string) =>
  async (queries: { obj: Record<string, unknown>; params: Args }[], { ctx, services }: GqlCtx) => {
    const ids = queries.map(q => q.obj[field] as string | null)
    const wanted = [...new Set(ids.filter((v): v is string => !!v))]
    const found = new Map((await services.tickets.byIds(ctx, null, wanted)).map(t => [t.id, t]))
    return ids.map(v => (v ? (found.get(v) ?? null) : null))
  }

const cap = (s: string) => s[0]!.toUpperCase() + s.slice(1)
const optionalVersion = (v: unknown) => (v === null || v === undefined ? undefined : Number(v))

/** GraphQL list arguments as the REST list query, checked by the same schema. */
export function listQuery(args: Args): TicketListInput {
  const { first, after, status, priority, ...rest } = args
  return check<TicketListInput>(
    TicketListQuery,
    defined({
      ...rest,
      ...pageArgs({ first, after }),
      status: Array.isArray(status) && status.length ? status.join(',') : undefined,
      priority: Array.isArray(priority) && priority.length ? priority.join(',') : undefined
    })
  )
}

/** A list page as a connection; `totalCount` is there when includeTotal asked for it. */
export function ticketConnection(page: {
  items: TicketSummaryView[]
  nextCursor: string | null
  total?: number
  cursors: string[]
}) {
  const index = new Map(page.items.map((item, i) => [item, page.cursors[i]!]))
  return { ...toConnection(page, item => index.get(item)!), totalCount: page.total ?? null }
}

/**
 * The GraphQL door of one kind, the same service functions as its REST door: `incident(id)`,
 * `incidents(...)`, createIncident, updateIncident, assignIncident, transitionIncident, addIncidentNote.
 */
export function ticketResolvers(kind: TicketKind, create: TObject, update: TObject): Resolvers {
  const { field, collection, typeName } = KIND_INFO[kind]
  const stem = cap(field)
  return {
    Query: {
      [field]: async (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
        services.tickets.get(ctx, kind, check<string>(Id, args.id, 'id')),
      [collection]: paged(async (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
        ticketConnection(await services.tickets.list(ctx, kind, listQuery(args)))
      )
    },
    Mutation: {
      [`create${stem}`]: async (_: unknown, args: Args, { ctx, services, idempotencyKey }: GqlCtx) => {
        const input = check<CreateTicketInput>(create, defined(args.input as Args), 'input')
        const key = (args.idempotencyKey as string | null | undefined) ?? idempotencyKey
        return (await services.tickets.create(ctx, kind, input, key ?? undefined)).body
      },
      [`update${stem}`]: async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
        const input = check<UpdateTicketInput>(update, keepNulls(args.input as Args), 'input')
        return services.tickets.update(ctx, kind, check<string>(Id, args.id, 'id'), input, Number(args.version))
      },
      [`assign${stem}`]: async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
        const raw = args.input as Args
        const input = check<AssignmentInput>(AssignmentBody, { ...defined(raw), teamId: raw.teamId ?? null }, 'input')
        return services.tickets.assign(
          ctx,
          kind,
          check<string>(Id, args.id, 'id'),
          input,
          optionalVersion(args.version)
        )
      },
      [`transition${stem}`]: async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
        const input = check<TransitionInput>(TransitionBody, defined(args.input as Args), 'input')
        const id = check<string>(Id, args.id, 'id')
        return services.tickets.transition(ctx, kind, id, input, optionalVersion(args.version))
      },
      [`add${stem}Note`]: async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
        const input = check<NoteInput>(NoteBody, defined(args.input as Args), 'input')
        return services.tickets.addNote(ctx, kind, check<string>(Id, args.id, 'id'), input)
      }
    },
    [typeName]: {
      allowedTransitions: async (parent: { status: string }, _: Args, { ctx, services }: GqlCtx) =>
        allowedFor(ctx.actor, await services.workflows.get(kind), parent.status)
    }
  }
}

/**
 * Updates keep an explicit null: GraphQL leaves omitted input fields out, so a null is the client
 * clearing a field (the schema refuses null where a field cannot be cleared, naming it).
 */
function keepNulls(input: Args): Args {
  return Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined))
}

const TYPE_NAMES = new Map(Object.entries(KIND_INFO).map(([kind, info]) => [kind, info.typeName]))

/** Queries across kinds: a ticket by number, and a list over every kind. */
export function crossKindResolvers(): Resolvers {
  return {
    Query: {
      ticket: async (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
        services.tickets.getByNumber(ctx, String(args.number)),
      tickets: paged(async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
        const { kind, ...rest } = args
        // The TicketKind enum of the schema has already checked the value
        const k = kind === null || kind === undefined ? null : (String(kind) as TicketKind)
        return ticketConnection(await services.tickets.list(ctx, k, listQuery(rest)))
      })
    },
    Ticket: {
      resolveType: (obj: { kind?: unknown }) => TYPE_NAMES.get(String(obj.kind)) ?? null
    }
  }
}

type Parent = Record<string, unknown>
type Query<P = Parent> = { obj: P; params: Args }

/** A text column of a ticket read by name: every field fullField serves holds text or null. */
function textOf(row: object | undefined, field: string): string | null {
  const value: unknown = row ? Reflect.get(row, field) : null
  return typeof value === 'string' ? value : null
}

/** Full-text fields that list rows leave out are fetched in one batch when a query asks for them. */
export const fullField =
  (field: string) =>
  async (queries: Query[], { ctx, services }: GqlCtx): Promise<(string | null)[]> => {
    const missing = [...new Set(queries.filter(q => !(field in q.obj)).map(q => String(q.obj.id)))]
    const loaded = new Map((await services.tickets.byIds(ctx, null, missing)).map(i => [i.id, i]))
    return queries.map(q => textOf(field in q.obj ? q.obj : loaded.get(String(q.obj.id)), field))
  }

/** List rows carry no createdById either: fill it in (one batch), then look the users up (one batch). */
async function createdBy(queries: Query[], gctx: GqlCtx) {
  const ids = await fullField('createdById')(queries, gctx)
  const wanted = [...new Set(ids.filter((v): v is string => !!v))]
  const found = await gctx.services.users.usersByIds(gctx.ctx, wanted)
  const map = new Map(wanted.map((v, i) => [v, found[i] ?? null]))
  return ids.map(v => (v ? (map.get(v) ?? null) : null))
}

/** The CIs tickets name: list rows carry none, so the rows without them are read in one batch. */
async function ciIdsOf(queries: Query[], { ctx, services }: GqlCtx): Promise<string[][]> {
  const missing = [...new Set(queries.filter(q => !Array.isArray(q.obj.ciIds)).map(q => String(q.obj.id)))]
  const links = services.tickets.ports.ciLinks
  const loaded = missing.length && links ? await links.idsOf(ctx.db, missing) : new Map<string, string[]>()
  return queries.map(q =>
    Array.isArray(q.obj.ciIds) ? (q.obj.ciIds as string[]) : (loaded.get(String(q.obj.id)) ?? [])
  )
}

/** The CIs themselves, in one lookup per response; CIs the caller may not read are left out. */
async function cisOf(queries: Query[], gctx: GqlCtx) {
  const lists = await ciIdsOf(queries, gctx)
  const wanted = [...new Set(lists.flat())]
  const found = wanted.length ? await gctx.services.cis.byIds(gctx.ctx, wanted) : []
  const map = new Map(wanted.map((id, i) => [id, found[i] ?? null]))
  return lists.map(ids => ids.map(id => map.get(id)).filter(ci => ci != null))
}

/** The compact SLA object: reads carry it; rows without it (write answers, links) are read in one batch. */
async function slaOf(queries: Query[], { ctx, services }: GqlCtx): Promise<unknown[]> {
  const missing = [...new Set(queries.filter(q => !('sla' in q.obj)).map(q => String(q.obj.id)))]
  const reads = services.tickets.ports.slaReads
  const loaded = missing.length && reads ? await reads.summariesOf(ctx.db, missing) : new Map<string, unknown>()
  return queries.map(q => ('sla' in q.obj ? q.obj.sla : loaded.get(String(q.obj.id))) ?? null)
}

/** Batched fields every ticket type has: one query per field per response, never one per ticket. */
export function ticketLoaders(typeName: string): Loaders {
  return {
    [typeName]: {
      description: fullField('description'),
      resolution: fullField('resolution'),
      resolutionCode: fullField('resolutionCode'),
      createdById: fullField('createdById'),
      createdBy,
      requester: usersBy('requesterId'),
      assignee: usersBy('assigneeId'),
      organisation: organisationsBy('organisationId'),
      team: teamsBy('teamId'),
      ciIds: ciIdsOf,
      cis: cisOf,
      sla: slaOf,
      notes: connectionLoader(
        ({ ctx, services }, ids, limit) => services.tickets.firstNotes(ctx, ids, limit),
        ({ ctx, services }, id, page) => services.tickets.notes(ctx, null, id, page),
        (n: { id: string }) => encodeCursor({ sort: 'notes', value: null, id: n.id })
      ),
      history: connectionLoader(
        ({ ctx, services }, ids, limit) => services.tickets.firstHistory(ctx, ids, limit),
        ({ ctx, services }, id, page) => services.tickets.history(ctx, null, id, page),
        (h: { id: number }, parentId) => encodeCursor({ sort: 'history', value: h.id, id: parentId })
      )
    }
  }
}
