import type { SQL } from 'drizzle-orm'
import type { AnyPgColumn } from 'drizzle-orm/pg-core'
import type { Actor } from '../../auth/actor.js'
import type { Ctx, Queryable, Tx } from '../../lib/context.js'
import type { CustomFieldSpec } from '../../lib/custom-field-types.js'
import type { Change } from '../audit/audit.service.js'
import type { Requirement, StatusDef } from '../workflows/workflow.types.js'
import type { TicketKind } from './kinds.js'
import type { Row } from './tickets.repository.js'
import type { TransitionInput } from './tickets.schemas.js'

/**
 * What the ticket core needs from other modules, as narrow ports: the core stays one module and the
 * kinds, custom fields, categories, templates and approvals plug in without the core importing them.
 */
export interface CustomFieldPort {
  resolve(
    q: Queryable,
    kind: TicketKind,
    input: Record<string, unknown> | undefined,
    existing: Record<string, unknown> | null
  ): Promise<{ values: Record<string, unknown>; changes: Change[] }>
  specs(q: Queryable, kind: TicketKind): Promise<ReadonlyMap<string, CustomFieldSpec>>
}

export interface CategoryPort {
  resolve(q: Queryable, kind: TicketKind, categoryId: string): Promise<{ id: string; path: string }>
}

export interface ServicePort {
  /**
   * The service a ticket names, checked for this actor (a customer names only a customer-visible
   * service their organisation subscribes to; a retired one only when `current` is it already), or
   * 422 naming `serviceId`.
   */
  resolve(q: Queryable, actor: Actor, serviceId: string, current: string | null): Promise<{ id: string }>
  /**
   * The same check for a new ticket as a condition of its create statement (no read before it): null
   * when the id is not even well formed (then `resolve` answers the 422). When the condition fails, the
   * create asks `resolve` for the reason.
   */
  createGuard?(actor: Actor, serviceId: string): { id: string; holds: SQL } | null
}

export interface TemplatePort {
  /** The create input with the template's values filled in where the input is silent. */
  apply(
    q: Queryable,
    kind: TicketKind,
    templateId: string,
    input: Record<string, unknown>
  ): Promise<Record<string, unknown>>
}

export type ApprovalOutcome = 'pending' | 'approved' | 'rejected'

export interface ApprovalPort {
  /** A ticket entered an approval status: open a round; answers at once when no one needs to decide. */
  start(tx: Tx, ctx: Ctx, row: Row, status: StatusDef): Promise<ApprovalOutcome>
  /** Whether the ticket's latest round is approved. */
  isApproved(q: Queryable, ticketId: string): Promise<boolean>
  /** The ticket left its approval status some other way: close any open round. */
  cancelOpen(tx: Tx, ctx: Ctx, ticketId: string): Promise<void>
}

/**
 * The configuration items a ticket names (every kind): the CMDB owns the CIs, so it checks the ids,
 * stores the links and reads them back; the core only calls it.
 */
export interface CiLinkPort {
  /** The ids asked for, normalised; a field error naming `field` (422) when one names no CI. */
  check(q: Queryable, ids: readonly string[], field: string): Promise<string[]>
  /** Replaces the CI set of a ticket; answers the audit change when it differs. */
  replace(tx: Tx, ticketId: string, ids: readonly string[]): Promise<Change[]>
  /** The CI ids of many tickets at once (sorted), every ticket asked present. */
  idsOf(q: Queryable, ticketIds: readonly string[]): Promise<Map<string, string[]>>
  /** The owner teams of the CIs each ticket names (distinct, sorted); tickets without any are absent. */
  ownerTeamsOf(q: Queryable, ticketIds: readonly string[]): Promise<Map<string, string[]>>
  /** A correlated subquery on tickets.id answering the ticket's CI ids as a json array (single reads). */
  idsSql: SQL
  /** The filter field `ciId`: tickets naming that CI (`ciId==<uuid>`). */
  filterField: KindFilterField
}

/** One SLA clock of a ticket, compact: what ticket reads embed (GET /tickets/{id}/sla has the rest). */
export interface SlaClockSummary {
  state: 'running' | 'paused' | 'met' | 'breached'
  /** When it breaches if it keeps running (null while paused); the last known due time once stopped. */
  dueAt: Date | null
  breached: boolean
  /** Percent of the target used, as of now. */
  percentUsed: number
}

