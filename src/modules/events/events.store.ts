import { type SQL, sql } from 'drizzle-orm'
import { eventAlerts, monitoringEvents } from '../../db/schema/index.js'
import { ciKeys } from '../../lib/ci-identity.js'
import type { Tx } from '../../lib/context.js'
import { executeNamed } from '../../lib/prepared.js'
import { identifyCis } from '../cmdb/cis.repository.js'
import { formatNumber } from '../tickets/kinds.js'
import type { Workflow } from '../workflows/workflows.service.js'
import type { NormalisedEvent } from './events.model.js'
import type { EventOutcomeView } from './events.schemas.js'

/*
 * What the event engine reads and writes: keys locked and their state read in one round trip, CIs
 * matched by identification keys, and a batch's alert changes and events written in one statement.
 */

export type AlertRow = typeof eventAlerts.$inferSelect
export type EventRow = typeof monitoringEvents.$inferInsert

export interface KeyState {
  alert: AlertRow | null
  incidentNumber: string | null
  incidentPhase: string | null
  dirty: boolean
}

export interface CiMatch {
  id: string
  supportTeamId: string | null
  by: string
}

export const dateOf = (v: unknown): Date | null => (v === null || v === undefined ? null : new Date(String(v)))

/** An alert row from its JSON form (json_agg writes snake_case names and times as text). */
export function alertFromJson(r: Record<string, unknown>): AlertRow {
  return {
    id: String(r.id),
    source: String(r.source),
    dedupKey: String(r.dedup_key),
    family: (r.family as string | null) ?? null,
    state: String(r.state),
    lastStatus: String(r.last_status),
    severity: String(r.severity),
    summary: String(r.summary),
    incidentId: String(r.incident_id),
    ciId: (r.ci_id as string | null) ?? null,
    teamId: (r.team_id as string | null) ?? null,
    routingRuleId: (r.routing_rule_id as string | null) ?? null,
    previousAlertId: (r.previous_alert_id as string | null) ?? null,
    occurrences: Number(r.occurrences),
    episodeStart: dateOf(r.episode_start)!,
    firstSeenAt: dateOf(r.first_seen_at)!,
    lastSeenAt: dateOf(r.last_seen_at)!,
    endedAt: dateOf(r.ended_at),
    flapping: r.flapping === true,
    stateChanges: (r.state_changes as string[] | null) ?? [],
    lastChangeAt: dateOf(r.last_change_at)!
  }
}

export const json = <T>(v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v) as T

export const keyOf = (source: string, dedupKey: string) => `${source.length}:${source}/${dedupKey}`

export async function lockKeys(tx: Tx, keys: string[]) {
  const sorted = [...new Set(keys)].sort()
  if (sorted.length === 1) {
    await executeNamed(tx, 'events_lock_one', sql`select pg_advisory_xact_lock(hashtextextended(${sorted[0]}, 7))`)
    return
  }
  await executeNamed(
    tx,
    null,
    sql`select pg_advisory_xact_lock(h) from (
          select distinct hashtextextended(k, 7) as h from unnest(${sql.param(sorted)}::text[]) as k order by 1
        ) locks`
  )
}

/**
 * Locks the batch's keys and reads, in one round trip (the event_states function, migration 0003): the
 * newest alert of each key (by id: uuidv7 from our clock, never the sender's) with its incident's
 * number, status and resolution time, and earlier deliveries of the batch's sender event ids.
 */
