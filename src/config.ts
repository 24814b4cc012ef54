import { existsSync } from 'node:fs'
import { isIP } from 'node:net'
import envSchema from 'env-schema'
import { type Static, Type } from 'typebox'

/** Every process setting, validated once at start. The only reader of process.env. */
const ConfigSchema = Type.Object({
  NODE_ENV: Type.Optional(
    Type.String({
      description:
        'production: introspection and GraphiQL off unless enabled, trusted proxies must be explicit, no stacks'
    })
  ),
  PORT: Type.Integer({ default: 3000, minimum: 0, maximum: 65535 }),
  HOST: Type.String({ default: '127.0.0.1', minLength: 1 }),
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
  DATABASE_READ_URL: Type.Optional(
    Type.String({
      pattern: '^postgres(ql)?://',
      description:
        'a PostgreSQL read replica the reports read from (read-only sessions); with DATABASE_URL only, else the primary answers'
    })
  ),
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
  INGEST_RATE_LIMIT_PER_MINUTE: Type.Integer({
    default: 6000,
    minimum: 0,
    description: 'event posts per token (or user) per minute, shared by all instances; 0 turns it off'
  }),
  GRAPHQL_RATE_LIMIT_PER_MINUTE: Type.Integer({
    default: 1200,
    minimum: 0,
    description: 'GraphQL requests per token (or user) per minute, shared by all instances; 0 turns it off'
  }),
  BODY_LIMIT_BYTES: Type.Integer({ default: 1048576, minimum: 1024 }),
  EVENT_BODY_LIMIT_BYTES: Type.Integer({
    default: 8388608,
    minimum: 1024,
    description: 'event ingest bodies (a batch of 1,000 events)'
  }),
  CMDB_IMPORT_BODY_LIMIT_BYTES: Type.Integer({
    default: 33554432,
    minimum: 1024,
    description: 'discovery import bodies (up to 10,000 CIs)'
  }),
  INVENTORY_BODY_LIMIT_BYTES: Type.Integer({
    default: 16777216,
    minimum: 1024,
    description: 'inventory agent bodies, after decompression (bigger ones are refused with 413 while inflating)'
  }),
  GRAPHQL_BODY_LIMIT_BYTES: Type.Integer({ default: 131072, minimum: 1024 }),
  JSON_MAX_DEPTH: Type.Integer({ default: 64, minimum: 8, maximum: 512, description: 'nesting bound of JSON bodies' }),
  CORS_ORIGINS: Type.Optional(
    Type.String({ description: 'comma list of origins allowed to call from a browser; unset: same-origin only' })
  ),
  REPORTING_CURRENCY: Type.String({
    default: 'EUR',
    pattern: '^[A-Z]{3}$',
    description: 'ISO 4217 code every finance report converts into (exchange rates are per currency into it)'
  }),
  DB_QUEUE_MAX: Type.Integer({
    default: 50,
    minimum: 0,
    description: 'requests waiting for a pool connection past which new ones are shed with 503; 0 turns it off'
  }),
  DB_CONNECT_TIMEOUT_MS: Type.Integer({ default: 3000, minimum: 100, description: 'longest wait for a connection' }),
  REQUEST_TIMEOUT_MS: Type.Integer({ default: 30000, minimum: 0 }),
  MAX_EVENT_LOOP_DELAY_MS: Type.Integer({ default: 1000, minimum: 0, description: '0 turns load shedding off' }),
  GRAPHQL_INTROSPECTION: Type.Optional(Type.Boolean({ description: 'default: true, false when NODE_ENV=production' })),
  GRAPHQL_GRAPHIQL: Type.Boolean({ default: false }),
  GRAPHQL_MAX_DEPTH: Type.Integer({ default: 10, minimum: 1 }),
  GRAPHQL_MAX_ALIASES: Type.Integer({ default: 15, minimum: 0 }),
  GRAPHQL_MAX_TOKENS: Type.Integer({ default: 2000, minimum: 10 }),
  GRAPHQL_MAX_BATCH: Type.Integer({ default: 10, minimum: 1 }),
  GRAPHQL_MAX_COST: Type.Integer({ default: 10000, minimum: 1 }),
  GRAPHQL_MAX_DIRECTIVES: Type.Integer({ default: 20, minimum: 0 }),
  RUN_SCHEDULER: Type.Optional(Type.Boolean()),
  SCHEDULER_POLL_MS: Type.Integer({ default: 10000, minimum: 100 }),
  SCHEDULER_CONCURRENCY: Type.Integer({ default: 4, minimum: 1, maximum: 100 }),
  SCHEDULER_LEASE_MS: Type.Integer({ default: 30000, minimum: 100 }),
  SCHEDULER_METRICS_PORT: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: 65535,
      description: 'the scheduler process serves /metrics on this port (HOST), behind METRICS_TOKEN when set'
    })
  ),
  PUBLIC_DOCS: Type.Boolean({ default: true }),
  METRICS_TOKEN: Type.Optional(
    Type.String({ minLength: 16, description: 'bearer token Prometheus sends to GET /metrics on the API port' })
  ),
  METRICS_PORT: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: 65535,
      description: 'serve /metrics without a token on a listener of its own on this port (HOST)'
    })
  ),

  // Lockout after repeated failed logins, per user and per client address
  LOCKOUT_USER_FAILURES: Type.Integer({ default: 10, minimum: 1 }),
  LOCKOUT_IP_FAILURES: Type.Integer({ default: 50, minimum: 1 }),
  LOCKOUT_WINDOW_MINUTES: Type.Integer({ default: 15, minimum: 1, maximum: 1440 }),

  // Directory users (LDAP and header SSO): how groups become roles and team places
  DIRECTORY_ROLE_MAP: Type.Optional(
    Type.String({ description: 'JSON: { "<group DN or name>": ["technician", ...] }' })
  ),
  DIRECTORY_TEAM_MAP: Type.Optional(
    Type.String({ description: 'JSON: { "<group DN or name>": { "team": "<team name>", "level": 1 } }' })
  ),
  DIRECTORY_DEFAULT_ROLES: Type.String({ default: 'customer', description: 'comma list for users no group maps' }),
  DIRECTORY_ORGANISATION_FROM_DEPARTMENT: Type.Boolean({ default: false }),

  // LDAP / Active Directory
  LDAP_URL: Type.Optional(Type.String({ pattern: '^ldaps?://' })),
  LDAP_BIND_DN: Type.Optional(Type.String({ minLength: 1 })),
  LDAP_BIND_PASSWORD: Type.Optional(Type.String({ minLength: 1 })),
  LDAP_BASE_DN: Type.Optional(Type.String({ minLength: 1 })),
  LDAP_USER_FILTER: Type.String({
    default: '(&(objectClass=inetOrgPerson)(uid={username}))',
    description: '{username} is replaced by the RFC 4515-escaped login name'
  }),
  LDAP_USERNAME_ATTRIBUTE: Type.String({ default: 'uid' }),
  LDAP_NAME_ATTRIBUTE: Type.String({ default: 'displayName' }),
  LDAP_MAIL_ATTRIBUTE: Type.String({ default: 'mail' }),
  LDAP_PHONE_ATTRIBUTE: Type.String({ default: 'mobile' }),
  LDAP_DEPARTMENT_ATTRIBUTE: Type.String({ default: 'departmentNumber' }),
  LDAP_GROUP_SEARCH_FILTER: Type.Optional(
    Type.String({ description: 'when set, groups are searched with {dn} instead of read from memberOf' })
  ),
  LDAP_GROUP_BASE_DN: Type.Optional(Type.String()),
  LDAP_NESTED_GROUPS: Type.Boolean({ default: false, description: 'AD: follow nested groups (in-chain rule)' }),
  LDAP_ACTIVE_DIRECTORY: Type.Boolean({
    default: false,
    description: 'refuse accounts disabled in userAccountControl'
  }),
  LDAP_NETBIOS_DOMAINS: Type.Optional(
    Type.String({ description: 'AD: comma list of NetBIOS domains a DOMAIN\\user login may name' })
  ),
  LDAP_STARTTLS: Type.Boolean({ default: false }),
  LDAP_CA_FILE: Type.Optional(Type.String()),
  LDAP_TIMEOUT_MS: Type.Integer({ default: 5000, minimum: 100 }),
  LDAP_SYNC_FILTER: Type.Optional(Type.String({ description: 'which entries directory sync pages through' })),

  // Request-header SSO behind a trusted reverse proxy
  SSO_USER_HEADER: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]+$' })),
  SSO_TRUSTED_PROXIES: Type.Optional(Type.String({ description: 'comma list of IPs or CIDRs' })),
  SSO_SESSION_HEADER: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]+$' })),
  SSO_NAME_HEADER: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]+$' })),
  SSO_MAIL_HEADER: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]+$' })),
  SSO_GROUPS_HEADER: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]+$' })),
  SSO_GROUPS_SEPARATOR: Type.String({ default: ';', minLength: 1, maxLength: 3 }),
  SSO_STRIP_DOMAIN: Type.Boolean({ default: true, description: 'CORP\\jdoe and jdoe@corp.example.com log in as jdoe' }),
  SSO_PROVISION: Type.Boolean({ default: false, description: 'create unknown users from the headers' }),
  SSO_ALLOW_LOCAL_ACCOUNTS: Type.Boolean({
    default: false,
    description: 'let header SSO sign in accounts with a local password (the bootstrap admin)'
  }),

  // Notifications: the outbox dispatcher, mail over SMTP, the SMS gateways
  SMTP_URL: Type.Optional(
    Type.String({ pattern: '^smtps?://', description: 'smtp://user:password@host:587 or smtps://…:465' })
  ),
  SMTP_STARTTLS: Type.Boolean({ default: false, description: 'require STARTTLS on smtp://' }),
  SMTP_CA_FILE: Type.Optional(Type.String({ description: 'PEM CA bundle the SMTP server is verified against' })),
  SMTP_POOL_SIZE: Type.Integer({ default: 5, minimum: 1, maximum: 100, description: 'pooled SMTP connections' }),
  MAIL_FROM: Type.Optional(Type.String({ description: 'sender of notifications: "Service Desk <desk@example.com>"' })),
  NOTIFY_POLL_MS: Type.Integer({ default: 1000, minimum: 10, description: 'how often an idle dispatcher looks' }),
  NOTIFY_BATCH: Type.Integer({ default: 100, minimum: 1, maximum: 5000, description: 'outbox rows per claim' }),
  NOTIFY_LEASE_MS: Type.Integer({ default: 60000, minimum: 100, description: 'lease of a claimed batch' }),
  NOTIFY_MAX_ATTEMPTS: Type.Integer({ default: 8, minimum: 1, maximum: 100 }),
  NOTIFY_BACKOFF_BASE_MS: Type.Integer({ default: 30000, minimum: 1 }),
  NOTIFY_BACKOFF_MAX_MS: Type.Integer({ default: 3600000, minimum: 1 }),
  SMS_GATEWAY_ADDRESS: Type.Optional(
    Type.String({ pattern: '^[^@\\s]*\\{number\\}[^@\\s]*@[^@\\s]+$', description: '{number}@sms.example.net' })
  ),
  SMS_GATEWAY_SUBJECT: Type.String({ default: '', description: 'subject of gateway mails (account, token)' }),
  SMS_MAX_LENGTH: Type.Integer({ default: 160, minimum: 20, maximum: 1600 }),
  SMS_DEFAULT_REGION: Type.String({
    default: 'DE',
    pattern: '^[A-Z]{2}$',
    description: 'country of phone numbers stored without +'
  }),
  SMS_HTTP_URL: Type.Optional(Type.String({ pattern: '^https?://', description: 'HTTP JSON SMS gateway' })),
  SMS_HTTP_TOKEN: Type.Optional(Type.String()),
  WEBHOOK_TIMEOUT_MS: Type.Integer({ default: 10000, minimum: 100, description: 'one webhook delivery' }),
  WEBHOOK_ALLOW_LOOPBACK: Type.Boolean({
    default: false,
    description: 'tests only: let webhooks reach 127.0.0.0/8 and ::1 (private and link-local stay refused)'
  })
})

