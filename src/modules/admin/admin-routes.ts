import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { type Static, type TObject, type TSchema, Type } from 'typebox'
import type { Ctx } from '../../lib/context.js'
import type { Page } from '../../lib/cursor.js'
import { expectedVersion, IfMatchHeaders, withEtag, withVersion } from '../../lib/http.js'
import { errorResponses, IdParams, PageOf } from '../../lib/schemas.js'

type Versioned = { id: string; version: number }

/** What a resource's service offers the doors; the operations left out get no route. */
export interface AdminService<Q, C, P, V extends Versioned> {
  list?(ctx: Ctx, query: Q): Promise<Page<V>>
  get(ctx: Ctx, id: string): Promise<V>
  create?(ctx: Ctx, input: C): Promise<V>
  update?(ctx: Ctx, id: string, input: P, expectedVersion: number | undefined): Promise<V>
  remove?(ctx: Ctx, id: string, expectedVersion: number | undefined): Promise<void>
}

export interface AdminRoutesDef<Q extends TSchema, C extends TSchema, P extends TObject, V extends Versioned> {
  /** `/event-routing-rules`: the collection; `/:id` is one of it. */
  path: string
  tags: string[]
  view: TSchema
  listQuery?: Q
  create?: C
  patch?: P
  summary: { list?: string; create?: string; get: string; update?: string; remove?: string }
  description?: { list?: string; create?: string; update?: string }
  service: (app: FastifyInstance) => AdminService<Static<Q>, Static<C>, Static<P>, V>
}

/**
 * The REST door of an admin resource, the same for all of them: list (keyset pages), create (201 with
 * Location and ETag), get (ETag), PATCH (If-Match or body `version`: 428 without, 412 when stale) and
 * DELETE (204). Only the operations the definition names are routed.
 */
export function adminRoutes<Q extends TSchema, C extends TSchema, P extends TObject, V extends Versioned>(
  base: FastifyInstance,
  def: AdminRoutesDef<Q, C, P, V>
) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>()
  const svc = def.service(base)
  const { tags, view, summary } = def
  const one = `${def.path}/:id`

  if (svc.list && def.listQuery && summary.list) {
    const list = svc.list.bind(svc)
    app.get(
      def.path,
      {
        schema: {
          tags,
          summary: summary.list,
          ...(def.description?.list ? { description: def.description.list } : {}),
          querystring: def.listQuery,
          response: { 200: PageOf(view), ...errorResponses(403) }
        }
      },
      async request => list(request.ctx(), request.query as Static<Q>)
    )
  }

  if (svc.create && def.create && summary.create) {
    const create = svc.create.bind(svc)
    app.post(
      def.path,
      {
        schema: {
          tags,
          summary: summary.create,
          ...(def.description?.create ? { description: def.description.create } : {}),
          body: def.create,
          response: { 201: view, ...errorResponses(403, 409, 422) }
        }
      },
      async (request, reply) => {
        const created = await create(request.ctx(), request.body as Static<C>)
        reply.code(201).header('location', `/api/v1${def.path}/${created.id}`)
        return withEtag(reply, created)
      }
    )
  }

  app.get(
    one,
    { schema: { tags, summary: summary.get, params: IdParams, response: { 200: view, ...errorResponses(403, 404) } } },
    async (request, reply) => withEtag(reply, await svc.get(request.ctx(), request.params.id))
  )

  if (svc.update && def.patch && summary.update) {
    const update = svc.update.bind(svc)
    app.patch(
      one,
      {
        schema: {
          tags,
          summary: summary.update,
          description: [
            def.description?.update,
            'Send the version you read (If-Match or body `version`): none is 428, a stale one 412.'
          ]
            .filter(Boolean)
            .join(' '),
          params: IdParams,
          headers: IfMatchHeaders,
          body: withVersion(def.patch),
          response: { 200: view, ...errorResponses(403, 404, 409, 412, 422, 428) }
        }
      },
      async (request, reply) => {
        const { version, ...input } = request.body as Static<P> & { version?: number }
        const expected = expectedVersion(request.headers['if-match'], version)
        return withEtag(reply, await update(request.ctx(), request.params.id, input as Static<P>, expected))
      }
    )
  }

  if (svc.remove && summary.remove) {
    const remove = svc.remove.bind(svc)
    app.delete(
      one,
      {
        schema: {
          tags,
          summary: summary.remove,
          params: IdParams,
          headers: IfMatchHeaders,
          response: { 204: Type.Null(), ...errorResponses(403, 404, 412) }
        }
      },
      async (request, reply) => {
        await remove(request.ctx(), request.params.id, expectedVersion(request.headers['if-match'], undefined))
        return reply.code(204).send(null)
      }
    )
  }
}

/** What keyed settings offer the doors (a singleton ignores the key). */
export interface SettingsService<K, I, V extends { version: number }> {
  list?(ctx: Ctx): Promise<Page<V>>
  get(ctx: Ctx, key: K): Promise<V>
  set(ctx: Ctx, key: K, input: I, expectedVersion: number | undefined): Promise<V>
}

export interface AdminSettingsRoutesDef<B extends TObject, K, V extends { version: number }> {
  /** `/event-settings` (a singleton) or `/change-approval-policies` (one per key, `/:key` below it). */
  path: string
  /** Keyed settings: the route parameter and its schema; a singleton has none. */
  key?: { name: string; params: TObject }
  /** A path part after the key (`/users/:id/notification-preferences`); keyed settings only. */
  suffix?: string
  tags: string[]
  view: TSchema
  body: B
  summary: { list?: string; get: string; set: string }
  description?: { set?: string }
  service: (app: FastifyInstance) => SettingsService<K, Static<B>, V>
}

/**
 * The REST door of keyed admin settings (adminSettings), the same for all of them: the list of every
 * key (when keyed), GET one with its ETag, and PUT with the version read (If-Match or body `version`:
 * 428 without, 412 when stale), as every admin resource.
 */
export function adminSettingsRoutes<B extends TObject, K, V extends { version: number }>(
  base: FastifyInstance,
  def: AdminSettingsRoutesDef<B, K, V>
) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>()
  const svc = def.service(base)
  const { tags, view, summary, key } = def
  const one = key ? `${def.path}/:${key.name}${def.suffix ?? ''}` : def.path
  const keyOf = (params: unknown) => (key ? (params as Record<string, K>)[key.name] : undefined) as K
  const params = key ? { params: key.params } : {}

  if (key && svc.list && summary.list) {
    const list = svc.list.bind(svc)
    app.get(
      def.path,
      { schema: { tags, summary: summary.list, response: { 200: PageOf(view), ...errorResponses(403) } } },
      async request => list(request.ctx())
    )
  }

  app.get(
    one,
    { schema: { tags, summary: summary.get, ...params, response: { 200: view, ...errorResponses(403) } } },
    async (request, reply) => withEtag(reply, await svc.get(request.ctx(), keyOf(request.params)))
  )

  app.put(
    one,
    {
      schema: {
        tags,
        summary: summary.set,
        description: [
          def.description?.set,
          'Send the version you read (If-Match or body `version`): none is 428, a stale one 412.'
        ]
          .filter(Boolean)
          .join(' '),
        ...params,
        headers: IfMatchHeaders,
        body: withVersion(def.body),
        response: { 200: view, ...errorResponses(403, 412, 422, 428) }
      }
    },
    async (request, reply) => {
      const { version, ...input } = request.body as Static<B> & { version?: number }
      const expected = expectedVersion(request.headers['if-match'], version)
      return withEtag(reply, await svc.set(request.ctx(), keyOf(request.params), input as Static<B>, expected))
    }
  )
}
