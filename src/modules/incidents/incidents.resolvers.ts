import type { IResolvers, MercuriusLoaders } from 'mercurius'
import { Type } from 'typebox'
import { toConnection } from '../../lib/connection.js'
import type { Ctx } from '../../lib/context.js'
import { encodeCursor, type Page } from '../../lib/cursor.js'
import { AppError } from '../../lib/errors.js'
import { check } from '../../lib/validate.js'
import type { Services } from '../../services.js'
import { cursorOf, type IncidentSummaryView } from './incidents.repository.js'
import {
  AssignmentBody,
  type AssignmentInput,
  CreateIncidentBody,
  type CreateIncidentInput,
  type IncidentListInput,
  IncidentListQuery,
  NoteBody,
  type NoteInput,
  type PageInput,
  PageQuery,
  type Sort,
  TransitionBody,
  type TransitionInput,
  UpdateIncidentBody,
  type UpdateIncidentInput
} from './incidents.schemas.js'
import { allowedTransitions } from './incidents.service.js'

export type GqlCtx = { ctx: Ctx; services: Services; idempotencyKey?: string }
type Args = Record<string, unknown>
const Id = Type.String({ format: 'uuid' })

/** GraphQL arguments without the nulls GraphQL sends for omitted optionals (REST simply omits them). */
export const defined = (o: Args) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined))

export function pageArgs(args: Args) {
  return defined({ limit: args.first, cursor: args.after })
}

const PAGING_NAMES: Record<string, string> = { limit: 'first', cursor: 'after' }

/**
 * Wraps a connection resolver: the REST schemas and the services call the paging arguments limit and
 * cursor, but a GraphQL client sent first and after, so errors about them name those.
 */
export function paged<P>(resolve: (parent: P, args: Args, gctx: GqlCtx) => Promise<unknown>) {
  return async (parent: P, args: Args, gctx: GqlCtx) => {
    try {
      return await resolve(parent, args, gctx)
    } catch (err) {
      throw renamePaging(err)
    }
  }
}

function renamePaging(err: unknown): unknown {
  if (!(err instanceof AppError) || !err.errors?.some(e => e.field in PAGING_NAMES)) return err
  const errors = err.errors.map(e => ({ ...e, field: PAGING_NAMES[e.field] ?? e.field }))
  const detail = errors.map(e => `${e.field}: ${e.message}`).join('; ')
  return new AppError(err.code, err.status, err.title, detail, errors, err.extra)
}

/**
 * A connection field of every incident in a response, batched: first pages (no `after`) of one size
 * come from one query; a page after a cursor is read on its own. A bad argument fails only its field.
 */
function connectionLoader<T>(
  firstPages: (gctx: GqlCtx, ids: string[], limit: number) => Promise<Page<T>[]>,
  onePage: (gctx: GqlCtx, id: string, page: PageInput) => Promise<Page<T>>,
  cursorOf: (item: T, parentId: string) => string
) {
  return async (queries: { obj: { id: string }; params: Args }[], gctx: GqlCtx) => {
    const out: unknown[] = new Array(queries.length)
    const batches = new Map<number, number[]>()
    queries.forEach((q, i) => {
      try {
        const page = check<PageInput>(PageQuery, pageArgs(q.params))
        if (page.cursor) {
          out[i] = onePage(gctx, q.obj.id, page).then(p => toConnection(p, (item: T) => cursorOf(item, q.obj.id)))
        } else {
          const limit = page.limit ?? 50
          batches.set(limit, [...(batches.get(limit) ?? []), i])
        }
      } catch (err) {
        out[i] = renamePaging(err)
      }
    })
    for (const [limit, idx] of batches) {
      const pages = await firstPages(
        gctx,
        idx.map(i => queries[i]!.obj.id),
        limit
      )
      idx.forEach((i, k) => {
        out[i] = toConnection(pages[k]!, (item: T) => cursorOf(item, queries[i]!.obj.id))
      })
    }
    return Promise.all(out.map(o => Promise.resolve(o).catch(err => renamePaging(err))))
  }
}