type Settings = Static<typeof ConfigSchema>

/** The settings, with what production mode decides filled in. */
export type Config = Omit<Settings, 'GRAPHQL_INTROSPECTION'> & {
  GRAPHQL_INTROSPECTION: boolean
  /** NODE_ENV=production: safer defaults and stricter checks (read here only). */
  PRODUCTION: boolean
}

export class ConfigError extends Error {}

/** Reads and validates the environment; throws a ConfigError whose message names the variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const data: Record<string, string> = {}
  for (const key of Object.keys(ConfigSchema.properties)) {
    const value = env[key]
    if (value !== undefined && value !== '') data[key] = value
  }
  let settings: Settings
  try {
    settings = envSchema<Settings>({ schema: ConfigSchema, data, dotenv: false, env: false })
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err)
    // env-schema says "env/PORT must be integer"; make it one plain line naming the variable
    throw new ConfigError(`invalid configuration: ${message.replace(/env\//g, '').replace(/\s+/g, ' ')}`)
  }
  const production = settings.NODE_ENV === 'production'
  const config: Config = {
    ...settings,
    // production answers no introspection unless asked for (GraphiQL already defaults off)
    GRAPHQL_INTROSPECTION: settings.GRAPHQL_INTROSPECTION ?? !production,
    PRODUCTION: production
  }
  checkTogether(config)
  return config
}

/**
 * A list of proxies whose word we take: IPs or CIDRs, each parsed here so a typo stops the start.
 * In production every entry must be explicit: no prefix of 0 bits (0.0.0.0/0, ::/0 trust everyone).
 */
