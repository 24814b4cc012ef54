import { sql } from 'drizzle-orm'
import { boolean, index, integer, jsonb, pgTable, smallint, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core'
import { configurationItems } from './cmdb.js'
import { ts } from './columns.js'
import { teams, users } from './identity.js'
import { tickets, tsvector } from './tickets.js'

/**
 * One alert per (source, dedup key) and episode: the correlation state between monitoring events and
 * the incident they opened. At most one is open per key (the partial unique index is the arbiter when
 * concurrent deliveries race). A flapping alert stays open ("held") until it settles.
 */
export const eventAlerts = pgTable(
  'event_alerts',
  {
    id: uuid('id').primaryKey(),
    source: text('source').notNull(),
    dedupKey: text('dedup_key').notNull(),
    family: text('family'),
    state: text('state').notNull(),
    /** What the monitor last said: firing or resolved (a held, flapping alert may be open yet resolved). */
    lastStatus: text('last_status').notNull(),
    severity: text('severity').notNull(),
    summary: text('summary').notNull(),
    incidentId: uuid('incident_id')
      .notNull()
      .references(() => tickets.id, { onDelete: 'cascade' }),
    ciId: uuid('ci_id').references(() => configurationItems.id, { onDelete: 'set null' }),
    teamId: uuid('team_id').references(() => teams.id, { onDelete: 'set null' }),
    routingRuleId: uuid('routing_rule_id'),
    previousAlertId: uuid('previous_alert_id'),
    occurrences: integer('occurrences').notNull().default(1),
    episodeStart: ts('episode_start').notNull(),
    firstSeenAt: ts('first_seen_at').notNull(),
    lastSeenAt: ts('last_seen_at').notNull(),
    /** When the episode ended: the resolving event's end time, or when a person resolved the incident. */
    endedAt: ts('ended_at'),
    flapping: boolean('flapping').notNull().default(false),
    /** Recent firing/resolved state changes of this key (carried across episodes), for flap detection. */
    stateChanges: jsonb('state_changes').$type<string[]>().notNull().default(sql`'[]'::jsonb`),
    lastChangeAt: ts('last_change_at').notNull()
  },
  t => [
    uniqueIndex('event_alerts_open_uq').on(t.source, t.dedupKey).where(sql`state = 'open'`),
    index('event_alerts_key_idx').on(t.source, t.dedupKey, t.id),
    index('event_alerts_incident_idx').on(t.incidentId),
    index('event_alerts_flapping_idx').on(t.lastChangeAt).where(sql`flapping`)
  ]
)

/**
 * Every monitoring event as received, normalised, with what it did and why: kept for search and audit
 * until the retention job removes it. `externalId` (the sender's event id or an Idempotency-Key of a
 * single event) makes a retried delivery answer the first outcome instead of counting twice.
 */
export const monitoringEvents = pgTable(
  'monitoring_events',
  {
    id: uuid('id').primaryKey(),
    source: text('source').notNull(),
    dedupKey: text('dedup_key').notNull(),
    family: text('family'),
    externalId: text('external_id'),
    status: text('status').notNull(),
    severity: text('severity').notNull(),
    summary: text('summary').notNull(),
    details: jsonb('details').$type<Record<string, unknown>>().notNull().default(sql`'{}'::jsonb`),
    labels: jsonb('labels').$type<Record<string, string>>().notNull().default(sql`'{}'::jsonb`),
    ciId: uuid('ci_id'),
    occurredAt: ts('occurred_at').notNull(),
    receivedAt: ts('received_at').notNull().defaultNow(),
    receivedBy: uuid('received_by').references(() => users.id, { onDelete: 'set null' }),
    alertId: uuid('alert_id'),
    incidentId: uuid('incident_id'),
    action: text('action').notNull(),
    reason: text('reason').notNull(),
    matchedBy: jsonb('matched_by').$type<Record<string, unknown>>().notNull().default(sql`'{}'::jsonb`),
    search: tsvector('search').generatedAlwaysAs(
      sql`to_tsvector('simple', coalesce(summary, '') || ' ' || coalesce(dedup_key, ''))`
    )
  },
  t => [
    uniqueIndex('monitoring_events_external_uq').on(t.source, t.externalId).where(sql`external_id IS NOT NULL`),
    index('monitoring_events_received_idx').on(t.receivedAt.desc(), t.id.desc()),
    index('monitoring_events_key_idx').on(t.source, t.dedupKey, t.receivedAt.desc()),
    index('monitoring_events_incident_idx').on(t.incidentId, t.receivedAt.desc()),
    index('monitoring_events_alert_idx').on(t.alertId, t.receivedAt.desc()),
    index('monitoring_events_search_idx').using('gin', t.search)
  ]
)

/** Admin routing: the first enabled rule (by position) whose match fits an event names team and priority. */
export const eventRoutingRules = pgTable(
  'event_routing_rules',
  {
    id: uuid('id').primaryKey(),
    name: text('name').notNull(),
    position: integer('position').notNull(),
    enabled: boolean('enabled').notNull().default(true),
    match: jsonb('match').notNull(),
    teamId: uuid('team_id').references(() => teams.id, { onDelete: 'restrict' }),
    impact: smallint('impact'),
    urgency: smallint('urgency'),
    version: integer('version').notNull().default(1),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow()
  },
  t => [uniqueIndex('event_routing_rules_name_uq').on(t.name), index('event_routing_rules_position_idx').on(t.position)]
)

/** Event handling settings (one row): severity mapping, resolve action, flapping, retention. */
export const eventSettings = pgTable('event_settings', {
  id: smallint('id').primaryKey(),
  settings: jsonb('settings').notNull(),
  version: integer('version').notNull().default(1),
  updatedAt: ts('updated_at').notNull().defaultNow()
})

/** Problem detection: N incidents sharing a CI, fingerprint, family or category within a window. */
export const problemRules = pgTable(
  'problem_rules',
  {
    id: uuid('id').primaryKey(),
    name: text('name').notNull(),
    enabled: boolean('enabled').notNull().default(true),
    groupBy: text('group_by').notNull(),
    threshold: integer('threshold').notNull(),
    windowMinutes: integer('window_minutes').notNull(),
    source: text('source'),
    teamId: uuid('team_id').references(() => teams.id, { onDelete: 'set null' }),
    lastRunAt: ts('last_run_at'),
    version: integer('version').notNull().default(1),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow()
  },
  t => [uniqueIndex('problem_rules_name_uq').on(t.name)]
)

/** Which problem a rule opened for a group key: later matches update that problem while it is open. */
export const detectedProblems = pgTable(
  'detected_problems',
  {
    ruleId: uuid('rule_id')
      .notNull()
      .references(() => problemRules.id, { onDelete: 'cascade' }),
    groupKey: text('group_key').notNull(),
    problemId: uuid('problem_id')
      .notNull()
      .references(() => tickets.id, { onDelete: 'cascade' }),
    createdAt: ts('created_at').notNull().defaultNow()
  },
  t => [
    uniqueIndex('detected_problems_uq').on(t.ruleId, t.groupKey, t.problemId),
    index('detected_problems_problem_idx').on(t.problemId)
  ]
)