export async function lockAndLoad(tx: Tx, wf: Workflow, items: NormalisedEvent[]) {
  const withId = items.filter(e => e.externalId)
  const keys = [...new Set(items.map(e => keyOf(e.source, e.dedupKey)))]
  const found = await executeNamed(
    tx,
    items.length === 1 ? 'events_lock_and_load' : null,
    sql`select event_states(${sql.param(keys)}::text[], ${sql.param(items.map(e => e.source))}::text[],
      ${sql.param(items.map(e => e.dedupKey))}::text[], ${sql.param([...new Set(withId.map(e => e.source))])}::text[],
      ${sql.param([...new Set(withId.map(e => e.externalId!))])}::text[]) as states`
  )
  const row = json<{ alerts: unknown; prior: unknown }>(found[0]!.states)

  const states = new Map<string, KeyState>()
  for (const e of items) states.set(keyOf(e.source, e.dedupKey), emptyState())
  for (const r of json<Record<string, unknown>[]>(row.alerts)) {
    const alert = alertFromJson(r)
    const state: KeyState = {
      alert,
      incidentNumber: formatNumber('incident', Number(r.incident_number)),
      incidentPhase: wf.status(String(r.incident_status))?.phase ?? 'open',
      dirty: false
    }
    // A person resolved or closed the incident while the alert was open: the episode ended then
    if (alert.state === 'open' && state.incidentPhase !== 'open') {
      Object.assign(alert, {
        state: 'resolved',
        endedAt: dateOf(r.incident_resolved_at) ?? new Date(),
        flapping: false
      })
      state.dirty = true
    }
    states.set(keyOf(alert.source, alert.dedupKey), state)
  }
  const prior = new Map<string, EventOutcomeView>()
  for (const r of json<Record<string, string | number | null>[]>(row.prior)) {
    prior.set(keyOf(String(r.source), String(r.external_id)), {
      index: 0,
      status: 'accepted',
      eventId: String(r.id),
      action: String(r.action),
      reason: String(r.reason),
      alertId: (r.alert_id as string | null) ?? null,
      incidentId: (r.incident_id as string | null) ?? null,
      incidentNumber: r.number === null || r.number === undefined ? null : formatNumber('incident', Number(r.number)),
      replayed: true
    })
  }
  return { states, prior }
}

export const emptyState = (): KeyState => ({ alert: null, incidentNumber: null, incidentPhase: null, dirty: false })

const BY: Record<string, string> = {
  id: 'id',
  serial: 'serial',
  systemUuid: 'system UUID',
  macAddress: 'MAC',
  fqdn: 'FQDN',
  hostname: 'host name'
}

/**
 * The CI each event names, by id or by identification keys, through the CMDB's one identification
 * (lib/ci-identity.ts spellings, cmdb identifyCis): `DB1.Example.com.` finds what the CMDB stores.
 */
export async function matchCis(tx: Tx, items: NormalisedEvent[]) {
  const out = new Map<NormalisedEvent, CiMatch | null>()
  const named = items.filter(e => e.ci)
  if (named.length === 0) return out
  const keys = named.map(e => ciKeys(e.ci!))
  const hits = await identifyCis(tx, keys)
  named.forEach((e, i) => {
    const hit = hits[i]
    const k = keys[i]
    out.set(
      e,
      hit && k
        ? {
            id: hit.row.id,
            supportTeamId: hit.row.supportTeamId,
            by: hit.by === 'id' ? 'id' : `${BY[hit.by]} ${k[hit.by as keyof typeof k]}`
          }
        : null
    )
  })
  return out
}

/** Changed alerts as one UPDATE … FROM unnest (columns as arrays): a statement, or a CTE of one. */
export function alertUpdate(alerts: AlertRow[]) {
  const col = <T>(f: (a: AlertRow) => T) => sql.param(alerts.map(f))
  return sql`update ${eventAlerts} a set
      state = v.state, last_status = v.last_status, severity = v.severity, occurrences = v.occurrences,
      last_seen_at = v.last_seen_at, ended_at = v.ended_at, flapping = v.flapping,
      state_changes = v.state_changes, last_change_at = v.last_change_at
    from unnest(
      ${col(a => a.id)}::uuid[], ${col(a => a.state)}::text[], ${col(a => a.lastStatus)}::text[],
      ${col(a => a.severity)}::text[], ${col(a => a.occurrences)}::int[],
      ${col(a => a.lastSeenAt.toISOString())}::timestamptz[], ${col(a => a.endedAt?.toISOString() ?? null)}::timestamptz[],
      ${col(a => a.flapping)}::boolean[], ${col(a => JSON.stringify(a.stateChanges))}::jsonb[],
      ${col(a => a.lastChangeAt.toISOString())}::timestamptz[]
    ) as v(id, state, last_status, severity, occurrences, last_seen_at, ended_at, flapping, state_changes, last_change_at)
    where a.id = v.id`
}

export async function saveAlerts(tx: Tx, alerts: AlertRow[]) {
  if (alerts.length) await tx.execute(alertUpdate(alerts))
}