function checkProxies(raw: string, production: boolean): string | null {
  const entries = raw
    .split(',')
    .map(s => s.trim())
    .filter(Boolean)
  if (entries.length === 0) return 'must list at least one IP address or CIDR'
  for (const entry of entries) {
    const [address, bits, more] = entry.split('/')
    const family = isIP(address ?? '')
    const max = family === 4 ? 32 : 128
    if (!family || more !== undefined || (bits !== undefined && !/^\d{1,3}$/.test(bits)) || Number(bits ?? max) > max) {
      return `"${entry}" is not an IP address or CIDR`
    }
    if (production && Number(bits ?? max) === 0) {
      return `"${entry}" trusts every address: name the proxies explicitly in production (NODE_ENV=production)`
    }
  }
  return null
}

/** Settings that only make sense together, and JSON values, checked once at start. */
function checkTogether(c: Config): void {
  const fail = (name: string, why: string) => {
    throw new ConfigError(`invalid configuration: ${name} ${why}`)
  }
  for (const name of ['DIRECTORY_ROLE_MAP', 'DIRECTORY_TEAM_MAP'] as const) {
    const raw = c[name]
    if (raw === undefined) continue
    let parsed: unknown
    try {
      parsed = JSON.parse(raw)
    } catch {
      fail(name, 'must be JSON')
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) fail(name, 'must be a JSON object')
  }
  for (const origin of corsOrigins(c)) {
    if (origin !== '*' && !/^https?:\/\/[^/\s]+$/.test(origin)) {
      fail('CORS_ORIGINS', `has "${origin}": each origin is scheme://host[:port] with no path, or *`)
    }
  }
  if (c.LDAP_URL) {
    if (!c.LDAP_BASE_DN) fail('LDAP_BASE_DN', 'is required with LDAP_URL')
    if (!c.LDAP_USER_FILTER.includes('{username}')) fail('LDAP_USER_FILTER', 'must contain {username}')
    if (c.LDAP_BIND_DN && !c.LDAP_BIND_PASSWORD) fail('LDAP_BIND_PASSWORD', 'is required with LDAP_BIND_DN')
  }
  if (c.SMTP_URL) {
    if (!c.MAIL_FROM) fail('MAIL_FROM', 'is required with SMTP_URL')
    try {
      new URL(c.SMTP_URL)
    } catch {
      fail('SMTP_URL', 'is not a URL')
    }
  }
  if (c.MAIL_FROM !== undefined && !/^(?:[^<>\r\n]*<)?[^\s<>@,;"]+@[^\s<>@,;"]+>?$/.test(c.MAIL_FROM.trim())) {
    fail('MAIL_FROM', 'must be one address: desk@example.com or "Service Desk <desk@example.com>"')
  }
  if (c.SMTP_CA_FILE !== undefined && !existsSync(c.SMTP_CA_FILE)) fail('SMTP_CA_FILE', 'names no readable file')
  if (c.SMS_GATEWAY_ADDRESS && !c.SMTP_URL) fail('SMTP_URL', 'is required with SMS_GATEWAY_ADDRESS')
  if (c.SSO_USER_HEADER && !c.SSO_TRUSTED_PROXIES) {
    fail('SSO_TRUSTED_PROXIES', 'is required with SSO_USER_HEADER: identity headers are believed only from the proxy')
  }
  if (c.SCHEDULER_METRICS_PORT !== undefined && c.SCHEDULER_METRICS_PORT === c.METRICS_PORT) {
    fail(
      'SCHEDULER_METRICS_PORT',
      `must differ from METRICS_PORT (${c.METRICS_PORT}): the API's metrics listener takes that port on HOST`
    )
  }
  if (c.SSO_TRUSTED_PROXIES !== undefined) {
    const why = checkProxies(c.SSO_TRUSTED_PROXIES, c.PRODUCTION)
    if (why) fail('SSO_TRUSTED_PROXIES', why)
  }
}

/** The browser origins CORS_ORIGINS allows (empty: same-origin only). */
export function corsOrigins(c: Pick<Config, 'CORS_ORIGINS'>): string[] {
  return (c.CORS_ORIGINS ?? '')
    .split(',')
    .map(o => o.trim().replace(/\/$/, ''))
    .filter(o => o !== '')
}

/** For entry points: the validated config, or one line on stderr naming the variable and exit 1. */
export function loadConfigOrExit(): Config {
  try {
    return loadConfig()
  } catch (err) {
    process.stderr.write(`${err instanceof ConfigError ? err.message : String(err)}\n`)
    process.exit(1)
  }
}
