import type { Actor } from '../../auth/actor.js'
import { ticketCis } from '../../db/schema/index.js'
import { type Ctx, type Deps, type Tx, type TxCtx, withTx } from '../../lib/context.js'
import { AppError, fieldError } from '../../lib/errors.js'
import { uuidv7 } from '../../lib/ids.js'
import type { LinkService } from '../links/links.service.js'
import type { TicketView } from '../tickets/tickets.repository.js'
import type { TicketService } from '../tickets/tickets.service.js'
import type { Workflow, WorkflowService } from '../workflows/workflows.service.js'
import type { EventSettings, EventSettingsService } from './event-settings.service.js'
import {
  type CiReference,
  clip,
  type EventAction,
  type NormalisedEvent,
  severityRank,
  storable
} from './events.model.js'
import type { EventOutcomeView } from './events.schemas.js'
import {
  type AlertRow,
  type CiMatch,
  type EventRow,
  keyOf,
  lockAndLoad,
  lockKeys,
  matchCis,
  saveAlerts,
  writeBatch
} from './events.store.js'
import { type RoutingRule, type RoutingRuleService, ruleFor } from './routing-rules.service.js'

const ciRefText = (ref: CiReference) =>
  Object.entries(ref)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')

export interface EngineDeps extends Deps {
  tickets: TicketService
  links: LinkService
  workflows: WorkflowService
  settings: EventSettingsService
  routing: RoutingRuleService
}

export interface Config {
  settings: EventSettings
  rules: RoutingRule[]
}

/**
 * The integration acts with its own account's id (notes and audit name it) but with the rights of the
 * event pipeline: the caller was authorised for events:write; what the pipeline does to incidents
 * follows from the rules, not from the integration user's ticket roles.
 */
export const pipelineCtx = <C extends Ctx>(ctx: C, label?: string): C => ({
  ...ctx,
  actor: { ...ctx.actor, kind: 'system', username: label ?? `events:${ctx.actor.username}` } as Actor
})

/**
 * Turns normalised events into exactly the incidents a person wants. Per (source, dedup key) at most one
 * alert is open; the first firing event opens an incident, repeats count on it, a resolved event resolves
 * it (or notes it), a firing event after the episode ended opens a new incident linked to the old one,
 * and a key changing state too often is marked flapping and held open. A batch is one transaction with
 * its keys locked in a fixed order, so concurrent deliveries of the same key queue instead of racing.
 */
