import envSchema from 'env-schema'
import { type Static, Type } from 'typebox'

/** Every process setting, validated once at start. The only reader of process.env. */
const ConfigSchema = Type.Object({
  PORT: Type.Integer({ default: 3000, minimum: 0, maximum: 65535 }),
  HOST: Type.String({ default: '127.0.0.1', minLength: 1 }),
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
  DATA_DIR: Type.String({ default: './data', minLength: 1 }),
  DB_POOL_SIZE: Type.Integer({ default: 10, minimum: 1, maximum: 200 }),
  MIGRATE_ON_START: Type.Boolean({ default: true }),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map(l => Type.Literal(l)),
    { default: 'info' }
  ),
  ADMIN_USERNAME: Type.String({ default: 'admin', minLength: 1, maxLength: 200 }),
  ADMIN_PASSWORD: Type.Optional(Type.String({ minLength: 12, maxLength: 1024 })),
  SESSION_TTL_MINUTES: Type.Integer({ default: 480, minimum: 1, maximum: 43200 }),
  AUTH_CACHE_TTL_MS: Type.Integer({ default: 5000, minimum: 0, maximum: 60000 }),
  LOGIN_RATE_LIMIT_PER_MINUTE: Type.Integer({ default: 10, minimum: 1 }),
  BODY_LIMIT_BYTES: Type.Integer({ default: 1048576, minimum: 1024 }),
  GRAPHQL_BODY_LIMIT_BYTES: Type.Integer({ default: 131072, minimum: 1024 }),
  REQUEST_TIMEOUT_MS: Type.Integer({ default: 30000, minimum: 0 }),
  MAX_EVENT_LOOP_DELAY_MS: Type.Integer({ default: 1000, minimum: 0, description: '0 turns load shedding off' }),
  GRAPHQL_INTROSPECTION: Type.Boolean({ default: true }),
  GRAPHQL_GRAPHIQL: Type.Boolean({ default: false }),
  GRAPHQL_MAX_DEPTH: Type.Integer({ default: 10, minimum: 1 }),
  GRAPHQL_MAX_ALIASES: Type.Integer({ default: 15, minimum: 0 }),
  GRAPHQL_MAX_TOKENS: Type.Integer({ default: 2000, minimum: 10 }),
  GRAPHQL_MAX_BATCH: Type.Integer({ default: 10, minimum: 1 }),
  GRAPHQL_MAX_COST: Type.Integer({ default: 5000, minimum: 1 }),
  GRAPHQL_MAX_DIRECTIVES: Type.Integer({ default: 20, minimum: 0 }),
  RUN_SCHEDULER: Type.Optional(Type.Boolean()),
  SCHEDULER_POLL_MS: Type.Integer({ default: 10000, minimum: 100 }),
  PUBLIC_DOCS: Type.Boolean({ default: true })
})

export type Config = Static<typeof ConfigSchema>

export class ConfigError extends Error {}

/** Reads and validates the environment; throws a ConfigError whose message names the variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const data: Record<string, string> = {}
  for (const key of Object.keys(ConfigSchema.properties)) {
    const value = env[key]
    if (value !== undefined && value !== '') data[key] = value
  }
  try {
    return envSchema<Config>({ schema: ConfigSchema, data, dotenv: false, env: false })
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err)
    // env-schema says "env/PORT must be integer"; make it one plain line naming the variable
    throw new ConfigError(`invalid configuration: ${message.replace(/env\//g, '').replace(/\s+/g, ' ')}`)
  }
}