/** New alerts (their state as the batch left them) as one INSERT … SELECT FROM unnest: a CTE of the write. */
function alertInsert(alerts: AlertRow[], after: SQL | null) {
  const col = <T>(f: (a: AlertRow) => T) => sql.param(alerts.map(f))
  return sql`insert into ${eventAlerts} (id, source, dedup_key, family, state, last_status, severity, summary,
      incident_id, ci_id, team_id, routing_rule_id, previous_alert_id, occurrences, episode_start, first_seen_at,
      last_seen_at, ended_at, flapping, state_changes, last_change_at)
    select * from unnest(
      ${col(a => a.id)}::uuid[], ${col(a => a.source)}::text[], ${col(a => a.dedupKey)}::text[],
      ${col(a => a.family)}::text[], ${col(a => a.state)}::text[], ${col(a => a.lastStatus)}::text[],
      ${col(a => a.severity)}::text[], ${col(a => a.summary)}::text[], ${col(a => a.incidentId)}::uuid[],
      ${col(a => a.ciId)}::uuid[], ${col(a => a.teamId)}::uuid[], ${col(a => a.routingRuleId)}::uuid[],
      ${col(a => a.previousAlertId)}::uuid[], ${col(a => a.occurrences)}::int[],
      ${col(a => a.episodeStart.toISOString())}::timestamptz[], ${col(a => a.firstSeenAt.toISOString())}::timestamptz[],
      ${col(a => a.lastSeenAt.toISOString())}::timestamptz[], ${col(a => a.endedAt?.toISOString() ?? null)}::timestamptz[],
      ${col(a => a.flapping)}::boolean[], ${col(a => JSON.stringify(a.stateChanges))}::jsonb[],
      ${col(a => a.lastChangeAt.toISOString())}::timestamptz[]
    )${after ? sql` where (select count(*) from ${after}) >= 0` : sql``}`
}

/**
 * The batch's alert changes, its new alerts and its events in one statement: one round trip however
 * many events. The changes come first (the new alerts' insert waits on them): an episode the batch
 * ended leaves the key's one open slot (event_alerts_open_uq) to the episode it opened. Foreign keys
 * (an event's alert, an alert's previous one) are checked at the end of the statement.
 */
export async function writeBatch(tx: Tx, changed: AlertRow[], fresh: AlertRow[], rows: EventRow[]) {
  if (rows.length === 0 && fresh.length === 0) return saveAlerts(tx, changed)
  const col = <T>(f: (r: EventRow) => T) => sql.param(rows.map(f))
  const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null)
  const insert = sql`insert into ${monitoringEvents} (id, source, dedup_key, family, external_id, status, severity,
      summary, details, labels, ci_id, occurred_at, received_at, received_by, alert_id, incident_id, action, reason,
      matched_by)
    select * from unnest(
      ${col(r => r.id)}::uuid[], ${col(r => r.source)}::text[], ${col(r => r.dedupKey)}::text[],
      ${col(r => r.family ?? null)}::text[], ${col(r => r.externalId ?? null)}::text[], ${col(r => r.status)}::text[],
      ${col(r => r.severity)}::text[], ${col(r => r.summary)}::text[], ${col(r => JSON.stringify(r.details ?? {}))}::jsonb[],
      ${col(r => JSON.stringify(r.labels ?? {}))}::jsonb[], ${col(r => r.ciId ?? null)}::uuid[],
      ${col(r => iso(r.occurredAt))}::timestamptz[], ${col(r => iso(r.receivedAt))}::timestamptz[],
      ${col(r => r.receivedBy ?? null)}::uuid[], ${col(r => r.alertId ?? null)}::uuid[], ${col(r => r.incidentId ?? null)}::uuid[],
      ${col(r => r.action)}::text[], ${col(r => r.reason)}::text[], ${col(r => JSON.stringify(r.matchedBy ?? {}))}::jsonb[]
    )
    on conflict do nothing`
  const ctes: SQL[] = []
  if (changed.length) ctes.push(sql`saved as (${alertUpdate(changed)} returning 1)`)
  if (fresh.length)
    ctes.push(sql`opened as (${alertInsert(fresh, changed.length ? sql.raw('saved') : null)} returning 1)`)
  // One event (the single-event door): a prepared statement per shape; a batch is planned for its arrays
  const name =
    rows.length === 1 ? `events_write${changed.length ? '_changed' : ''}${fresh.length ? '_opened' : ''}` : null
  await executeNamed(tx, name, ctes.length ? sql`with ${sql.join(ctes, sql`, `)} ${insert}` : insert)
}
