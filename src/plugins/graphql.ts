import { readFileSync } from 'node:fs'
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases'
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import {
  type DocumentNode,
  type GraphQLEnumType,
  GraphQLError,
  type GraphQLFormattedError,
  GraphQLScalarType,
  getOperationAST,
  Kind,
  NoSchemaIntrospectionCustomRule,
  parse,
  type ValidationRule
} from 'graphql'
import mercurius, { type IResolvers, type MercuriusContext } from 'mercurius'
import type { Loaders, Resolvers } from '../graphql/types.js'
import type { Ctx } from '../lib/context.js'
import { AppError, badRequest } from '../lib/errors.js'
import type { GqlCtx } from '../lib/graphql.js'
import { costCache, GraphqlRefused, maxDepthRule, operationCost, operationCount } from '../lib/graphql-limits.js'
import { modules } from '../modules/index.js'
import type { ModuleManifest } from '../modules/manifest.js'
import { problemFromError, sendProblem } from './errors.js'

export const schemaPath = new URL('../../schema.graphql', import.meta.url)

const DateTime = new GraphQLScalarType({
  name: 'DateTime',
  description: 'UTC ISO-8601 date-time',
  serialize: v => (v instanceof Date ? v.toISOString() : new Date(String(v)).toISOString()),
  parseValue: v => {
    if (typeof v !== 'string' || Number.isNaN(Date.parse(v)))
      throw new GraphQLError('DateTime must be an ISO-8601 string')
    return v
  },
  parseLiteral: ast => {
    if (ast.kind !== Kind.STRING || Number.isNaN(Date.parse(ast.value))) {
      throw new GraphQLError('DateTime must be an ISO-8601 string')
    }
    return ast.value
  }
})

const JSONScalar = new GraphQLScalarType({
  name: 'JSON',
  description: 'Any JSON value (history old/new values)',
  serialize: v => v
})

declare module 'mercurius' {
  /** What the context function below gives every resolver and loader, beside mercurius's own. */
  interface MercuriusContext extends GqlCtx {}
}

/**
 * Merges resolver (or loader) maps type by type. A field two modules both define is a mistake that
 * would otherwise be settled silently by list order: it fails at start, naming both.
 */
function merge<T extends object>(parts: readonly { owner: string; map: T }[]): T {
  const out: Record<string, Record<string, unknown>> = {}
  const owners = new Map<string, string>()
  for (const { owner, map } of parts) {
    for (const [type, fields] of Object.entries(map)) {
      const target = out[type] ?? {}
      out[type] = target
      for (const [field, value] of Object.entries(fields as Record<string, unknown>)) {
        const other = owners.get(`${type}.${field}`)
        if (other) throw new Error(`GraphQL ${type}.${field} is defined by both ${other} and ${owner}`)
        owners.set(`${type}.${field}`, owner)
        target[field] = value
      }
    }
  }
  // The same maps, field for field: only their grouping changed
  return out as T
}

const partsOf = <T extends object>(pick: (m: ModuleManifest) => readonly (() => T)[] | undefined) =>
  modules.flatMap(m => (pick(m) ?? []).map(build => ({ owner: `module ${m.name}`, map: build() })))

/** Every resolver and loader, by type and field: the contract test checks them against schema.graphql. */
export function graphqlResolvers(): { resolvers: Resolvers; loaders: Loaders } {
  const resolvers = merge(partsOf(m => m.graphql?.resolvers))
  const loaders = merge(partsOf(m => m.graphql?.loaders))
  return { resolvers: { ...resolvers, DateTime, JSON: JSONScalar }, loaders }
}

/** schema.graphql: the modules' parts as assembled and committed (`npm run schema`, src/graphql/assemble.ts). */
export function graphqlSchema(): string {
  return readFileSync(schemaPath, 'utf8')
}

/**
 * Enum maps among the resolvers (Scope: tickets_read is tickets:read inside). mercurius copies an
 * enum's "resolver" onto the type object, which maps nothing, so they are split off here and applied
 * to the built schema's enum values, before any query runs.
 */
function splitEnumMaps(sdl: string, all: Resolvers) {
  const enumNames = new Set(
    parse(sdl)
      .definitions.filter(d => d.kind === Kind.ENUM_TYPE_DEFINITION)
      .map(d => d.name.value)
  )
  const resolvers: IResolvers = {}
  const enums: Record<string, object> = {}
  for (const [name, resolver] of Object.entries(all)) {
    if (enumNames.has(name)) enums[name] = resolver
    // mercurius's IResolvers cannot tell an enum map from a type's fields: the generated Resolvers
    // type has checked each entry against the schema already
    else Object.assign(resolvers, { [name]: resolver })
  }
  return { resolvers, enums }
}