/** The `sla` object on ticket reads: the SLA's response and resolution clocks (OLA clocks are not in it). */
export interface TicketSlaSummary {
  response: SlaClockSummary | null
  resolution: SlaClockSummary | null
}

/** The SLA sort keys of ticket lists. */
export type SlaSortKey = 'sla.responseDueAt' | 'sla.resolutionDueAt'

/**
 * What the SLA clocks let the ticket core read (the clocks module provides it; the core cannot import
 * it, the clocks being a ticket-writer subscriber built on the core).
 */
export interface SlaReadPort {
  /**
   * A correlated subquery over `tickets` selecting a ticket's SLA clocks (no bound parameter): ticket
   * reads select it with their row and `summaryOf` turns its value into the `sla` object.
   */
  clocksSql: SQL
  /** The `sla` object from what `clocksSql` selected. */
  summaryOf(clocks: unknown): TicketSlaSummary
  /** The `sla` object of many tickets in one query; every ticket asked is present. */
  summariesOf(q: Queryable, ticketIds: readonly string[]): Promise<Map<string, TicketSlaSummary>>
  /** Filter fields (`sla.responseDueAt`, `sla.resolutionDueAt`, `sla.breached`, …), indexed lookups into the clocks. */
  filterFields: Record<string, KindFilterField>
  /** A never-null timestamptz per sort key (a ticket without the clock, or paused: 'infinity', last ascending). */
  sortKeys: Record<SlaSortKey, SQL>
}

/** The ports the ticket core is built with (src/services.ts wires them from the manifests); one left out means "none defined". */
export interface TicketPorts {
  customFields?: CustomFieldPort
  categories?: CategoryPort
  services?: ServicePort
  templates?: TemplatePort
  approvals?: ApprovalPort
  ciLinks?: CiLinkPort
  slaReads?: SlaReadPort
}

/** A field a kind adds to the filter language (usually a correlated lookup into its side table). */
export interface KindFilterField {
  sql: SQL | AnyPgColumn
  type: 'text' | 'integer' | 'uuid' | 'datetime' | 'boolean' | 'enum'
  values?: readonly string[]
  nullable?: boolean
  /** An array expression: membership comparisons (see lib/rsql.ts FilterField.many). */
  many?: boolean
  /** `sql` is a column of a side table with at most one row per ticket (see lib/rsql.ts FilterField.within). */
  within?: (condition: SQL) => SQL
}

/** What a kind adds to the core: its side table, its requirements, what follows its transitions. */
export interface KindHooks {
  /**
   * Validates the kind's own create fields; `write` stores them once the ticket row exists. `defaults`
   * fill what the body leaves out (a request's team and service come from its offering), on reclassification too.
   */
  prepareCreate?(
    q: Queryable,
    ctx: Ctx,
    input: Record<string, unknown>
  ): Promise<{
    changes: Change[]
    write: (tx: Tx, row: Row) => Promise<void>
    defaults?: { teamId?: string | null; serviceId?: string | null }
  }>
  /** Applies the kind's own update fields; answers the audit changes. */
  update?(tx: Tx, ctx: Ctx, before: Row, input: Record<string, unknown>): Promise<Change[]>
  /**
   * Kind detail for many tickets at once: `full` for single reads (and GraphQL loaders filling in
   * fields), false for list pages, which carry summary fields only.
   */
  details?(q: Queryable, ids: readonly string[], full: boolean): Promise<Map<string, Record<string, unknown>>>
  /**
   * Detail that a single read takes in the same statement as the row (correlated subqueries), so a
   * kind whose whole detail fits here answers GET /{collection}/{id} in one round trip; `details` is
   * then skipped for single reads.
   */
  singleRead?: Record<string, SQL>
  /** Why the requirement is unmet (a field error message), or null when it holds. */
  requirement?(q: Queryable, row: Row, need: Requirement, input: TransitionInput): Promise<string | null>
  /**
   * Checks the kind's own transition options (KIND_TRANSITION_OPTIONS it owns) before the move: throws
   * a field error naming the option when it does not fit the move (a problem resolving its incidents
   * only when it is resolved).
   */
  checkTransition?(q: Queryable, target: StatusDef, row: Row, input: TransitionInput): Promise<void>
  /** The side row goes when a ticket is reclassified to another kind. */
  remove?(tx: Tx, ticketId: string): Promise<void>
  filterFields?: Record<string, KindFilterField>
}