/** GraphQL door to the incident service: validate with the REST schemas, call the service, shape. */
export function incidentResolvers(): IResolvers {
  return {
    Query: {
      incident: async (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
        services.incidents.get(ctx, check<string>(Id, args.id, 'id')),
      ticket: async (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
        services.incidents.getByNumber(ctx, String(args.number)),
      incidents: paged(async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
        const { first, after, status, priority, ...rest } = args
        const query = check<IncidentListInput>(
          IncidentListQuery,
          defined({
            ...rest,
            ...pageArgs({ first, after }),
            status: Array.isArray(status) && status.length ? status.join(',') : undefined,
            priority: Array.isArray(priority) && priority.length ? priority.join(',') : undefined
          })
        )
        const page = await services.incidents.list(ctx, query)
        const sort = (query.sort ?? '-createdAt') as Sort
        return toConnection(page, (i: IncidentSummaryView) => cursorOf(i, sort))
      })
    },
    Mutation: {
      createIncident: async (_: unknown, args: Args, { ctx, services, idempotencyKey }: GqlCtx) => {
        const input = check<CreateIncidentInput>(CreateIncidentBody, defined(args.input as Args), 'input')
        const key = (args.idempotencyKey as string | null | undefined) ?? idempotencyKey
        return (await services.incidents.create(ctx, input, key ?? undefined)).body
      },
      updateIncident: async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
        const input = check<UpdateIncidentInput>(UpdateIncidentBody, defined(args.input as Args), 'input')
        return services.incidents.update(ctx, check<string>(Id, args.id, 'id'), input, Number(args.version))
      },
      assignIncident: async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
        const raw = args.input as Args
        const input = check<AssignmentInput>(AssignmentBody, { ...defined(raw), teamId: raw.teamId ?? null }, 'input')
        const version = args.version === null || args.version === undefined ? undefined : Number(args.version)
        return services.incidents.assign(ctx, check<string>(Id, args.id, 'id'), input, version)
      },
      transitionIncident: async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
        const input = check<TransitionInput>(TransitionBody, defined(args.input as Args), 'input')
        const version = args.version === null || args.version === undefined ? undefined : Number(args.version)
        return services.incidents.transition(ctx, check<string>(Id, args.id, 'id'), input, version)
      },
      addIncidentNote: async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
        const input = check<NoteInput>(NoteBody, defined(args.input as Args), 'input')
        return services.incidents.addNote(ctx, check<string>(Id, args.id, 'id'), input)
      }
    },
    Incident: {
      allowedTransitions: (parent: { status: string }, _: Args, { ctx }: GqlCtx) =>
        allowedTransitions(ctx.actor, parent)
      // Paging meets the REST rules too (1 to 500): unchecked, first: 0 answered an empty page claiming
      // there was nothing more, and nothing capped a huge first
    }
  } as IResolvers
}

type Parent = Record<string, unknown>
type Query<P = Parent> = { obj: P; params: Args }

/** Full-text fields that list rows leave out are fetched in one batch when a query asks for them. */
const fullField =
  (field: string) =>
  async (queries: Query[], { ctx, services }: GqlCtx) => {
    const missing = [...new Set(queries.filter(q => !(field in q.obj)).map(q => String(q.obj.id)))]
    const loaded = new Map((await services.incidents.byIds(ctx, missing)).map(i => [i.id, i as unknown as Parent]))
    return queries.map(q => (field in q.obj ? q.obj[field] : (loaded.get(String(q.obj.id))?.[field] ?? null)))
  }

/** List rows carry no createdById either: fill it in (one batch), then look the users up (one batch). */
async function createdBy(queries: Query[], gctx: GqlCtx) {
  const ids = (await fullField('createdById')(queries, gctx)) as (string | null)[]
  const wanted = [...new Set(ids.filter((v): v is string => !!v))]
  const found = await gctx.services.users.usersByIds(gctx.ctx, wanted)
  const map = new Map(wanted.map((v, i) => [v, found[i] ?? null]))
  return ids.map(v => (v ? (map.get(v) ?? null) : null))
}

export function incidentLoaders(): MercuriusLoaders {
  return {
    Incident: {
      description: fullField('description'),
      resolution: fullField('resolution'),
      resolutionCode: fullField('resolutionCode'),
      createdById: fullField('createdById'),
      createdBy,
      notes: connectionLoader(
        ({ ctx, services }, ids, limit) => services.incidents.firstNotes(ctx, ids, limit),
        ({ ctx, services }, id, page) => services.incidents.notes(ctx, id, page),
        (n: { id: string }) => encodeCursor({ sort: 'notes', value: null, id: n.id })
      ),
      history: connectionLoader(
        ({ ctx, services }, ids, limit) => services.incidents.firstHistory(ctx, ids, limit),
        ({ ctx, services }, id, page) => services.incidents.history(ctx, id, page),
        (h: { id: number }, parentId) => encodeCursor({ sort: 'history', value: h.id, id: parentId })
      )
    }
  } as unknown as MercuriusLoaders
}
