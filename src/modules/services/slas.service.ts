import { and, eq, sql } from 'drizzle-orm'
import { authorize } from '../../auth/policy.js'
import { calendars, olas, organisations, services, slas, teams } from '../../db/schema/index.js'
import { canonical } from '../../lib/canonical.js'
import type { Ctx, Deps, Queryable, Tx } from '../../lib/context.js'
import { encodeCursor } from '../../lib/cursor.js'
import { conflict, type FieldError, validationFailed } from '../../lib/errors.js'
import { columnKeyset, textKeyset } from '../../lib/keyset.js'
import { adminResource } from '../admin/admin-resource.js'
import { type CalendarService, isForeignKeyViolation } from '../calendars/calendars.service.js'
import { checkEscalations } from './sla-escalations.js'
import type {
  CreateOlaInput,
  CreateSlaInput,
  EscalationInput,
  OlaListInput,
  SimulateInput,
  SlaListInput,
  SlaWarning,
  TargetInput,
  UpdateOlaInput,
  UpdateSlaInput
} from './slas.schemas.js'

export type SlaRow = Omit<typeof slas.$inferSelect, 'targets' | 'responseMetBy' | 'escalations'> & {
  targets: TargetInput[]
  escalations: EscalationInput[]
  responseMetBy: 'first_public_reply' | 'leaves_new'
}
export type OlaRow = Omit<typeof olas.$inferSelect, 'targets'> & { targets: TargetInput[] }

const slaView = (r: SlaRow) => ({
  id: r.id,
  name: r.name,
  calendarId: r.calendarId,
  order: r.order,
  conditions: { serviceId: r.serviceId, organisationId: r.organisationId, kind: r.kind, priority: r.priority },
  targets: r.targets,
  responseMetBy: r.responseMetBy,
  escalations: r.escalations,
  active: r.active,
  version: r.version,
  createdAt: r.createdAt,
  updatedAt: r.updatedAt
})
const olaView = (r: OlaRow) => ({ ...r })

/** Targets as stored: sorted by priority, one each (422 naming the repeat). */
function checkTargets(targets: TargetInput[], errors: FieldError[]) {
  const seen = new Set<number>()
  targets.forEach((t, i) => {
    if (seen.has(t.priority)) errors.push({ field: `targets.${i}.priority`, message: 'one target per priority' })
    seen.add(t.priority)
    if (t.resolutionMinutes < t.responseMinutes)
      errors.push({ field: `targets.${i}.resolutionMinutes`, message: 'cannot be shorter than the response target' })
  })
  return [...targets].sort((a, b) => a.priority - b.priority)
}

async function exists(
  q: Queryable,
  table: typeof teams | typeof calendars | typeof services | typeof organisations,
  id: string
) {
  const [row] = await q.select({ id: table.id }).from(table).where(eq(table.id, id))
  return !!row
}

async function checkRef(
  q: Queryable,
  errors: FieldError[],
  field: string,
  table: typeof teams | typeof calendars | typeof services | typeof organisations,
  id: string | null | undefined,
  noun: string
) {
  if (id && !(await exists(q, table, id.toLowerCase()))) errors.push({ field, message: `no such ${noun}` })
}

const slaKeyset = columnKeyset<SlaRow, number>(
  'order',
  slas.order,
  slas.id,
  r => r.order,
  v => (typeof v === 'number' && Number.isInteger(v) ? v : null)
)
/** The cursor of an SLA as both doors answer it (lists page by order, then id). */
export const slaCursorOf = (v: { id: string; order: number }) =>
  encodeCursor({ sort: 'order', value: v.order, id: v.id })
export const olaKeyset = textKeyset<OlaRow>('name', olas.name, olas.id, r => r.name)

const SLA_FIELDS = [
  'name',
  'calendarId',
  'order',
  'serviceId',
  'organisationId',
  'kind',
  'priority',
  'targets',
  'responseMetBy',
  'escalations',
  'active'
] as const
const OLA_FIELDS = ['name', 'teamId', 'calendarId', 'targets', 'slaIds', 'active'] as const

/** How many of an SLA's conditions are set (all of them matched): the more, the more specific. */
const specificity = (s: SlaRow) => [s.serviceId, s.organisationId, s.kind, s.priority].filter(v => v !== null).length

