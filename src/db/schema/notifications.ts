import { sql } from 'drizzle-orm'
import { boolean, index, integer, jsonb, pgTable, primaryKey, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core'
import { ts } from './columns.js'
import { organisations, users } from './identity.js'
import { tickets } from './tickets.js'

/**
 * The transactional outbox: one row per thing that happened and must be told (`ticket.created`,
 * `ticket.public_reply`, …), written in the transaction (or the statement) of the write itself. Who
 * hears it is resolved when it is dispatched. A dispatcher leases rows with `FOR UPDATE SKIP LOCKED`;
 * a lease that runs out (its dispatcher died) makes the row claimable again. `sent_at` is set when
 * every delivery of the row has an outcome; `dead_at` after `max_attempts` claims with transient failures.
 */
export const notificationOutbox = pgTable(
  'notification_outbox',
  {
    id: uuid('id').primaryKey(),
    event: text('event').notNull(),
    ticketId: uuid('ticket_id').references(() => tickets.id, { onDelete: 'cascade' }),
    /** Who caused it (told only when they ask for their own changes). */
    actorId: uuid('actor_id'),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull().default(sql`'{}'::jsonb`),
    availableAt: ts('available_at').notNull().defaultNow(),
    attempts: integer('attempts').notNull().default(0),
    maxAttempts: integer('max_attempts').notNull().default(8),
    leaseOwner: text('lease_owner'),
    leaseToken: uuid('lease_token'),
    leaseExpiresAt: ts('lease_expires_at'),
    lastError: text('last_error'),
    sentAt: ts('sent_at'),
    deadAt: ts('dead_at'),
    createdAt: ts('created_at').notNull().defaultNow()
  },
  t => [
    // Claims walk pending rows in due order; sent and dead rows stay out of this index
    index('notification_outbox_pending_idx').on(t.availableAt, t.id).where(sql`sent_at IS NULL AND dead_at IS NULL`),
    index('notification_outbox_dead_idx').on(t.deadAt, t.id).where(sql`dead_at IS NOT NULL`),
    index('notification_outbox_ticket_idx').on(t.ticketId)
  ]
)

/**
 * Every attempt to deliver an outbox row to one recipient on one channel: what was sent where, the
 * provider's message id, the error. `sent` and `failed` (permanent) are outcomes: a retried or
 * replayed row skips recipients that have one, so nobody is told twice by a retry.
 */
export const notificationDeliveries = pgTable(
  'notification_deliveries',
  {
    id: uuid('id').primaryKey(),
    outboxId: uuid('outbox_id')
      .notNull()
      .references(() => notificationOutbox.id, { onDelete: 'cascade' }),
    channel: text('channel').notNull(),
    recipient: text('recipient').notNull(),
    userId: uuid('user_id'),
    /** sent, failed (permanent) or retry (transient; the row is tried again). */
    status: text('status').notNull(),
    attempt: integer('attempt').notNull(),
    /** Our Message-ID (stable per outbox row and recipient, so a duplicate carries the same one). */
    messageId: text('message_id'),
    /** What the provider answered (SMTP queue id line, gateway message id). */
    providerMessageId: text('provider_message_id'),
    error: text('error'),
    createdAt: ts('created_at').notNull().defaultNow()
  },
  t => [
    index('notification_deliveries_outbox_idx').on(t.outboxId, t.channel, t.recipient),
    index('notification_deliveries_created_idx').on(t.createdAt, t.id)
  ]
)

/** People who follow a ticket without being its requester or assignee. */
export const ticketWatchers = pgTable(
  'ticket_watchers',
  {
    ticketId: uuid('ticket_id')
      .notNull()
      .references(() => tickets.id, { onDelete: 'cascade' }),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: ts('created_at').notNull().defaultNow()
  },
  t => [primaryKey({ columns: [t.ticketId, t.userId] }), index('ticket_watchers_user_idx').on(t.userId)]
)

/**
 * Who hears what, as data: an event, an audience (requester, assignee, layer, watchers, …) and a
 * channel, optionally only for some kinds or priorities. The defaults ship as rows admins may edit.
 */
export const notificationRules = pgTable(
  'notification_rules',
  {
    id: uuid('id').primaryKey(),
    event: text('event').notNull(),
    audience: text('audience').notNull(),
    channel: text('channel').notNull(),
    /** Only tickets of these kinds (null: any). */
    kinds: text('kinds').array(),
    /** Only tickets at or above this priority (1 is the highest; null: any). */
    maxPriority: integer('max_priority'),
    enabled: boolean('enabled').notNull().default(true),
    version: integer('version').notNull().default(1),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow()
  },
  t => [uniqueIndex('notification_rules_uq').on(t.event, t.audience, t.channel)]
)

/**
 * Admin overrides of the shipped templates (src/modules/notifications/templates.ts), per event, locale
 * and channel. Placeholders are `{{name}}`; values are escaped for the HTML part.
 */
export const notificationTemplates = pgTable(
  'notification_templates',
  {
    id: uuid('id').primaryKey(),
    event: text('event').notNull(),
    locale: text('locale').notNull(),
    channel: text('channel').notNull(),
    subject: text('subject').notNull(),
    text: text('text').notNull(),
    html: text('html'),
    version: integer('version').notNull().default(1),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow()
  },
  t => [uniqueIndex('notification_templates_uq').on(t.event, t.locale, t.channel)]
)

/** Per-user channel choice (mail, sms, none), quiet hours in their time zone, own changes. */
export const notificationPreferences = pgTable('notification_preferences', {
  userId: uuid('user_id')
    .primaryKey()
    .references(() => users.id, { onDelete: 'cascade' }),
  /** Channels this user accepts; empty: none. */
  channels: text('channels').array().notNull().default(sql`'{mail,sms}'::text[]`),
  locale: text('locale').notNull().default('en'),
  timeZone: text('time_zone').notNull().default('UTC'),
  /**
   * Per event (`ticket.assigned`) or event group (`ticket`, `sla`, …) the channels wanted instead of
   * `channels`: the event's own entry first, then its group's, then `channels`.
   */
  eventChannels: jsonb('event_channels').$type<Record<string, string[]>>().notNull().default(sql`'{}'::jsonb`),
  /** Quiet hours as minutes after local midnight; what they hold waits until they end. */
  quietFrom: integer('quiet_from'),
  quietUntil: integer('quiet_until'),
  /** The channels quiet hours hold back (SMS by default; mail too when listed). */
  quietChannels: text('quiet_channels').array().notNull().default(sql`'{sms}'::text[]`),
  ownChanges: boolean('own_changes').notNull().default(false),
  version: integer('version').notNull().default(1),
  updatedAt: ts('updated_at').notNull().defaultNow()
})

/**
 * A phone number a gateway refused for good: not tried again for this user while their number is
 * this one (an edit of the number is a new number, so it is tried again).
 */
export const smsBlockedNumbers = pgTable(
  'sms_blocked_numbers',
  {
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    phone: text('phone').notNull(),
    reason: text('reason').notNull(),
    createdAt: ts('created_at').notNull().defaultNow()
  },
  t => [primaryKey({ columns: [t.userId, t.phone] })]
)

/** The people told of an organisation's tickets (the `organisation_contacts` audience). */
export const organisationContacts = pgTable('organisation_notification_contacts', {
  organisationId: uuid('organisation_id')
    .primaryKey()
    .references(() => organisations.id, { onDelete: 'cascade' }),
  userIds: uuid('user_ids').array().notNull().default(sql`'{}'::uuid[]`),
  version: integer('version').notNull().default(1),
  updatedAt: ts('updated_at').notNull().defaultNow()
})

/**
 * Outbound webhooks for integrators (Standard Webhooks): events of these types, optionally only for
 * tickets an RSQL filter matches, POSTed signed with the secret. A subscription failing for a day is
 * disabled (`disabled_at`) and its owner told.
 */
export const webhookSubscriptions = pgTable('webhook_subscriptions', {
  id: uuid('id').primaryKey(),
  name: text('name').notNull(),
  url: text('url').notNull(),
  events: text('events').array().notNull(),
  filter: text('filter'),
  /** `whsec_<base64>`: shown once (create, rotate), used to sign every delivery. */
  secret: text('secret').notNull(),
  enabled: boolean('enabled').notNull().default(true),
  failingSince: ts('failing_since'),
  disabledAt: ts('disabled_at'),
  ownerId: uuid('owner_id').references(() => users.id, { onDelete: 'set null' }),
  version: integer('version').notNull().default(1),
  createdAt: ts('created_at').notNull().defaultNow(),
  updatedAt: ts('updated_at').notNull().defaultNow()
})
