import type { TSchema } from 'typebox'
import type { Resolvers } from '../../graphql/types.js'
import { toConnection } from '../../lib/connection.js'
import type { Ctx } from '../../lib/context.js'
import type { Page } from '../../lib/cursor.js'
import { type Args, defined, type GqlCtx, Id, nullsKept, pageArgs, paged } from '../../lib/graphql.js'
import { check } from '../../lib/validate.js'

const id = (v: unknown) => check<string>(Id, v, 'id')

/** What the GraphQL door calls; the same functions the REST door calls. */
export interface AdminGqlService<V> {
  list?(ctx: Ctx, query: never): Promise<Page<V>>
  get(ctx: Ctx, id: string): Promise<V>
  create?(ctx: Ctx, input: never): Promise<V>
  update?(ctx: Ctx, id: string, input: never, expectedVersion: number | undefined): Promise<V>
  remove?(ctx: Ctx, id: string, expectedVersion: number | undefined): Promise<void>
}

export interface AdminResolversDef<V> {
  service: (services: GqlCtx['services']) => AdminGqlService<V>
  /** GraphQL field names: `problemRule`, `problemRules`, `createProblemRule`, … */
  names: { get: string; list?: string; create?: string; update?: string; remove?: string }
  listQuery?: TSchema
  create?: TSchema
  patch?: TSchema
  /** Patch fields an explicit null clears; other nulls mean "not given". */
  clearable?: readonly string[]
  cursorOf?: (item: V) => string
  /** Input clean-up after the nulls are dropped (nested objects losing theirs too). */
  shape?: (input: Args) => Args
}

/**
 * The GraphQL door of an admin resource: the REST schemas check the arguments (list filters beside
 * first/after, `input`), `version` is the If-Match of GraphQL, and the same service answers.
 */
export function adminResolvers<V>(def: AdminResolversDef<V>): Resolvers {
  const { names } = def
  // The schema check below is what makes the argument the service's input type
  const checked = (schema: TSchema, value: unknown, field?: string) => check<never>(schema, value, field)
  const shape = def.shape ?? ((input: Args) => input)
  const version = (args: Args) => (typeof args.version === 'number' ? args.version : undefined)
  const Query: Record<string, unknown> = {
    [names.get]: async (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
      def.service(services).get(ctx, id(args.id))
  }
  const Mutation: Record<string, unknown> = {}
  if (names.list && def.listQuery && def.cursorOf) {
    const { listQuery, cursorOf } = def
    Query[names.list] = paged(async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
      const { first, after, ...rest } = args
      const query = checked(listQuery, defined({ ...rest, ...pageArgs({ first, after }) }))
      return toConnection(await def.service(services).list!(ctx, query), cursorOf)
    })
  }
  if (names.create && def.create) {
    const schema = def.create
    Mutation[names.create] = async (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
      def.service(services).create!(ctx, checked(schema, shape(defined(args.input as Args)), 'input'))
  }
  if (names.update && def.patch) {
    const schema = def.patch
    Mutation[names.update] = async (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
      def.service(services).update!(
        ctx,
        id(args.id),
        checked(schema, shape(nullsKept(args.input as Args, def.clearable ?? [])), 'input'),
        version(args)
      )
  }
  if (names.remove) {
    Mutation[names.remove] = async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
      await def.service(services).remove!(ctx, id(args.id), version(args))
      return true
    }
  }
  return { Query, ...(Object.keys(Mutation).length ? { Mutation } : {}) }
}

/** Merges resolver maps (a resource's generated door and its own extra fields). */
export function mergeResolvers(...maps: Record<string, unknown>[]): Resolvers {
  const out: Record<string, Record<string, unknown>> = {}
  for (const m of maps) {
    for (const [type, fields] of Object.entries(m))
      out[type] = { ...(out[type] ?? {}), ...(fields as Record<string, unknown>) }
  }
  return out
}

/** What the GraphQL door of keyed settings calls; the same functions the REST door calls. */
export interface SettingsGqlService<V> {
  list?(ctx: Ctx): Promise<Page<V>>
  get(ctx: Ctx, key: never): Promise<V>
  set(ctx: Ctx, key: never, input: never, expectedVersion: number | undefined): Promise<V>
}

export interface AdminSettingsResolversDef<V> {
  service: (services: GqlCtx['services']) => SettingsGqlService<V>
  /** GraphQL field names: `eventSettings`, `setEventSettings`; `list` answers every key as a plain list. */
  names: { get: string; list?: string; set: string }
  /** Keyed settings: the argument naming the key and its schema; a singleton has none. */
  key?: { arg: string; schema: TSchema }
  body: TSchema
  /** The input as REST would receive it (GraphQL's nulls for omitted optionals dropped); `defined` by default. */
  input?: (raw: Args) => Args
}

/**
 * The GraphQL door of keyed admin settings: the REST body schema checks `input`, `version` is the
 * If-Match of GraphQL (428 without, 412 when stale), and the same service answers.
 */
export function adminSettingsResolvers<V>(def: AdminSettingsResolversDef<V>): Resolvers {
  const { names, key } = def
  const input = def.input ?? defined
  const keyOf = (args: Args) => (key ? check<never>(key.schema, args[key.arg], key.arg) : (undefined as never))
  const version = (args: Args) => (typeof args.version === 'number' ? args.version : undefined)
  const Query: Record<string, unknown> = {
    [names.get]: async (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
      def.service(services).get(ctx, keyOf(args))
  }
  if (names.list) {
    Query[names.list] = async (_: unknown, __: Args, { ctx, services }: GqlCtx) =>
      (await def.service(services).list!(ctx)).items
  }
  const Mutation = {
    [names.set]: async (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
      def
        .service(services)
        .set(ctx, keyOf(args), check<never>(def.body, input(args.input as Args), 'input'), version(args))
  }
  return { Query, Mutation }
}