/** What picks a ticket's agreements. */
export interface AgreementQuery {
  kind: string
  priority: number
  serviceId?: string | null
  organisationId?: string | null
  teamId?: string | null
}
export interface Agreements {
  sla: SlaRow
  target: TargetInput
  ola: { ola: OlaRow; target: TargetInput } | null
}

/** A delete refused by a foreign key (a ticket's clock names the row) is a 409. */
async function inUse(noun: string, remove: () => Promise<void>) {
  try {
    await remove()
  } catch (err) {
    if (isForeignKeyViolation(err)) throw conflict(`the ${noun} is in use by ticket clocks: deactivate it instead`)
    throw err
  }
}

/** SLAs and OLAs: admins write, staff read; simulate says what a described ticket would get. */
export function createSlaService({ db, config, calendars: calendarService }: Deps & { calendars: CalendarService }) {
  /**
   * The active SLAs and OLAs, which every ticket create and re-target matches against: cached per
   * process for AUTH_CACHE_TTL_MS (0: read every time, in the caller's transaction). A write here drops
   * the cache at once; another process sees it when its cache runs out.
   */
  const ttl = config.AUTH_CACHE_TTL_MS
  const thresholdListeners: ((tx: Tx, slaId: string) => Promise<void>)[] = []
  let active: { slas: SlaRow[]; olas: OlaRow[]; until: number } | null = null
  let generation = 0
  const changed = () => {
    active = null
    generation++
  }
  async function loadActive(q: Queryable) {
    const slaRows = (await q
      .select()
      .from(slas)
      .where(eq(slas.active, true))
      .orderBy(slas.order, slas.name)) as SlaRow[]
    const olaRows = (await q.select().from(olas).where(eq(olas.active, true)).orderBy(olas.name)) as OlaRow[]
    return { slas: slaRows, olas: olaRows }
  }
  async function activeAgreements(q: Queryable) {
    if (ttl === 0) return loadActive(q)
    if (active && active.until > Date.now()) return active
    const startedAt = generation
    // The caller's handle: inside a transaction on PGlite (one connection) another would wait forever
    const loaded = await loadActive(q)
    // A load that began before an invalidation must not put what it read back
    if (startedAt === generation) active = { ...loaded, until: Date.now() + ttl }
    return loaded
  }

  const slaResource = adminResource<SlaRow, ReturnType<typeof slaView>>(db, {
    table: slas,
    id: slas.id,
    version: slas.version,
    entityType: 'sla',
    noun: 'SLA',
    fields: SLA_FIELDS,
    unique: { slas_name_uq: { field: 'name', message: 'an SLA with this name exists' } },
    view: slaView,
    authorizeRead: ctx => authorize(ctx.actor, 'ticket.readInternal'),
    authorizeWrite: ctx => authorize(ctx.actor, 'config.manage'),
    changed
  })
  const olaResource = adminResource<OlaRow, OlaRow>(db, {
    table: olas,
    id: olas.id,
    version: olas.version,
    entityType: 'ola',
    noun: 'OLA',
    fields: OLA_FIELDS,
    unique: { olas_name_uq: { field: 'name', message: 'an OLA with this name exists' } },
    view: olaView,
    authorizeRead: ctx => authorize(ctx.actor, 'ticket.readInternal'),
    authorizeWrite: ctx => authorize(ctx.actor, 'config.manage'),
    changed
  })

  /**
   * For each SLA named: per priority and target, the active OLAs underpinning it summed (the layers a
   * ticket passes through) against the SLA's own target. Minutes are compared as they are, whatever
   * calendars the two count in.
   */
  async function warningsFor(q: Queryable, slaIds: readonly string[]): Promise<SlaWarning[]> {
    const out: SlaWarning[] = []
    for (const slaId of new Set(slaIds)) {
      const [sla] = (await q.select().from(slas).where(eq(slas.id, slaId))) as SlaRow[]
      if (!sla) continue
      const under = (await q
        .select()
        .from(olas)
        .where(and(eq(olas.active, true), sql`${slaId}::uuid = any(${olas.slaIds})`))
        .orderBy(olas.name)) as OlaRow[]
      if (under.length === 0) continue
      for (const target of sla.targets) {
        for (const which of ['response', 'resolution'] as const) {
          const key = which === 'response' ? 'responseMinutes' : 'resolutionMinutes'
          const contributing = under.filter(o => o.targets.some(t => t.priority === target.priority))
          const sum = contributing.reduce((n, o) => n + o.targets.find(t => t.priority === target.priority)![key], 0)
          if (sum > target[key]) {
            out.push({
              slaId,
              priority: target.priority,
              target: which,
              slaMinutes: target[key],
              olaMinutes: sum,
              olaIds: contributing.map(o => o.id),
              message: `the OLAs' ${which} targets for priority ${target.priority} add up to ${sum} minutes, more than the SLA's ${target[key]}`
            })
          }
        }
      }
    }
    return out
  }

  const slaWithWarnings = async (v: ReturnType<typeof slaView>) => ({ ...v, warnings: await warningsFor(db, [v.id]) })
  const olaWithWarnings = async (v: OlaRow) => ({
    ...v,
    warnings: (await warningsFor(db, v.slaIds)).filter(w => w.olaIds.includes(v.id))
  })

  async function slaValues(q: Queryable, input: Partial<CreateSlaInput>) {
    const errors: FieldError[] = []
    await checkRef(q, errors, 'calendarId', calendars, input.calendarId, 'calendar')
    const c = input.conditions
    await checkRef(q, errors, 'conditions.serviceId', services, c?.serviceId, 'service')
    await checkRef(q, errors, 'conditions.organisationId', organisations, c?.organisationId, 'organisation')
    const targets = input.targets ? checkTargets(input.targets, errors) : undefined
    const priority = c?.priority ?? null
    if (c && targets && priority !== null && !targets.some(t => t.priority === priority))
      errors.push({ field: 'targets', message: `needs a target for priority ${priority}, the one it matches` })
    const escalations = input.escalations ? await checkEscalations(q, input.escalations, errors) : undefined
    if (errors.length) throw validationFailed(errors)
    const set: Record<string, unknown> = {}
    for (const k of ['name', 'order', 'responseMetBy', 'active'] as const) if (input[k] !== undefined) set[k] = input[k]
    if (input.name !== undefined) set.name = input.name.trim()
    if (input.calendarId) set.calendarId = input.calendarId.toLowerCase()
    if (targets) set.targets = targets
    if (escalations) set.escalations = escalations
    if (c) {
      set.serviceId = c.serviceId?.toLowerCase() ?? null
      set.organisationId = c.organisationId?.toLowerCase() ?? null
      set.kind = c.kind ?? null
      set.priority = priority
    }
    return set
  }

  async function olaValues(q: Queryable, input: Partial<CreateOlaInput>) {
    const errors: FieldError[] = []
    await checkRef(q, errors, 'teamId', teams, input.teamId, 'team')
    await checkRef(q, errors, 'calendarId', calendars, input.calendarId, 'calendar')
    const targets = input.targets ? checkTargets(input.targets, errors) : undefined
    const slaIds = input.slaIds ? [...new Set(input.slaIds.map(id => id.toLowerCase()))].sort() : undefined
    for (const [i, id] of (input.slaIds ?? []).entries()) {
      const [found] = await q.select({ id: slas.id }).from(slas).where(eq(slas.id, id.toLowerCase()))
      if (!found) errors.push({ field: `slaIds.${i}`, message: 'no such SLA' })
    }
    if (errors.length) throw validationFailed(errors)
    const set: Record<string, unknown> = {}
    if (input.name !== undefined) set.name = input.name.trim()
    if (input.teamId) set.teamId = input.teamId.toLowerCase()
    if (input.calendarId) set.calendarId = input.calendarId.toLowerCase()
    if (targets) set.targets = targets
    if (slaIds) set.slaIds = slaIds
    if (input.active !== undefined) set.active = input.active
    return set
  }

  /**
   * The SLA a described ticket gets and, when a team holds it, that team's OLA under it (with the
   * targets for its priority), or null: the rule simulate answers and the ticket clocks start by.
   */
  async function agreementsFor(q: Queryable, input: AgreementQuery): Promise<Agreements | null> {
    return match(await activeAgreements(q), input)
  }

  /** The agreements a ticket gets from loaded agreements (see agreementsFor). */
  function match(loaded: { slas: SlaRow[]; olas: OlaRow[] }, input: AgreementQuery): Agreements | null {
    return ordered(loaded, input, true)[0] ?? null
  }

  /**
   * What a described ticket may get whatever its organisation (a create learns it from the requester
   * in its one statement): the agreements in the order `agreementsFor` tries them, each with the
   * organisation its SLA names (null: any). The first whose organisation fits is what `agreementsFor`
   * answers for that organisation; none fits: no SLA.
   */
  async function candidatesFor(
    q: Queryable,
    input: Omit<AgreementQuery, 'organisationId'>
  ): Promise<(Agreements & { organisationId: string | null })[]> {
    const out: (Agreements & { organisationId: string | null })[] = []
    for (const found of ordered(await activeAgreements(q), input, false)) {
      out.push({ ...found, organisationId: found.sla.organisationId })
      // Nothing after an SLA for any organisation can be picked
      if (found.sla.organisationId === null) break
    }
    return out
  }

  /** The matching agreements, most specific first (ties keep the order/name order); the organisation only `byOrganisation`. */
  function ordered(
    { slas: candidates, olas: underpinning }: { slas: SlaRow[]; olas: OlaRow[] },
    input: AgreementQuery,
    byOrganisation: boolean
  ): Agreements[] {
    const is = (cond: string | number | null, value: string | number | null | undefined) =>
      cond === null || (value !== undefined && value !== null && String(cond) === String(value).toLowerCase())
    const matching = candidates.filter(
      s =>
        is(s.serviceId, input.serviceId) &&
        (!byOrganisation || is(s.organisationId, input.organisationId)) &&
        is(s.kind, input.kind) &&
        is(s.priority, input.priority) &&
        s.targets.some(t => t.priority === input.priority)
    )
    // Stable sort: equal specificity keeps the order/name order
    return [...matching]
      .sort((a, b) => specificity(b) - specificity(a))
      .map(sla => {
        const target = sla.targets.find(t => t.priority === input.priority)!
        let ola: Agreements['ola'] = null
        if (input.teamId) {
          const team = input.teamId.toLowerCase()
          const o = underpinning.find(
            x => x.teamId === team && x.slaIds.includes(sla.id) && x.targets.some(t => t.priority === input.priority)
          )
          if (o) ola = { ola: o, target: o.targets.find(t => t.priority === input.priority)! }
        }
        return { sla, target, ola }
      })
  }

  /** Whether any active SLA could apply to a ticket of this kind (else a create starts no clock). */
  async function anyFor(q: Queryable, kind: string): Promise<boolean> {
    const { slas: candidates } = await activeAgreements(q)
    return candidates.some(s => s.kind === null || s.kind === kind)
  }

  /** How an SLA's response clock is met (first_public_reply or leaves_new). */
  async function responseMetBy(q: Queryable, slaId: string, loaded?: { slas: SlaRow[] }) {
    const found = (loaded ?? (await activeAgreements(q))).slas.find(s => s.id === slaId)
    if (found) return found.responseMetBy
    const [row] = await q.select({ metBy: slas.responseMetBy }).from(slas).where(eq(slas.id, slaId))
    return row?.metBy ?? 'first_public_reply'
  }

  /**
   * The active agreements read once for many tickets (a bulk edit's clocks): `agreementsFor` and
   * `responseMetBy` without a query each, whatever the cache's TTL.
   */
  async function matcher(q: Queryable) {
    const loaded = await activeAgreements(q)
    return {
      agreementsFor: (input: AgreementQuery) => match(loaded, input),
      responseMetBy: (slaId: string) => responseMetBy(q, slaId, loaded)
    }
  }

  return {
    /**
     * Told, inside the update's transaction, when an SLA's escalation thresholds change (the escalation
     * module re-arms the running clocks of that SLA). Answers a function removing the listener.
     */
    onThresholdsChanged(listener: (tx: Tx, slaId: string) => Promise<void>) {
      thresholdListeners.push(listener)
      return () => {
        const i = thresholdListeners.indexOf(listener)
        if (i >= 0) thresholdListeners.splice(i, 1)
      }
    },
    agreementsFor,
    candidatesFor,
    anyFor,
    responseMetBy,
    matcher,
    slas: {
      get: async (ctx: Ctx, id: string) => slaWithWarnings(await slaResource.get(ctx, id)),
      list: (ctx: Ctx, input: SlaListInput) =>
        slaResource.list(ctx, input, slaKeyset, [
          input.active !== undefined ? eq(slas.active, input.active) : undefined,
          input.serviceId ? eq(slas.serviceId, input.serviceId.toLowerCase()) : undefined
        ]),
      create: async (ctx: Ctx, input: CreateSlaInput) =>
        slaWithWarnings(await slaResource.create(ctx, tx => slaValues(tx, input))),
      /** New thresholds re-arm the running clocks of this SLA in the same transaction (the listeners). */
      update: async (ctx: Ctx, id: string, input: UpdateSlaInput, expectedVersion?: number) =>
        slaWithWarnings(
          await slaResource.update(
            ctx,
            id,
            expectedVersion,
            tx => slaValues(tx, input),
            async (tx, before, after) => {
              if (JSON.stringify(canonical(before.escalations)) === JSON.stringify(canonical(after.escalations))) return
              for (const listener of thresholdListeners) await listener(tx, id)
            }
          )
        ),
      /** 409 while an OLA underpins it or a ticket's clock counts on it. */
      remove: (ctx: Ctx, id: string, expectedVersion?: number) =>
        inUse('SLA', () =>
          slaResource.remove(ctx, id, expectedVersion, async (tx, before) => {
            const [under] = await tx
              .select({ id: olas.id })
              .from(olas)
              .where(sql`${before.id}::uuid = any(${olas.slaIds})`)
              .limit(1)
            if (under) throw conflict('an OLA underpins the SLA: take it out of the OLA first')
          })
        )
    },
    olas: {
      get: async (ctx: Ctx, id: string) => olaWithWarnings(await olaResource.get(ctx, id)),
      list: (ctx: Ctx, input: OlaListInput) =>
        olaResource.list(ctx, input, olaKeyset, [
          input.active !== undefined ? eq(olas.active, input.active) : undefined,
          input.teamId ? eq(olas.teamId, input.teamId.toLowerCase()) : undefined,
          input.slaId ? sql`${input.slaId.toLowerCase()}::uuid = any(${olas.slaIds})` : undefined
        ]),
      create: async (ctx: Ctx, input: CreateOlaInput) =>
        olaWithWarnings(await olaResource.create(ctx, tx => olaValues(tx, input))),
      update: async (ctx: Ctx, id: string, input: UpdateOlaInput, expectedVersion?: number) =>
        olaWithWarnings(await olaResource.update(ctx, id, expectedVersion, tx => olaValues(tx, input))),
      /** 409 while a ticket's clock counts on it. */
      remove: (ctx: Ctx, id: string, expectedVersion?: number) =>
        inUse('OLA', () => olaResource.remove(ctx, id, expectedVersion))
    },

    /**
     * Which SLA and OLA a described ticket would get and when each falls due, creating nothing. An SLA
     * applies when every condition it sets matches and it has a target for the priority; the most
     * specific wins, ties by `order` (then name). The OLA is the holding team's active one under it.
     */
    async simulate(ctx: Ctx, input: SimulateInput) {
      authorize(ctx.actor, 'ticket.readInternal')
      const startsAt = input.createdAt ? new Date(input.createdAt) : new Date()
      const found = await agreementsFor(db, input)
      if (!found) return { startsAt, sla: null, ola: null }
      const { sla, target } = found
      const due = async (calendarId: string, t: TargetInput) => {
        const [response, resolution] = await calendarService.deadlinesOn(db, calendarId, startsAt, [
          t.responseMinutes,
          t.resolutionMinutes
        ])
        return {
          responseMinutes: t.responseMinutes,
          resolutionMinutes: t.resolutionMinutes,
          responseDueAt: response ?? null,
          resolutionDueAt: resolution ?? null
        }
      }
      const o = found.ola
      const ola = o
        ? { id: o.ola.id, name: o.ola.name, calendarId: o.ola.calendarId, ...(await due(o.ola.calendarId, o.target)) }
        : null
      return {
        startsAt,
        sla: {
          id: sla.id,
          name: sla.name,
          calendarId: sla.calendarId,
          responseMetBy: sla.responseMetBy,
          ...(await due(sla.calendarId, target))
        },
        ola
      }
    }
  }
}

export type SlaService = ReturnType<typeof createSlaService>
