import { sql } from 'drizzle-orm'
import { boolean, index, integer, jsonb, pgTable, primaryKey, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core'
import { configurationItems } from './cmdb.js'
import { ts } from './columns.js'
import { teams, users } from './identity.js'
import { services } from './service-level.js'
import { tickets, tsvector } from './tickets.js'

const ticketRef = (name: string) =>
  uuid(name)
    .notNull()
    .references(() => tickets.id, { onDelete: 'cascade' })

/** Problem detail: root cause, workaround and the known-error flag agents search while handling incidents. */
export const problemDetails = pgTable(
  'problem_details',
  {
    ticketId: ticketRef('ticket_id').primaryKey(),
    rootCause: text('root_cause'),
    workaround: text('workaround'),
    knownError: boolean('known_error').notNull().default(false),
    knownErrorAt: ts('known_error_at'),
    search: tsvector('search').generatedAlwaysAs(
      sql`to_tsvector('simple', coalesce(root_cause, '') || ' ' || coalesce(workaround, ''))`
    )
  },
  t => [
    // Known errors newest first: the keyset of the known-error list without a search term
    index('problem_details_known_error_idx')
      .on(t.knownErrorAt.desc().nullsFirst(), t.ticketId.desc().nullsFirst())
      .where(sql`known_error`),
    index('problem_details_search_idx').using('gin', t.search)
  ]
)

/** Change detail: type, risk, plans, planned window; `releaseId` when a release bundles it. */
export const changeDetails = pgTable(
  'change_details',
  {
    ticketId: ticketRef('ticket_id').primaryKey(),
    /** standard | normal | emergency */
    type: text('type').notNull(),
    /** low | medium | high */
    risk: text('risk').notNull().default('medium'),
    implementationPlan: text('implementation_plan').notNull().default(''),
    backoutPlan: text('backout_plan').notNull().default(''),
    testPlan: text('test_plan').notNull().default(''),
    plannedStart: ts('planned_start'),
    plannedEnd: ts('planned_end'),
    templateId: uuid('template_id'),
    releaseId: uuid('release_id').references(() => tickets.id, { onDelete: 'set null' })
  },
  t => [
    index('change_details_window_idx').on(t.plannedStart, t.plannedEnd),
    index('change_details_release_idx').on(t.releaseId)
  ]
)

/** Release detail: version, the manager who owns it (required) and the team that ships it. */
export const releaseDetails = pgTable('release_details', {
  ticketId: ticketRef('ticket_id').primaryKey(),
  version: text('version').notNull(),
  managerId: uuid('manager_id')
    .notNull()
    .references(() => users.id),
  releaseTeamId: uuid('release_team_id').references(() => teams.id),
  plannedDate: ts('planned_date')
})

/** One deployment of a release to a target (an environment, a site, a CI). */
export const releaseDeployments = pgTable(
  'release_deployments',
  {
    id: uuid('id').primaryKey(),
    releaseId: ticketRef('release_id'),
    target: text('target').notNull(),
    ciId: uuid('ci_id').references(() => configurationItems.id),
    /** planned | in_progress | succeeded | failed | rolled_back */
    status: text('status').notNull(),
    startedAt: ts('started_at'),
    finishedAt: ts('finished_at'),
    notes: text('notes').notNull().default(''),
    createdBy: uuid('created_by').references(() => users.id),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow()
  },
  t => [index('release_deployments_release_idx').on(t.releaseId, t.createdAt)]
)

/** Service catalog offering (minimal until the service-level work fills the catalog out). */
export const catalogOfferings = pgTable(
  'catalog_offerings',
  {
    id: uuid('id').primaryKey(),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    teamId: uuid('team_id').references(() => teams.id),
    /** The service of the catalog it is offered under (services.ts), if any. */
    serviceId: uuid('service_id').references(() => services.id),
    /** null: no approval; else { rule: all|any|quorum, quorum?, approverIds: [], approverTeamId? } */
    approval: jsonb('approval'),
    /** Fulfilment task titles created when a request of this offering is raised. */
    tasks: jsonb('tasks').notNull().default(sql`'[]'::jsonb`),
    active: boolean('active').notNull().default(true),
    version: integer('version').notNull().default(1),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow()
  },
  t => [
    uniqueIndex('catalog_offerings_name_uq').on(sql`lower(${t.name})`),
    index('catalog_offerings_service_idx').on(t.serviceId)
  ]
)

export const requestDetails = pgTable(
  'request_details',
  {
    ticketId: ticketRef('ticket_id').primaryKey(),
    offeringId: uuid('offering_id')
      .notNull()
      .references(() => catalogOfferings.id)
  },
  t => [index('request_details_offering_idx').on(t.offeringId)]
)

/** Fulfilment tasks of a service request. */
export const requestTasks = pgTable(
  'request_tasks',
  {
    id: uuid('id').primaryKey(),
    requestId: ticketRef('request_id'),
    position: integer('position').notNull(),
    title: text('title').notNull(),
    /** open | in_progress | done | cancelled */
    status: text('status').notNull().default('open'),
    teamId: uuid('team_id').references(() => teams.id),
    assigneeId: uuid('assignee_id').references(() => users.id),
    doneAt: ts('done_at'),
    doneBy: uuid('done_by').references(() => users.id),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow()
  },
  t => [index('request_tasks_request_idx').on(t.requestId, t.position)]
)

/**
 * Links between any two tickets, stored in one direction: caused_by, related_to, duplicate_of,
 * child_of. The far end reads the reverse name (causes, related_to, duplicated_by, parent_of).
 */
export const ticketLinks = pgTable(
  'ticket_links',
  {
    id: uuid('id').primaryKey(),
    fromId: ticketRef('from_id'),
    toId: ticketRef('to_id'),
    type: text('type').notNull(),
    createdBy: uuid('created_by').references(() => users.id),
    createdAt: ts('created_at').notNull().defaultNow()
  },
  t => [uniqueIndex('ticket_links_uq').on(t.fromId, t.toId, t.type), index('ticket_links_to_idx').on(t.toId, t.type)]
)

/** Configuration items a ticket concerns (affected CIs of a change, the CI of an incident). */
export const ticketCis = pgTable(
  'ticket_cis',
  {
    ticketId: ticketRef('ticket_id'),
    ciId: uuid('ci_id')
      .notNull()
      .references(() => configurationItems.id),
    createdAt: ts('created_at').notNull().defaultNow()
  },
  t => [primaryKey({ columns: [t.ticketId, t.ciId] }), index('ticket_cis_ci_idx').on(t.ciId)]
)

/** Approval rule per change type: who approves (people and/or a CAB team) and what it takes. */
export const changeApprovalPolicies = pgTable('change_approval_policies', {
  changeType: text('change_type').primaryKey(),
  /** none (pre-approved) | all | any | quorum */
  rule: text('rule').notNull(),
  quorum: integer('quorum'),
  approverIds: uuid('approver_ids').array().notNull().default(sql`'{}'::uuid[]`),
  approverTeamId: uuid('approver_team_id').references(() => teams.id),
  version: integer('version').notNull().default(1),
  updatedAt: ts('updated_at').notNull().defaultNow()
})

/** One round of approval of a ticket: the rule in force when it started, and how it ended. */
export const approvalRounds = pgTable(
  'approval_rounds',
  {
    ticketId: ticketRef('ticket_id'),
    round: integer('round').notNull(),
    rule: text('rule').notNull(),
    quorum: integer('quorum'),
    /** pending | approved | rejected | cancelled */
    state: text('state').notNull(),
    startedAt: ts('started_at').notNull().defaultNow(),
    decidedAt: ts('decided_at')
  },
  t => [primaryKey({ columns: [t.ticketId, t.round] })]
)

/** Each approver's decision in a round. */
export const approvals = pgTable(
  'approvals',
  {
    id: uuid('id').primaryKey(),
    ticketId: ticketRef('ticket_id'),
    round: integer('round').notNull(),
    approverId: uuid('approver_id')
      .notNull()
      .references(() => users.id),
    /** pending | approved | rejected | cancelled */
    state: text('state').notNull().default('pending'),
    comment: text('comment'),
    decidedAt: ts('decided_at'),
    createdAt: ts('created_at').notNull().defaultNow()
  },
  t => [
    uniqueIndex('approvals_round_approver_uq').on(t.ticketId, t.round, t.approverId),
    index('approvals_approver_idx').on(t.approverId, t.state)
  ]
)

/** Change freeze periods: changes planned inside one are flagged on the calendar. */
export const changeFreezes = pgTable(
  'change_freezes',
  {
    id: uuid('id').primaryKey(),
    name: text('name').notNull(),
    reason: text('reason').notNull().default(''),
    startsAt: ts('starts_at').notNull(),
    endsAt: ts('ends_at').notNull(),
    createdBy: uuid('created_by').references(() => users.id),
    version: integer('version').notNull().default(1),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow()
  },
  t => [index('change_freezes_window_idx').on(t.startsAt, t.endsAt)]
)
