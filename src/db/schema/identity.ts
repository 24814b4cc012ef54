import { sql } from 'drizzle-orm'
import {
  bigserial,
  boolean,
  foreignKey,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  uniqueIndex,
  uuid
} from 'drizzle-orm/pg-core'
import { ts } from './columns.js'

export const organisations = pgTable(
  'organisations',
  {
    id: uuid('id').primaryKey(),
    name: text('name').notNull(),
    /** The cost centre carrying it (finance; checked on write, no foreign key: finance sits above). */
    costCentreId: uuid('cost_centre_id'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow()
  },
  t => [uniqueIndex('organisations_name_uq').on(sql`lower(${t.name})`)]
)

export const users = pgTable(
  'users',
  {
    id: uuid('id').primaryKey(),
    username: text('username').notNull(),
    displayName: text('display_name').notNull(),
    email: text('email'),
    phone: text('phone'),
    organisationId: uuid('organisation_id').references(() => organisations.id),
    roles: text('roles').array().notNull().default(sql`'{}'::text[]`),
    passwordHash: text('password_hash'),
    authSource: text('auth_source').notNull().default('local'),
    /** The directory's id for this user (LDAP DN, SSO subject); null for local users. */
    externalId: text('external_id'),
    department: text('department'),
    lastLoginAt: ts('last_login_at'),
    active: boolean('active').notNull().default(true),
    version: integer('version').notNull().default(1),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow()
  },
  t => [
    uniqueIndex('users_username_uq').on(sql`lower(${t.username})`),
    index('users_organisation_idx').on(t.organisationId),
    index('users_external_idx').on(t.externalId)
  ]
)

export const teams = pgTable(
  'teams',
  {
    id: uuid('id').primaryKey(),
    name: text('name').notNull(),
    description: text('description'),
    managerId: uuid('manager_id').references(() => users.id),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow()
  },
  t => [uniqueIndex('teams_name_uq').on(sql`lower(${t.name})`)]
)

/** Escalation layers of a team: level 1 is the first line, 2 the second, and so on. */
export const teamLayers = pgTable(
  'team_layers',
  {
    teamId: uuid('team_id')
      .notNull()
      .references(() => teams.id, { onDelete: 'cascade' }),
    level: integer('level').notNull(),
    name: text('name').notNull()
  },
  t => [primaryKey({ columns: [t.teamId, t.level] })]
)

export const teamMembers = pgTable(
  'team_members',
  {
    teamId: uuid('team_id').notNull(),
    level: integer('level').notNull(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    createdAt: ts('created_at').notNull().defaultNow()
  },
  t => [
    primaryKey({ columns: [t.teamId, t.level, t.userId] }),
    foreignKey({ columns: [t.teamId, t.level], foreignColumns: [teamLayers.teamId, teamLayers.level] }).onDelete(
      'cascade'
    ),
    index('team_members_user_idx').on(t.userId)
  ]
)

export const sessions = pgTable(
  'sessions',
  {
    id: uuid('id').primaryKey(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    tokenHash: text('token_hash').notNull(),
    method: text('method').notNull().default('password'),
    ip: text('ip'),
    createdAt: ts('created_at').notNull().defaultNow(),
    expiresAt: ts('expires_at').notNull(),
    revokedAt: ts('revoked_at')
  },
  t => [uniqueIndex('sessions_token_hash_uq').on(t.tokenHash), index('sessions_user_idx').on(t.userId)]
)

export const apiTokens = pgTable(
  'api_tokens',
  {
    id: uuid('id').primaryKey(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    tokenHash: text('token_hash').notNull(),
    prefix: text('prefix').notNull(),
    scopes: text('scopes').array().notNull(),
    organisationId: uuid('organisation_id').references(() => organisations.id),
    createdBy: uuid('created_by').references(() => users.id),
    createdAt: ts('created_at').notNull().defaultNow(),
    expiresAt: ts('expires_at'),
    revokedAt: ts('revoked_at'),
    lastUsedAt: ts('last_used_at'),
    lastUsedIp: text('last_used_ip')
  },
  t => [uniqueIndex('api_tokens_token_hash_uq').on(t.tokenHash), index('api_tokens_user_idx').on(t.userId)]
)

/**
 * Authentication events: logins, failures, lockouts, SSO rejections, tokens seen from a new address.
 * Lockout is computed from recent failures here, so every API instance agrees without shared memory.
 */
export const authEvents = pgTable(
  'auth_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    at: ts('at').notNull().defaultNow(),
    kind: text('kind').notNull(),
    method: text('method'),
    username: text('username'),
    userId: uuid('user_id'),
    ip: text('ip'),
    detail: jsonb('detail').notNull().default(sql`'{}'::jsonb`)
  },
  t => [
    index('auth_events_at_idx').on(t.at),
    index('auth_events_username_idx').on(sql`lower(${t.username})`, t.at),
    index('auth_events_ip_idx').on(t.ip, t.at),
    index('auth_events_kind_idx').on(t.kind, t.at)
  ]
)

/** Addresses each API token has been used from, so first use from a new one is recorded. */
export const apiTokenAddresses = pgTable(
  'api_token_addresses',
  {
    tokenId: uuid('token_id')
      .notNull()
      .references(() => apiTokens.id, { onDelete: 'cascade' }),
    ip: text('ip').notNull(),
    firstSeenAt: ts('first_seen_at').notNull().defaultNow()
  },
  t => [primaryKey({ columns: [t.tokenId, t.ip] })]
)

/**
 * Fixed-window counters shared by every API instance: per-address login attempts, per-user lockout,
 * per-token request limits. One row per key, bumped by a single upsert (the row lock is the arbiter).
 */
export const rateCounters = pgTable(
  'rate_counters',
  {
    key: text('key').primaryKey(),
    windowStart: ts('window_start').notNull().defaultNow(),
    hits: integer('hits').notNull().default(0)
  },
  t => [index('rate_counters_window_idx').on(t.windowStart)]
)