export function createEventEngine(deps: EngineDeps) {
  /** Records a firing/resolved change at `at`; true when the key now flaps (N changes in M minutes). */
  function recordChange(alert: AlertRow, previous: string[], at: Date, s: EventSettings): boolean {
    const since = at.getTime() - s.flapWindowMinutes * 60_000
    const recent = [...previous, at.toISOString()].filter(t => Date.parse(t) >= since).slice(-s.flapChanges)
    alert.stateChanges = recent
    alert.lastChangeAt = at
    return recent.length >= s.flapChanges
  }

  function describe(e: NormalisedEvent, ci: CiMatch | null | undefined) {
    const lines = [e.note ?? '', '', `Source: ${e.source}`, `Fingerprint: ${e.dedupKey}`, `Severity: ${e.severity}`]
    if (e.family) lines.push(`Family: ${e.family}`)
    if (ci) lines.push(`Configuration item: ${ci.id} (matched by ${ci.by})`)
    const labels = Object.entries(e.labels)
    if (labels.length) lines.push('', 'Labels:', ...labels.map(([k, v]) => `- ${k} = ${v}`))
    return clip(lines.join('\n').trim(), 20_000)
  }

  async function openIncident(
    tx: Tx,
    ctx: Ctx,
    s: EventSettings,
    rules: RoutingRule[],
    e: NormalisedEvent,
    ci: CiMatch | null | undefined,
    requesterId: string
  ) {
    const rule = ruleFor(rules, e)
    const base = s.severityPriority[e.severity]
    const teamId = rule?.teamId ?? ci?.supportTeamId ?? s.defaultTeamId ?? undefined
    const input = {
      title: clip(e.summary.replace(/\s+/g, ' ').trim() || e.dedupKey, 300),
      description: describe(e, ci),
      impact: rule?.impact ?? base.impact,
      urgency: rule?.urgency ?? base.urgency,
      requesterId,
      ...(teamId ? { teamId } : {})
    }
    let incident: TicketView
    try {
      incident = (await deps.tickets.create(ctx, 'incident', input)).body
    } catch (err) {
      // A team that cannot take work (deleted, no layers) must not lose the alert: open it unassigned
      if (!(err instanceof AppError && err.status === 422 && teamId)) throw err
      const { teamId: _t, ...unassigned } = input
      incident = (await deps.tickets.create(ctx, 'incident', unassigned)).body
    }
    if (ci) await tx.insert(ticketCis).values({ ticketId: incident.id, ciId: ci.id }).onConflictDoNothing()
    return { incident, rule, teamId: incident.teamId ?? null }
  }

  async function noteOn(ctx: TxCtx, incidentId: string, body: string) {
    await deps.tickets.addNote(ctx, 'incident', incidentId, { body: clip(body, 20_000), internal: true })
  }

  async function resolveIncident(ctx: TxCtx, wf: Workflow, incidentId: string, why: string) {
    const row = await deps.tickets.visible(ctx, 'incident', incidentId)
    if (wf.status(row.status)?.phase !== 'open') return false
    const target = wf.definition.statuses.find(st => st.phase === 'resolved')
    if (!target) return false
    const moved = await deps.tickets.systemMove(ctx, row, target.key, {
      resolutionCode: 'monitoring_recovered',
      resolution: clip(why, 2000),
      note: why
    })
    return moved !== null
  }

  async function reopenIncident(ctx: TxCtx, wf: Workflow, incidentId: string, why: string) {
    const row = await deps.tickets.visible(ctx, 'incident', incidentId)
    if (wf.status(row.status)?.phase !== 'resolved') return false
    const target = wf.status('in_progress') ? 'in_progress' : wf.initial
    return (await deps.tickets.systemMove(ctx, row, target, { note: why })) !== null
  }

  async function run(tx: Tx, callerCtx: TxCtx, items: NormalisedEvent[], config: Config): Promise<EventOutcomeView[]> {
    const requesterId = callerCtx.actor.id
    if (!requesterId) throw fieldError('actor', 'events are posted by an integration account')
    const ctx = pipelineCtx(callerCtx)
    const { settings: s, rules } = config
    const wf = await deps.workflows.get('incident', tx)
    const { states, prior } = await lockAndLoad(tx, wf, items)
    const cis = await matchCis(tx, items)
    const now = new Date()
    const outcomes: EventOutcomeView[] = []
    const rows: EventRow[] = []
    const fresh: AlertRow[] = []
    const replaced: AlertRow[] = []

    for (const e of items) {
      const idKey = e.externalId ? keyOf(e.source, e.externalId) : null
      const replay = idKey ? prior.get(idKey) : undefined
      if (replay) {
        outcomes.push({ ...replay })
        continue
      }
      const state = states.get(keyOf(e.source, e.dedupKey))!
      const ci = cis.get(e)
      const at = e.occurredAt ?? now
      const eventId = uuidv7()
      let action: EventAction
      let reason: string
      const matchedBy: Record<string, unknown> = { fingerprint: e.dedupKey, source: e.source }
      const alert = state.alert
      const open = alert?.state === 'open' ? alert : null

      if (e.status === 'firing') {
        if (open) {
          open.occurrences += 1
          open.lastSeenAt = at > open.lastSeenAt ? at : open.lastSeenAt
          if (severityRank(e.severity) < severityRank(open.severity)) open.severity = e.severity
          if (open.lastStatus === 'resolved') {
            recordChange(open, open.stateChanges, now, s)
            open.lastStatus = 'firing'
            reason = `fired again while flapping; held on ${state.incidentNumber} (fingerprint ${e.dedupKey})`
          } else {
            reason = `same fingerprint ${e.dedupKey} as the open alert of ${state.incidentNumber}; counted as occurrence ${open.occurrences}`
          }
          state.dirty = true
          action = 'deduplicated'
          matchedBy.rule = 'open alert with this fingerprint'
        } else {
          const start = e.startsAt ?? e.occurredAt
          const ended = alert?.endedAt ?? null
          if (alert && ended && (e.oneEpisode || (start && start <= ended))) {
            action = 'ignored'
            reason = `late firing event of an episode that ended at ${ended.toISOString()} (${state.incidentNumber}); nothing reopened`
            matchedBy.rule = 'episode already ended'
          } else {
            const flapping = alert ? wouldFlap(alert, now, s) : false
            if (alert && flapping && state.incidentPhase === 'resolved') {
              // Flapping: bring the last incident back and hold it rather than open one per flap
              recordChange(alert, alert.stateChanges, now, s)
              Object.assign(alert, {
                state: 'open',
                lastStatus: 'firing',
                flapping: true,
                endedAt: null,
                occurrences: alert.occurrences + 1,
                lastSeenAt: at
              })
              state.dirty = true
              state.incidentPhase = 'open'
              await reopenIncident(
                ctx,
                wf,
                alert.incidentId,
                `Flapping: ${s.flapChanges} state changes within ${s.flapWindowMinutes} minutes. Reopened and held open until ${e.dedupKey} settles.`
              )
              action = 'held'
              reason = `flapping (${s.flapChanges} changes in ${s.flapWindowMinutes} min): reopened ${state.incidentNumber} and held it`
              matchedBy.rule = 'flapping'
            } else {
              const opened = await openIncident(tx, ctx, s, rules, e, ci, requesterId)
              const number = opened.incident.number
              const next: AlertRow = {
                id: uuidv7(),
                source: e.source,
                dedupKey: e.dedupKey,
                family: e.family,
                state: 'open',
                lastStatus: 'firing',
                severity: e.severity,
                summary: clip(e.summary, 1024),
                incidentId: opened.incident.id,
                ciId: ci?.id ?? null,
                teamId: opened.teamId,
                routingRuleId: opened.rule?.id ?? null,
                previousAlertId: alert?.id ?? null,
                occurrences: 1,
                episodeStart: start ?? at,
                firstSeenAt: at,
                lastSeenAt: at,
                endedAt: null,
                flapping,
                stateChanges: alert ? alert.stateChanges : [],
                lastChangeAt: now
              }
              if (alert) recordChange(next, alert.stateChanges, now, s)
              // Written with the batch's events, as the batch leaves it; an episode the batch changed
              // before this one replaced it in `states` is written as it was left too
              fresh.push(next)
              if (alert && state.dirty) replaced.push(alert)
              if (alert) {
                await deps.links.addLink(ctx, opened.incident.id, alert.incidentId, 'related_to')
                reason = `fired again after ${state.incidentNumber} ended: opened ${number}, linked to it`
              } else {
                reason = `first firing event for fingerprint ${e.dedupKey}: opened ${number}`
              }
              if (opened.rule) {
                matchedBy.routingRule = opened.rule.name
                reason += ` (routed by rule "${opened.rule.name}")`
              }
              if (flapping) reason += '; flapping, held open until it settles'
              state.alert = next
              state.incidentNumber = number
              state.incidentPhase = 'open'
              state.dirty = false
              action = 'opened'
              matchedBy.rule = alert ? 'new episode' : 'new fingerprint'
            }
          }
        }
      } else if (e.status === 'resolved') {
        if (!open) {
          action = 'ignored'
          reason = alert
            ? `no open alert for fingerprint ${e.dedupKey} (${state.incidentNumber} already ended)`
            : `no open alert for fingerprint ${e.dedupKey}`
          matchedBy.rule = 'nothing open'
        } else {
          open.lastSeenAt = at > open.lastSeenAt ? at : open.lastSeenAt
          const wasFlapping = open.flapping
          const flaps = recordChange(open, open.stateChanges, now, s)
          open.lastStatus = 'resolved'
          state.dirty = true
          matchedBy.rule = 'open alert with this fingerprint'
          if (wasFlapping || flaps) {
            open.flapping = true
            action = 'held'
            reason = `recovery held: ${e.dedupKey} is flapping (${s.flapChanges} changes in ${s.flapWindowMinutes} min); ${state.incidentNumber} stays open until it settles`
            if (!wasFlapping) {
              await noteOn(
                ctx,
                open.incidentId,
                `Flapping: ${s.flapChanges} state changes within ${s.flapWindowMinutes} minutes. Automatic resolution is held until ${e.dedupKey} settles.`
              )
            }
          } else {
            open.state = 'resolved'
            open.endedAt = e.endsAt ?? e.occurredAt ?? now
            const why = `Monitoring reports recovery (${e.source}, ${e.dedupKey}): ${e.summary}`
            if (s.resolveAction === 'resolve' && (await resolveIncident(ctx, wf, open.incidentId, why))) {
              action = 'resolved'
              reason = `recovery of fingerprint ${e.dedupKey}: resolved ${state.incidentNumber}`
              state.incidentPhase = 'resolved'
            } else {
              await noteOn(ctx, open.incidentId, why)
              action = 'noted'
              reason = `recovery of fingerprint ${e.dedupKey}: noted on ${state.incidentNumber}`
            }
          }
        }
      } else {
        // An acknowledgement or comment from the monitor: a note on the open incident, nothing else
        if (open) {
          open.lastSeenAt = at > open.lastSeenAt ? at : open.lastSeenAt
          state.dirty = true
          await noteOn(ctx, open.incidentId, `${e.source}: ${e.note ?? e.summary}`)
          action = 'noted'
          reason = `update for fingerprint ${e.dedupKey}: noted on ${state.incidentNumber}`
          matchedBy.rule = 'open alert with this fingerprint'
        } else {
          action = 'ignored'
          reason = `update for fingerprint ${e.dedupKey} with no open alert`
          matchedBy.rule = 'nothing open'
        }
      }

      if (e.ci && !ci && action === 'opened') reason += `; no configuration item matched ${ciRefText(e.ci)}`
      const target = state.alert && action !== 'ignored' ? state.alert : (alert ?? null)
      rows.push({
        id: eventId,
        source: e.source,
        dedupKey: e.dedupKey,
        family: e.family,
        externalId: e.externalId,
        status: e.status,
        severity: e.severity,
        summary: clip(e.summary, 1024),
        details: e.details,
        labels: e.labels,
        ciId: ci?.id ?? null,
        occurredAt: at,
        receivedAt: now,
        receivedBy: requesterId,
        alertId: target?.id ?? null,
        incidentId: target?.incidentId ?? null,
        action,
        reason,
        matchedBy
      })
      const outcome: EventOutcomeView = {
        index: 0,
        status: 'accepted',
        eventId,
        action,
        reason,
        alertId: target?.id ?? null,
        incidentId: target?.incidentId ?? null,
        incidentNumber: target ? state.incidentNumber : null,
        replayed: false
      }
      outcomes.push(outcome)
      if (idKey) prior.set(idKey, { ...outcome, replayed: true })
    }

    const opened = new Set(fresh.map(a => a.id))
    const changed = [...replaced, ...[...states.values()].filter(st => st.dirty && st.alert).map(st => st.alert!)]
    await writeBatch(
      tx,
      changed.filter(a => !opened.has(a.id)),
      fresh,
      rows
    )
    return outcomes
  }

  function wouldFlap(alert: AlertRow, at: Date, s: EventSettings) {
    const since = at.getTime() - s.flapWindowMinutes * 60_000
    return alert.stateChanges.filter(t => Date.parse(t) >= since).length + 1 >= s.flapChanges
  }

  return {
    /**
     * What ingest reads besides its keys: settings and routing rules. Read before any transaction opens
     * (on PGlite a read on the pool inside a transaction would wait for that transaction forever).
     */
    async config(): Promise<Config> {
      return { settings: await deps.settings.current(), rules: await deps.routing.active() }
    },

    /** Ingests events in one transaction (the caller's, when it has one: an Idempotency-Key run). */
    async ingest(ctx: Ctx, items: NormalisedEvent[], config: Config): Promise<EventOutcomeView[]> {
      if (items.length === 0) return []
      const clean = items.map(storable)
      return withTx(ctx, (tx, ctx) => run(tx, ctx, clean, config))
    },
    lockKeys,
    keyOf,
    saveAlerts,
    resolveIncident,
    noteOn
  }
}

export type EventEngine = ReturnType<typeof createEventEngine>
