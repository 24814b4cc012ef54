import { readFileSync } from 'node:fs'
import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit'
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases'
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { GraphQLError, GraphQLScalarType, Kind, NoSchemaIntrospectionCustomRule, type ValidationRule } from 'graphql'
import mercurius, { type IResolvers, type MercuriusLoaders } from 'mercurius'
import { AppError, badRequest } from '../lib/errors.js'
import { identityLoaders, identityResolvers } from '../modules/identity/identity.resolvers.js'
import { incidentLoaders, incidentResolvers } from '../modules/incidents/incidents.resolvers.js'
import { problemFromError } from './errors.js'

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

function merge<T extends Record<string, Record<string, unknown>>>(...parts: T[]): T {
  const out: Record<string, Record<string, unknown>> = {}
  for (const part of parts) for (const [type, fields] of Object.entries(part)) out[type] = { ...out[type], ...fields }
  return out as T
}

/** Every resolver and loader, by type and field: the contract test checks them against schema.graphql. */
export function graphqlResolvers() {
  const resolvers = merge(incidentResolvers() as never, identityResolvers() as never) as IResolvers
  const loaders = merge(incidentLoaders() as never, identityLoaders() as never) as MercuriusLoaders
  return { resolvers: { ...resolvers, DateTime, JSON: JSONScalar } as IResolvers, loaders }
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

function extra(p: Record<string, unknown>) {
  const { type: _t, title: _ti, status: _s, detail: _d, code: _c, errors: _e, instance: _i, ...rest } = p
  return rest
}

/**
 * GraphQL at /graphql from schema.graphql. Limits run before any resolver: depth (named fragments
 * counted), aliases, directives, tokens, cost, batch length; introspection can be switched off.
 */
export default fp(
  async function graphqlPlugin(app: FastifyInstance) {
    const config = app.config
    const { resolvers, loaders } = graphqlResolvers()
    const rules: ValidationRule[] = [
      maxAliasesRule({ n: config.GRAPHQL_MAX_ALIASES }) as unknown as ValidationRule,
      maxDirectivesRule({ n: config.GRAPHQL_MAX_DIRECTIVES }) as unknown as ValidationRule,
      costLimitRule({ maxCost: config.GRAPHQL_MAX_COST }) as unknown as ValidationRule
    ]
    if (!config.GRAPHQL_INTROSPECTION) rules.push(NoSchemaIntrospectionCustomRule)

    await app.register(mercurius, {
      schema: readFileSync(schemaPath, 'utf8'),
      resolvers,
      loaders,
      path: '/graphql',
      graphiql: config.GRAPHQL_GRAPHIQL,
      jit: 1,
      queryDepth: config.GRAPHQL_MAX_DEPTH,
      allowBatchedQueries: true,
      validationRules: rules,
      graphql: { parseOptions: { maxTokens: config.GRAPHQL_MAX_TOKENS } },
      context: (request: FastifyRequest) => {
        const key = request.headers['idempotency-key']
        return {
          ctx: request.ctx(),
          services: app.services,
          ...(typeof key === 'string' ? { idempotencyKey: key } : {})
        }
      },
      errorFormatter: (execution, context) => {
        const formatted = mercurius.defaultErrorFormatter(execution, context)
        const errors = (execution.errors ?? []).map(err => {
          const original = (err as GraphQLError).originalError
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
        return { statusCode: formatted.statusCode, response: { ...formatted.response, errors } }
      }
    })

    // mercurius has no cap on batched operations: refuse long batches before anything runs
    app.addHook('preHandler', async request => {
      if (request.routeOptions.url !== '/graphql' || !Array.isArray(request.body)) return
      if (request.body.length > config.GRAPHQL_MAX_BATCH) {
        throw badRequest(`at most ${config.GRAPHQL_MAX_BATCH} operations in one batch`, [
          { field: 'body', message: `batch of ${request.body.length} operations exceeds ${config.GRAPHQL_MAX_BATCH}` }
        ])
      }
    })
  },
  { name: 'graphql', dependencies: ['services', 'auth'] }
)
