import { Type } from 'typebox'
import { toConnection } from './connection.js'
import type { Ctx } from './context.js'
import type { Page } from './cursor.js'
import { AppError } from './errors.js'
import type { Services } from './ports.js'
import { type PageInput, PageQuery } from './schemas.js'
import { check } from './validate.js'

/** Helpers every GraphQL door shares: context type, argument clean-up, paging names, batched connections. */
export type GqlCtx = { ctx: Ctx; services: Services; idempotencyKey?: string }
export type Args = Record<string, unknown>

/** GraphQL arguments without the nulls GraphQL sends for omitted optionals (REST simply omits them). */
export const defined = (o: Args) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined))

/** For updates an explicit null clears a nullable field (those named); other nulls mean "not given". */
export const nullsKept = (input: Args, clearable: readonly string[]) =>
  Object.fromEntries(Object.entries(input).filter(([k, v]) => v !== undefined && (v !== null || clearable.includes(k))))

export function pageArgs(args: Args) {
  return defined({ limit: args.first, cursor: args.after })
}

const PAGING_NAMES: Record<string, string> = { limit: 'first', cursor: 'after' }

/**
 * Wraps a connection resolver: the REST schemas and the services call the paging arguments limit and
 * cursor, but a GraphQL client sent first and after, so errors about them name those.
 */
export function paged<P, R>(resolve: (parent: P, args: Args, gctx: GqlCtx) => Promise<R>) {
  return async (parent: P, args: Args, gctx: GqlCtx): Promise<R> => {
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
export const Id = Type.String({ format: 'uuid' })

export function connectionLoader<T>(
  firstPages: (gctx: GqlCtx, ids: string[], limit: number) => Promise<Page<T>[]>,
  onePage: (gctx: GqlCtx, id: string, page: PageInput) => Promise<Page<T>>,
  cursorOf: (item: T, parentId: string) => string
) {
  type Answer = ReturnType<typeof toConnection<T>> | Error
  return async (queries: { obj: { id: string }; params: Args }[], gctx: GqlCtx): Promise<Answer[]> => {
    const out: (Answer | Promise<Answer>)[] = new Array(queries.length)
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
        out[i] = asError(renamePaging(err))
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
    return Promise.all(out.map(o => Promise.resolve(o).catch(err => asError(renamePaging(err)))))
  }
}

/** mercurius fails the one field whose loader answer is an Error. */
const asError = (err: unknown) => (err instanceof Error ? err : new Error(String(err)))

/** A loader's answer for a field that failed: the error, naming first/after as the client did. */
export const pagingError = (err: unknown) => asError(renamePaging(err))
