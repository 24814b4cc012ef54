import { asc, getTableColumns, inArray, type SQL, sql } from 'drizzle-orm'
import type { Static } from 'typebox'
import type { Actor } from '../../auth/actor.js'
import { authorize, canSeeInternal, isStaff } from '../../auth/policy.js'
import { slaClocks } from '../../db/schema/index.js'
import { DEFAULT_MAX_ATTEMPTS } from '../../jobs/queue.js'
import { type BusinessCalendar, businessMinutes, deadline } from '../../lib/business-time.js'
import type { Ctx, Deps, Queryable, Tx, TxCtx } from '../../lib/context.js'
import { notFound } from '../../lib/errors.js'
import { uuidv7 } from '../../lib/ids.js'
import { sqlArray } from '../../lib/sql-array.js'
import { type CalendarService, loadDefinitions } from '../calendars/calendars.service.js'
import type { TicketKind } from '../kinds/kinds.js'
import type { Agreements, SlaService } from '../services/slas.service.js'
import type { NewTicket, Row } from '../tickets/tickets.repository.js'
import type { TicketService } from '../tickets/tickets.service.js'
import type { CreatePart, TicketChange, TicketSubscriber } from '../tickets/tickets.writer.js'
import type { WorkflowService } from '../workflows/workflows.service.js'
import { type ClockRow, percentOf, type Segment, segmentsOf, stateOf } from './clock-state.js'
import { armTimers, nextFireAt, SLA_TIMER_QUEUE } from './clock-timer.js'
import type { FiredAction } from './sla-clocks.schemas.js'

/**
 * The port the escalation module provides (`services.slaEscalations`): arms each SLA clock's next
 * threshold of its run, or disarms it, in the writing transaction. Hints spare queries: the SLA's
 * thresholds, that the clocks never fired, the ids just inserted (nothing to disarm).
 */
export interface ThresholdArming {
  arm(
    q: Queryable,
    clocks: readonly ClockRow[],
    hints?: {
      thresholds?: ReadonlyMap<string, readonly { percent: number; clock: string }[]>
      neverFired?: boolean
      fresh?: ReadonlySet<string>
    }
  ): Promise<unknown>
  /** The work items `arm` would write for clocks not yet written: a create statement writes them itself. */
  freshItems(
    q: Queryable,
    clocks: readonly ClockRow[],
    hints?: {
      thresholds?: ReadonlyMap<string, readonly { percent: number; clock: string }[]>
      calendars?: ReadonlyMap<string, BusinessCalendar>
    }
  ): Promise<WorkItemDraft[]>
  /** The thresholds fired on these clocks, oldest first, per clock id. */
  firingsOf(
    q: Queryable,
    clockIds: readonly string[]
  ): Promise<Map<string, { threshold: number; run: number; firedAt: Date; actions: Static<typeof FiredAction>[] }[]>>
}

type ClockDeps = Deps & {
  slaEscalations: ThresholdArming
  calendars: CalendarService
  slas: SlaService
  workflows: WorkflowService
  tickets: TicketService
}

/** A work item to write (the queue's row, before it has one). */
export interface WorkItemDraft {
  queue: string
  key: string
  payload: unknown
  dueAt: Date
}

/** The columns of a clock row by their SQL names, for a row given as JSON (jsonb_populate_recordset). */
const CLOCK_COLUMNS = Object.entries(getTableColumns(slaClocks)).map(([key, column]) => [key, column.name] as const)
const asJsonRow = (c: ClockRow): Record<string, unknown> =>
  Object.fromEntries(
    CLOCK_COLUMNS.map(([key, name]) => {
      const value = (c as unknown as Record<string, unknown>)[key]
      return [name, value instanceof Date ? value.toISOString() : (value ?? null)]
    })
  )

/** Calendars read once per write of clocks (every clock of a bulk edit counts on a few). */
type Cals = ReturnType<typeof calendarReader>