/** Map a thrown error to GraphQL extensions: the same codes and statuses as REST problem bodies. */
function extensionsOf(original: unknown) {
  if (original instanceof AppError || (original as { validation?: unknown })?.validation) {
    const p = problemFromError(original as Error)
    return {
      message: p.detail,
      extensions: { code: p.code, status: p.status, ...(p.errors ? { errors: p.errors } : {}), ...extra(p) }
    }
  }
  const p = problemFromError(original as Error)
  if (p.status < 500 || p.status === 503) {
    return { message: p.detail, extensions: { code: p.code, status: p.status } }
  }
  return { message: 'internal error', extensions: { code: 'INTERNAL', status: 500 } }
}

/**
 * mercurius wraps parse, validation and depth errors (and a mutation sent over GET) in one error that
 * holds the list: answer each with its own message, or the client never learns what was wrong.
 */
function unwrapRequestErrors(original: unknown): GraphQLFormattedError[] | null {
  const e = original as { code?: unknown; statusCode?: unknown; errors?: unknown } | undefined
  if (!e || typeof e.code !== 'string' || !Array.isArray(e.errors)) return null
  if (!(original instanceof GraphqlRefused) && !e.code.startsWith('MER_ERR_')) return null
  const code = e.code === 'MER_ERR_GQL_VALIDATION' ? 'GRAPHQL_VALIDATION_FAILED' : e.code.replace(/^MER_ERR_/, '')
  const status = typeof e.statusCode === 'number' ? e.statusCode : 400
  return (e.errors as Partial<GraphQLError>[]).map(inner => ({
    message: String(inner.message),
    locations: inner.locations,
    extensions: { code, status }
  }))
}

function extra(p: Record<string, unknown>) {
  const { type: _t, title: _ti, status: _s, detail: _d, code: _c, errors: _e, instance: _i, ...rest } = p
  return rest
}

/** The operationName of the operation being run (each of a batch has its own). */
function operationNameOf(context: MercuriusContext): string | undefined {
  const request = context.reply.request
  const source: unknown = request.method === 'GET' ? request.query : request.body
  const body = Array.isArray(source) ? source[context.operationId ?? 0] : source
  const name = (body as { operationName?: unknown } | undefined)?.operationName
  return typeof name === 'string' ? name : undefined
}

/**
 * GraphQL over HTTP: GET runs queries only. The operation is chosen by operationName before anything
 * runs: a mutation is 405 (Allow: POST), no such operation (or several and no name) is 400.
 */
function refuseOverGet(request: FastifyRequest, reply: FastifyReply, maxTokens: number) {
  const { query, operationName } = (request.query ?? {}) as { query?: unknown; operationName?: unknown }
  if (typeof query !== 'string') return
  let document: DocumentNode
  try {
    document = parse(query, { maxTokens })
  } catch {
    return // mercurius answers the syntax error
  }
  const name = typeof operationName === 'string' && operationName !== '' ? operationName : undefined
  const operation = getOperationAST(document, name)
  const answer = (status: number, code: string, message: string) =>
    reply.code(status).send({ errors: [{ message, extensions: { code, status } }] })
  if (!operation) {
    const message = name
      ? `the document holds no operation named "${name}"`
      : 'the document holds several operations: send operationName to choose one'
    return answer(400, 'GRAPHQL_VALIDATION_FAILED', message)
  }
  if (operation.operation !== 'query') {
    reply.header('allow', 'POST')
    return answer(405, 'METHOD_NOT_ALLOWED', `a ${operation.operation} cannot be sent with GET: use POST`)
  }
}

/**
 * GraphQL at /graphql from schema.graphql. Limits run before any resolver: depth (named fragments
 * counted), aliases, directives, tokens, cost, batch length; introspection can be switched off.
 */