function calendarReader(q: Queryable) {
  const loaded = new Map<string, BusinessCalendar>()
  async function preload(ids: readonly string[]) {
    const missing = [...new Set(ids)].filter(id => !loaded.has(id))
    if (missing.length) for (const [id, cal] of await loadDefinitions(q, missing)) loaded.set(id, cal)
  }
  return {
    preload,
    async get(id: string): Promise<BusinessCalendar> {
      if (!loaded.has(id)) await preload([id])
      const cal = loaded.get(id)
      if (!cal) throw notFound('calendar')
      return cal
    }
  }
}

/** A clock being changed in memory before its row is written. */
type Draft = ClockRow & { dirty?: boolean; fresh?: boolean }

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const SOON = (a: Date, b: Date) => a.getTime() <= b.getTime()
const RETARGET_FIELDS = ['priority', 'serviceId', 'organisationId', 'kind'] as const

/**
 * SLA and OLA clocks of tickets: started with the ticket, paused and resumed by the workflow's pausing
 * statuses, stopped when met (response) or resolved, restarted on reopen, re-targeted when priority,
 * service, organisation or kind change; OLA clocks per team while the ticket is with it. A ticket
 * writer subscriber: every change is seen in its transaction. Business time is the calendars'.
 */
export function createClockService(deps: ClockDeps) {
  const { calendars, workflows } = deps
  /** The clock's idea of now (tests move it). */
  const clock = { now: () => new Date() }

  /** Business minutes counted in this run as of `now`. */
  async function elapsedOf(q: Queryable, c: ClockRow, now = clock.now()): Promise<number> {
    if (c.state !== 'running' || !c.runningSince) return c.elapsedMinutes
    return c.elapsedMinutes + Math.max(0, await calendars.minutesOn(q, c.calendarId, c.runningSince, now))
  }

  /**
   * A clock as of now: its state (running, paused, met, breached), elapsed business minutes and the
   * percent of its target used. What the API answers and the escalation code measures thresholds by.
   */
  async function clockNow(q: Queryable, c: ClockRow, now = clock.now()) {
    const elapsedMinutes = await elapsedOf(q, c, now)
    return {
      ...c,
      state: stateOf(c),
      elapsedMinutes,
      percentUsed: Math.round((10_000 * elapsedMinutes) / c.targetMinutes) / 100,
      segments: segmentsOf(c),
      asOf: now
    }
  }

  /** When a clock running from `from` reaches its target (null when its calendar never gets there). */
  async function dueFrom(cals: Cals, c: ClockRow, from: Date): Promise<Date | null> {
    const remaining = c.targetMinutes - c.elapsedMinutes
    if (remaining <= 0) return from
    return deadline(await cals.get(c.calendarId), from, remaining)
  }

  /** Business minutes counted in this run as of `now`, on calendars read once per write. */
  async function elapsedIn(cals: Cals, c: ClockRow, now: Date): Promise<number> {
    if (c.state !== 'running' || !c.runningSince) return c.elapsedMinutes
    return c.elapsedMinutes + Math.max(0, businessMinutes(await cals.get(c.calendarId), c.runningSince, now))
  }

  function segment(c: Draft, state: Segment['state'], now: Date, status: string | null) {
    const list = segmentsOf(c).map(s => (s.to === null ? { ...s, to: now.toISOString() } : s))
    list.push({ run: c.run, state, from: now.toISOString(), to: null, status })
    c.segments = list
    c.dirty = true
  }

  /** The running segment closes into `elapsed`. */
  async function bank(q: Cals, c: Draft, now: Date) {
    if (c.state === 'running' && c.runningSince) {
      c.elapsedMinutes = await elapsedIn(q, c, now)
      c.runningSince = null
    }
  }

  async function pause(q: Cals, c: Draft, now: Date, status: string) {
    if (c.state !== 'running') return
    await bank(q, c, now)
    if (!c.breachedAt && c.dueAt && SOON(c.dueAt, now)) c.breachedAt = c.dueAt
    Object.assign(c, { state: 'paused', pausedBy: status, dueAt: null })
    segment(c, 'paused', now, status)
  }

  async function resume(q: Cals, c: Draft, now: Date, status: string) {
    if (c.state !== 'paused') return
    Object.assign(c, { state: 'running', pausedBy: null, runningSince: now })
    c.dueAt = await dueFrom(q, c, now)
    segment(c, 'running', now, status)
  }

  async function stop(q: Cals, c: Draft, now: Date, status: string) {
    if (c.state === 'stopped') return
    const wasRunning = c.state === 'running'
    await bank(q, c, now)
    // Stopped past due before the timer fired: breached all the same, at its due time
    if (wasRunning && !c.breachedAt && c.dueAt && SOON(c.dueAt, now)) c.breachedAt = c.dueAt
    if (!c.breachedAt && c.elapsedMinutes > c.targetMinutes) c.breachedAt = now
    Object.assign(c, { state: 'stopped', stoppedAt: now, pausedBy: null })
    segment(c, 'stopped', now, status)
  }

  /** A new run from nothing (a reopen, a team taking the ticket back): run + 1, nothing elapsed. */
  async function restart(q: Cals, c: Draft, now: Date, status: string, pausing: boolean) {
    Object.assign(c, {
      run: c.run + 1,
      startedAt: now,
      elapsedMinutes: 0,
      breachedAt: null,
      stoppedAt: null,
      state: pausing ? 'paused' : 'running',
      pausedBy: pausing ? status : null,
      runningSince: pausing ? null : now,
      escalations: []
    })
    c.dueAt = pausing ? null : await dueFrom(q, c, now)
    segment(c, pausing ? 'paused' : 'running', now, status)
  }

  /**
   * New targets (priority, service, organisation or kind changed): a new run on the new agreement that
   * keeps the minutes already used and the segments so far; breached again only if past the new target.
   */
  async function retarget(
    q: Cals,
    c: Draft,
    now: Date,
    status: string,
    to: Pick<ClockRow, 'slaId' | 'olaId' | 'calendarId' | 'priority' | 'targetMinutes'>
  ) {
    if (c.state === 'stopped') return
    const same =
      c.slaId === to.slaId &&
      c.olaId === to.olaId &&
      c.calendarId === to.calendarId &&
      c.targetMinutes === to.targetMinutes
    if (same) {
      if (c.priority !== to.priority) Object.assign(c, { priority: to.priority, dirty: true })
      return
    }
    const running = c.state === 'running'
    await bank(q, c, now)
    Object.assign(c, to, { run: c.run + 1 })
    // What the escalation code needs of a re-targeted run: the run it follows, the minutes it starts with
    c.escalations = [{ run: c.run, retargetedFrom: c.run - 1, elapsedAtStart: c.elapsedMinutes }]
    c.breachedAt = c.elapsedMinutes >= c.targetMinutes ? (c.breachedAt ?? now) : null
    if (running) {
      c.runningSince = now
      c.dueAt = await dueFrom(q, c, now)
    }
    segment(c, running ? 'running' : 'paused', now, status)
  }

  function fresh(
    ticketId: string,
    agreement: 'sla' | 'ola',
    target: 'response' | 'resolution',
    values: Pick<ClockRow, 'slaId' | 'olaId' | 'teamId' | 'calendarId' | 'priority' | 'targetMinutes'>,
    now: Date
  ): Draft {
    return {
      id: uuidv7(),
      ticketId,
      agreement,
      target,
      ...values,
      run: 0,
      state: 'stopped',
      startedAt: now,
      runningSince: null,
      elapsedMinutes: 0,
      dueAt: null,
      breachedAt: null,
      stoppedAt: now,
      pausedBy: null,
      segments: [],
      escalations: [],
      createdAt: now,
      updatedAt: now,
      fresh: true
    }
  }

  /** The clock rows an agreement pair starts (not yet running: `restart` starts them as run 1). */
  function clocksFor(ticketId: string, found: Agreements, teamId: string | null, now: Date): Draft[] {
    const { sla, target } = found
    const out: Draft[] = []
    for (const which of ['response', 'resolution'] as const) {
      const minutes = which === 'response' ? target.responseMinutes : target.resolutionMinutes
      const base = { slaId: sla.id, calendarId: sla.calendarId, priority: target.priority, targetMinutes: minutes }
      out.push(fresh(ticketId, 'sla', which, { ...base, olaId: null, teamId: null }, now))
    }
    if (found.ola && teamId) out.push(...olaClocks(ticketId, found, teamId, now))
    return out
  }

  function olaClocks(ticketId: string, found: Agreements, teamId: string, now: Date): Draft[] {
    if (!found.ola) return []
    const { ola, target } = found.ola
    return (['response', 'resolution'] as const).map(which =>
      fresh(
        ticketId,
        'ola',
        which,
        {
          slaId: found.sla.id,
          olaId: ola.id,
          teamId,
          calendarId: ola.calendarId,
          priority: target.priority,
          targetMinutes: which === 'response' ? target.responseMinutes : target.resolutionMinutes
        },
        now
      )
    )
  }

  const agreementsOf = (match: Awaited<ReturnType<SlaService['matcher']>>, row: Row) =>
    match.agreementsFor({
      kind: row.kind,
      priority: row.priority,
      serviceId: row.serviceId,
      organisationId: row.organisationId,
      teamId: row.teamId
    })

  /**
   * Writes the changed clocks set-wise: the new ones in one INSERT, the changed ones in one UPDATE over
   * unnest(…); then their breach timers and their next escalation thresholds, each set in one statement.
   */
  async function write(tx: Tx, list: Draft[], hints: { thresholds?: Agreements['sla'][]; neverFired?: boolean } = {}) {
    const now = clock.now()
    const fresh = list.filter(c => c.fresh)
    if (fresh.length) {
      await tx.insert(slaClocks).values(
        fresh.map(c => {
          const { dirty: _d, fresh: _f, ...row } = c
          return { ...row, createdAt: now, updatedAt: now }
        })
      )
    }
    const changed = list.filter(c => !c.fresh && c.dirty)
    if (changed.length) {
      const col = <T>(f: (c: Draft) => T, type: string) => sqlArray(changed.map(f), type)
      const at = (d: Date | null) => d?.toISOString() ?? null
      await tx.execute(sql`
        UPDATE sla_clocks AS c SET sla_id = v.sla_id, ola_id = v.ola_id, calendar_id = v.calendar_id,
          priority = v.priority, target_minutes = v.target_minutes, run = v.run, state = v.state,
          started_at = v.started_at, running_since = v.running_since, elapsed_minutes = v.elapsed_minutes,
          due_at = v.due_at, breached_at = v.breached_at, stopped_at = v.stopped_at, paused_by = v.paused_by,
          segments = v.segments, escalations = v.escalations, updated_at = ${now.toISOString()}::timestamptz
        FROM unnest(${col(c => c.id, 'uuid')}, ${col(c => c.slaId, 'uuid')}, ${col(c => c.olaId, 'uuid')},
                    ${col(c => c.calendarId, 'uuid')}, ${col(c => c.priority, 'int')}, ${col(c => c.targetMinutes, 'int')},
                    ${col(c => c.run, 'int')}, ${col(c => c.state, 'text')}, ${col(c => at(c.startedAt), 'timestamptz')},
                    ${col(c => at(c.runningSince), 'timestamptz')}, ${col(c => c.elapsedMinutes, 'float8')},
                    ${col(c => at(c.dueAt), 'timestamptz')}, ${col(c => at(c.breachedAt), 'timestamptz')},
                    ${col(c => at(c.stoppedAt), 'timestamptz')}, ${col(c => c.pausedBy, 'text')},
                    ${col(c => JSON.stringify(c.segments ?? []), 'jsonb')}, ${col(c => JSON.stringify(c.escalations ?? []), 'jsonb')})
          AS v(id, sla_id, ola_id, calendar_id, priority, target_minutes, run, state, started_at, running_since,
               elapsed_minutes, due_at, breached_at, stopped_at, paused_by, segments, escalations)
        WHERE c.id = v.id`)
    }
    const written = [...fresh, ...changed]
    if (written.length === 0) return
    const freshIds = new Set(fresh.map(c => c.id))
    await armTimers(tx, written, freshIds)
    await deps.slaEscalations.arm(tx, written, {
      fresh: freshIds,
      neverFired: hints.neverFired,
      thresholds: hints.thresholds ? new Map(hints.thresholds.map(s => [s.id, s.escalations] as const)) : undefined
    })
  }

  const metByReply = (change: TicketChange) => !!change.note && !change.note.internal && isStaff(change.actor)

  /**
   * Whether a clock may move with this change. Nothing a clock depends on changed (a layer move, a field
   * edit): nothing to read. A clock moves with the status, the team, the re-target fields, a note (a
   * reply) or a new assignee (OLA response).
   */
  const moves = ({ before, after, note }: TicketChange) =>
    !(
      before &&
      !note &&
      before.status === after.status &&
      before.teamId === after.teamId &&
      (!after.assigneeId || after.assigneeId === before.assigneeId) &&
      RETARGET_FIELDS.every(f => before[f] === after[f])
    )

  /** What one set of changes reads once: workflows per kind, the active agreements, calendars. */
  type Env = {
    workflow(kind: TicketKind): Promise<Awaited<ReturnType<WorkflowService['get']>>>
    agreementsOf(row: Row): Agreements | null
    responseMetBy(slaId: string): Promise<string>
  }

  /**
   * The changes of one write (one ticket, or a bulk edit of a thousand) in its transaction, set-wise:
   * the clocks of all their tickets locked in one statement, workflows, agreements and calendars read
   * once, each change applied in memory in order, and the clocks written in a constant number of
   * statements (one INSERT, one UPDATE, the timers and thresholds armed in a few more).
   */
  async function onChanges(ctx: TxCtx, all: readonly TicketChange[]) {
    const tx = ctx.db
    const changes = all.filter(moves)
    if (changes.length === 0) return
    const now = clock.now()
    const workflowsRead = new Map<string, ReturnType<WorkflowService['get']>>()
    const match = await deps.slas.matcher(tx)
    const env: Env = {
      workflow: kind => {
        const read = workflowsRead.get(kind) ?? workflows.get(kind, tx)
        workflowsRead.set(kind, read)
        return read
      },
      agreementsOf: row => agreementsOf(match, row),
      responseMetBy: slaId => match.responseMetBy(slaId)
    }
    // A ticket just created has no clocks yet
    const existing = [...new Set(changes.filter(c => c.before).map(c => c.ticketId))]
    const rows: Draft[] = existing.length
      ? await tx
          .select()
          .from(slaClocks)
          .where(sql`${slaClocks.ticketId} = any(${sqlArray(existing, 'uuid')})`)
          .orderBy(asc(slaClocks.ticketId), asc(slaClocks.createdAt), asc(slaClocks.id))
          .for('update')
      : []
    const byTicket = new Map<string, Draft[]>()
    for (const r of rows) byTicket.set(r.ticketId, [...(byTicket.get(r.ticketId) ?? []), r])
    const cals = calendarReader(tx)
    await cals.preload(rows.map(r => r.calendarId))
    const thresholds = new Map<string, Agreements['sla']>()
    for (const change of changes) {
      const clocks = byTicket.get(change.ticketId) ?? []
      byTicket.set(change.ticketId, clocks)
      const found = await applyChange(change, clocks, env, cals, now)
      if (found) thresholds.set(found.sla.id, found.sla)
    }
    await write(tx, [...byTicket.values()].flat(), {
      thresholds: [...thresholds.values()],
      neverFired: changes.every(c => !c.before)
    })
  }

  /**
   * One change of one ticket on its clocks (loaded and locked; new ones pushed), in memory. Answers the
   * agreements it matched when it read them (their thresholds spare the arming a query).
   */
  async function applyChange(change: TicketChange, clocks: Draft[], env: Env, cals: Cals, now: Date) {
    const { before, after } = change
    const wf = await env.workflow(change.kind)
    const status = wf.status(after.status)
    const pausing = !!status?.pausesSla
    const open = (status?.phase ?? 'open') === 'open'
    const startAll = async (list: Draft[]) => {
      for (const c of list) await restart(cals, c, now, after.status, pausing || !open)
      clocks.push(...list)
    }

    // A create started its clocks in its own statement (createPart)
    if (!before) return null
    const beforeWf = before.kind === after.kind ? wf : await env.workflow(before.kind as TicketKind)
    const wasOpen = (beforeWf.status(before.status)?.phase ?? 'open') === 'open'
    const sla = clocks.filter(c => c.agreement === 'sla')

    // Re-target: new agreements for the new priority, service, organisation or kind
    const retargeting = RETARGET_FIELDS.some(f => before[f] !== after[f])
    const teamMoved = before.teamId !== after.teamId
    const found = retargeting || teamMoved || sla.length === 0 ? env.agreementsOf(after) : undefined
    if (retargeting && found) {
      if (sla.length === 0 && open) await startAll(clocksFor(after.id, found, after.teamId, now))
      for (const c of sla) {
        const t = found.target
        await retarget(cals, c, now, after.status, {
          slaId: found.sla.id,
          olaId: null,
          calendarId: found.sla.calendarId,
          priority: t.priority,
          targetMinutes: c.target === 'response' ? t.responseMinutes : t.resolutionMinutes
        })
      }
      if (found.ola && !teamMoved) {
        for (const c of clocks.filter(c => c.agreement === 'ola' && c.teamId === after.teamId)) {
          const t = found.ola.target
          await retarget(cals, c, now, after.status, {
            slaId: found.sla.id,
            olaId: found.ola.ola.id,
            calendarId: found.ola.ola.calendarId,
            priority: t.priority,
            targetMinutes: c.target === 'response' ? t.responseMinutes : t.resolutionMinutes
          })
        }
      }
    }

    // The team changed: the old team's OLA clocks stop, the new team's start (again, as a new run)
    if (teamMoved) {
      for (const c of clocks.filter(c => c.agreement === 'ola' && c.teamId !== after.teamId))
        await stop(cals, c, now, after.status)
      if (after.teamId && found?.ola && open) {
        const mine = clocks.filter(c => c.agreement === 'ola' && c.teamId === after.teamId)
        if (mine.length === 0) await startAll(olaClocks(after.id, found, after.teamId, now))
        else for (const c of mine) await restart(cals, c, now, after.status, pausing)
      }
    }

    // Response met: by the first public reply from staff or by leaving the initial status (per SLA)
    const response = sla.find(c => c.target === 'response' && c.state !== 'stopped')
    if (response) {
      const replied = metByReply(change)
      const leftNew = before.status === beforeWf.initial && after.status !== beforeWf.initial
      if (replied || leftNew) {
        const metBy = await env.responseMetBy(response.slaId!)
        if ((metBy === 'first_public_reply' && replied) || (metBy === 'leaves_new' && leftNew))
          await stop(cals, response, now, after.status)
      }
    }
    // A team's OLA response: someone of the team took it, or answered the requester
    for (const c of clocks) {
      if (c.agreement !== 'ola' || c.target !== 'response' || c.state === 'stopped' || c.teamId !== after.teamId)
        continue
      if ((after.assigneeId && after.assigneeId !== before.assigneeId) || metByReply(change))
        await stop(cals, c, now, after.status)
    }

    if (wasOpen && !open) {
      // Resolved or closed: every clock stops
      for (const c of clocks) await stop(cals, c, now, after.status)
    } else if (!wasOpen && open) {
      // Reopened: the resolution clocks start a new run
      for (const c of clocks) {
        if (c.target !== 'resolution') continue
        if (c.agreement === 'ola' && c.teamId !== after.teamId) continue
        await restart(cals, c, now, after.status, pausing)
      }
    } else if (open) {
      for (const c of clocks) {
        if (c.agreement === 'ola' && c.teamId !== after.teamId) continue
        if (pausing) await pause(cals, c, now, after.status)
        else await resume(cals, c, now, after.status)
      }
    }
    return found ?? null
  }

  /**
   * The clocks a create starts, as part of its one statement: the SLA is not known before the
   * statement reads the requester's organisation, so each agreement the ticket may get is computed
   * here (its clocks run, with their due times, breach timers and first thresholds) and the statement
   * keeps the first whose organisation fits, as `agreementsFor` would pick. The answer's `sla` object
   * is worked out from the same pick once the row is back. Nothing when no SLA could apply.
   */
  async function createPart(_ctx: Ctx, ticket: NewTicket, q: Queryable): Promise<CreatePart | null> {
    if (!(await deps.slas.anyFor(q, ticket.kind))) return null
    const wf = await workflows.get(ticket.kind, q)
    const status = wf.status(ticket.status)
    if ((status?.phase ?? 'open') !== 'open') return null
    const candidates = await deps.slas.candidatesFor(q, {
      kind: ticket.kind,
      priority: ticket.priority,
      serviceId: ticket.serviceId,
      teamId: ticket.teamId
    })
    if (candidates.length === 0) return null
    const now = clock.now()
    const pausing = !!status?.pausesSla
    const definitions = await calendars.definitionsOn(
      q,
      candidates.flatMap(c => [c.sla.calendarId, ...(c.ola ? [c.ola.ola.calendarId] : [])])
    )
    // Due times on the cached calendars: no read in the create
    const cals: Cals = {
      preload: async () => {},
      get: async (id: string) => {
        const found = definitions.get(id)
        if (!found) throw notFound('calendar')
        return found
      }
    }
    const picks: { organisationId: string | null; clocks: Draft[] }[] = []
    const rows: { rank: number; org: string | null; clocks: unknown[]; items: unknown[] }[] = []
    for (const [rank, found] of candidates.entries()) {
      const drafts = clocksFor(ticket.id, found, ticket.teamId, now)
      for (const c of drafts) await restart(cals, c, now, ticket.status, pausing)
      const items: WorkItemDraft[] = []
      for (const c of drafts) {
        const at = nextFireAt(c)
        if (at)
          items.push({
            queue: SLA_TIMER_QUEUE,
            key: c.id,
            dueAt: at,
            payload: { clockId: c.id, run: c.run, dueAt: at.toISOString() }
          })
      }
      items.push(
        ...(await deps.slaEscalations.freshItems(q, drafts, {
          thresholds: new Map([[found.sla.id, found.sla.escalations]]),
          calendars: definitions
        }))
      )
      picks.push({ organisationId: found.organisationId, clocks: drafts })
      rows.push({
        rank,
        org: found.organisationId,
        clocks: drafts.map(c => asJsonRow({ ...c, createdAt: now, updatedAt: now })),
        items: items.map(i => ({
          id: uuidv7(),
          queue: i.queue,
          key: i.key,
          payload: i.payload,
          due_at: i.dueAt.toISOString(),
          max_attempts: DEFAULT_MAX_ATTEMPTS
        }))
      })
    }
    const pick: SQL = sql`SELECT x.clocks, x.items
      FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS x(rank int, org uuid, clocks jsonb, items jsonb)
      JOIN t ON x.org IS NULL OR x.org = t.organisation_id
      ORDER BY x.rank LIMIT 1`
    return {
      ctes: [
        { name: 'sla_pick', sql: pick },
        {
          name: 'sla_clocks_in',
          sql: sql`INSERT INTO sla_clocks SELECT r.* FROM sla_pick, jsonb_populate_recordset(NULL::sla_clocks, sla_pick.clocks) r`
        },
        {
          name: 'sla_items_in',
          sql: sql`INSERT INTO work_items (id, queue, key, payload, due_at, max_attempts)
            SELECT i.id, i.queue, i.key, i.payload, i.due_at, i.max_attempts FROM sla_pick,
              jsonb_to_recordset(sla_pick.items) AS i(id uuid, queue text, key text, payload jsonb, due_at timestamptz, max_attempts int)`
        }
      ],
      answer: row => {
        const picked = picks.find(p => p.organisationId === null || p.organisationId === row.organisationId)
        return picked ? { sla: summaryOfDrafts(picked.clocks) } : {}
      }
    }
  }

  /** The compact `sla` object of clocks just started (as the reads answer it, elapsed 0 as of now). */
  function summaryOfDrafts(drafts: readonly Draft[]) {
    const out: Record<'response' | 'resolution', unknown> = { response: null, resolution: null }
    for (const c of drafts) {
      if (c.agreement !== 'sla') continue
      const state = stateOf(c)
      out[c.target] = {
        state,
        dueAt: c.dueAt,
        breached: state === 'breached',
        percentUsed: percentOf(c.elapsedMinutes, c.targetMinutes)
      }
    }
    return out
  }

  const subscriber: TicketSubscriber = {
    name: 'sla-clocks',
    // A create's clocks are part of its statement (createPart): nothing to be told of afterwards
    types: ['updated', 'assigned', 'transitioned', 'noted', 'reclassified'],
    createPart,
    onChange: (ctx, change) => onChanges(ctx, [change]),
    // A bulk edit or an escalation batch: every ticket's clocks in a constant number of statements
    onChanges
  }

  /** The clocks of tickets, SLA first, response before resolution. */
  async function clocksOf(q: Queryable, ticketIds: readonly string[]): Promise<ClockRow[]> {
    if (ticketIds.length === 0) return []
    return q
      .select()
      .from(slaClocks)
      .where(inArray(slaClocks.ticketId, [...ticketIds]))
      .orderBy(
        asc(slaClocks.ticketId),
        sql`${slaClocks.agreement} = 'ola'`,
        asc(slaClocks.createdAt),
        sql`${slaClocks.target} = 'resolution'`
      )
  }

  /** Customers see the SLA's clocks; OLAs are the desk's own business. */
  const visibleClock = (actor: Actor) => (c: ClockRow) => c.agreement === 'sla' || canSeeInternal(actor)

  return {
    clock,
    subscriber,
    clockNow,
    elapsedOf,
    clocksOf,

    /** GET /tickets/{id}/sla and ticketSla: every clock of a ticket you may see, as of now. */
    async ticketSla(ctx: Ctx, idOrNumber: string) {
      authorize(ctx.actor, 'ticket.read')
      const ticket = UUID.test(idOrNumber)
        ? await deps.tickets.visible(ctx, null, idOrNumber.toLowerCase())
        : await deps.tickets.getByNumber(ctx, idOrNumber)
      const now = clock.now()
      const rows = (await clocksOf(ctx.db, [ticket.id])).filter(visibleClock(ctx.actor))
      const fired = await deps.slaEscalations.firingsOf(
        ctx.db,
        rows.map(c => c.id)
      )
      const clocks = await Promise.all(rows.map(c => clockNow(ctx.db, c, now)))
      return {
        ticketId: ticket.id,
        asOf: now,
        clocks: clocks.map(c => ({ ...c, escalations: fired.get(c.id) ?? [] }))
      }
    }
  }
}

export type ClockService = ReturnType<typeof createClockService>