export default fp(
  async function graphqlPlugin(app: FastifyInstance) {
    const config = app.config
    const sdl = graphqlSchema()
    const { resolvers: all, loaders } = graphqlResolvers()
    const { resolvers, enums } = splitEnumMaps(sdl, all)
    const rules: ValidationRule[] = [
      // every alias counts, __typename included (the package exempts it by default)
      maxAliasesRule({ n: config.GRAPHQL_MAX_ALIASES, allowList: [] }) as unknown as ValidationRule,
      maxDirectivesRule({ n: config.GRAPHQL_MAX_DIRECTIVES }) as unknown as ValidationRule,
      maxDepthRule(config.GRAPHQL_MAX_DEPTH)
    ]
    if (!config.GRAPHQL_INTROSPECTION) rules.push(NoSchemaIntrospectionCustomRule)

    await app.register(mercurius, {
      schema: sdl,
      resolvers,
      loaders,
      path: '/graphql',
      graphiql: config.GRAPHQL_GRAPHIQL,
      jit: 1,
      allowBatchedQueries: true,
      validationRules: rules,
      graphql: { parseOptions: { maxTokens: config.GRAPHQL_MAX_TOKENS } },
      context: (request: FastifyRequest) => {
        const key = request.headers['idempotency-key']
        // Lazy: a request refused before execution (401) is still answered through the formatter
        let ctx: Ctx | undefined
        // No spread: an object literal with a getter and a spread is built the slow way on every request
        return {
          get ctx(): Ctx {
            ctx ??= request.ctx()
            return ctx
          },
          services: app.services,
          idempotencyKey: typeof key === 'string' ? key : undefined
        }
      },
      errorFormatter: (execution, context) => {
        const formatted = mercurius.defaultErrorFormatter(execution, context)
        // mercurius answers 400 for one validation error but 200 for several: keep the wrapper's status
        let statusCode = formatted.statusCode
        const errors = (execution.errors ?? []).flatMap((err): GraphQLFormattedError | GraphQLFormattedError[] => {
          const original = (err as GraphQLError).originalError
          const wrapped = unwrapRequestErrors(original)
          if (wrapped) {
            statusCode = (wrapped[0]?.extensions?.status as number | undefined) ?? statusCode
            return wrapped
          }
          if (!original || original instanceof GraphQLError) {
            return {
              message: err.message,
              locations: err.locations,
              path: err.path,
              extensions: { code: 'GRAPHQL_VALIDATION_FAILED', ...(err.extensions ?? {}) }
            }
          }
          const { message, extensions } = extensionsOf(original)
          if (extensions.status >= 500) context.reply.log.error({ err: original }, 'graphql resolver failed')
          return { message, locations: err.locations, path: err.path, extensions }
        })
        // Refused before anything ran (limits, validation): 400, whichever rule refused it
        const refused = execution.data == null && errors.every(e => e.extensions?.code === 'GRAPHQL_VALIDATION_FAILED')
        if (refused && errors.length > 0) {
          statusCode = 400
          for (const e of errors) (e.extensions as Record<string, unknown>).status ??= 400
        } else if (execution.data == null && errors.length > 0 && errors.every(e => !e.path)) {
          // Refused before execution by the HTTP layer (401 without a token, 413): its own status
          const status = errors[0]?.extensions?.status
          if (typeof status === 'number') statusCode = status
        }
        if (statusCode === 401) context.reply.header('www-authenticate', 'Bearer')
        return { statusCode, response: { ...formatted.response, errors } }
      }
    })

    // mercurius built the schema from the SDL: give its enum values their internal values
    for (const [name, map] of Object.entries(enums)) {
      const type = app.graphql.schema.getType(name) as GraphQLEnumType
      for (const [key, value] of Object.entries(map)) {
        const enumValue = type.getValue(key)
        if (!enumValue) throw new Error(`enum ${name} has no value ${key}`)
        enumValue.value = value
      }
    }

    const cachedCost = costCache(app.graphql.schema, config.GRAPHQL_MAX_COST)
    app.graphql.addHook('preExecution', async (schema, document, context, variables) => {
      const operationName = operationNameOf(context)
      const cost =
        schema === app.graphql.schema
          ? cachedCost(document, operationName, variables)
          : operationCost(schema, document, operationName, variables)
      if (cost > config.GRAPHQL_MAX_COST) {
        throw new GraphqlRefused([
          new GraphQLError(`operation cost (${cost}) exceeds the cost limit of ${config.GRAPHQL_MAX_COST}`)
        ])
      }
      // mercurius caches one JIT-compiled query per document text whatever operationName says: a
      // document of several operations (or naming one it does not hold) runs uncompiled, by name
      const only = operationCount(document) === 1 ? getOperationAST(document) : null
      if (!only || (operationName !== undefined && only.name?.value !== operationName)) return { document }
      return undefined
    })

    app.addHook('preHandler', async (request, reply) => {
      if (request.routeOptions.url !== '/graphql') return
      // mercurius has no cap on batched operations: refuse long batches before anything runs
      if (Array.isArray(request.body) && request.body.length > config.GRAPHQL_MAX_BATCH) {
        const err = badRequest(`at most ${config.GRAPHQL_MAX_BATCH} operations in one batch`, [
          { field: 'body', message: `batch of ${request.body.length} operations exceeds ${config.GRAPHQL_MAX_BATCH}` }
        ])
        // answered here: thrown, mercurius's error handler would turn it into a GraphQL body with status 200
        return sendProblem(reply, request, problemFromError(err))
      }
      if (request.method === 'GET') return refuseOverGet(request, reply, config.GRAPHQL_MAX_TOKENS)
    })
  },
  { name: 'graphql', dependencies: ['services', 'auth'] }
)
