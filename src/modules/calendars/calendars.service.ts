import { eq, ilike, inArray } from 'drizzle-orm'
import type { Actor } from '../../auth/actor.js'
import { authorize, isStaff } from '../../auth/policy.js'
import { calendars } from '../../db/schema/index.js'
import {
  type BusinessCalendar,
  businessMinutes,
  type CalendarException,
  deadline,
  HORIZON_DAYS,
  type Holiday,
  type TimeInterval,
  validateCalendar,
  WEEKDAYS,
  type Weekday
} from '../../lib/business-time.js'
import type { Ctx, Deps, Queryable } from '../../lib/context.js'
import { conflict, fieldError, forbidden, notFound, validationFailed } from '../../lib/errors.js'
import { textKeyset } from '../../lib/keyset.js'
import { adminResource } from '../admin/admin-resource.js'
import type { CalendarListInput, CreateCalendarInput, UpdateCalendarInput } from './calendars.schemas.js'

type StoredCalendar = typeof calendars.$inferSelect
/** A calendar as both doors answer it: every weekday present, holidays and exceptions typed. */
export interface CalendarView extends Omit<StoredCalendar, 'hours' | 'holidays' | 'exceptions'> {
  hours: Record<Weekday, TimeInterval[]>
  holidays: Holiday[]
  exceptions: CalendarException[]
}

/**
 * The jsonb columns hold only what validateCalendar let in, normalised by `normalise`; a row written
 * around the API (the column defaults to `{}`) still answers every weekday, as the contract promises.
 */
const toView = (row: StoredCalendar): CalendarView => {
  const view = row as CalendarView
  if (WEEKDAYS.every(d => Array.isArray(view.hours?.[d]))) return view
  return { ...view, hours: everyWeekday(view.hours) }
}

/** Every weekday of stored hours present (a missing one has no working time). */
function everyWeekday(stored: unknown): Record<Weekday, TimeInterval[]> {
  const hours = (stored ?? {}) as Partial<Record<Weekday, TimeInterval[]>>
  if (WEEKDAYS.every(d => Array.isArray(hours[d]))) return hours as Record<Weekday, TimeInterval[]>
  return Object.fromEntries(WEEKDAYS.map(d => [d, hours[d] ?? []])) as Record<Weekday, TimeInterval[]>
}

/** One definition object per calendar row read (a cached row keeps business-time's parse of it). */
const definitions = new WeakMap<CalendarView, BusinessCalendar>()

/** The definition business-time computes on. */
export const definitionOf = (row: CalendarView): BusinessCalendar => {
  let found = definitions.get(row)
  if (!found) {
    found = { timeZone: row.timeZone, hours: row.hours, holidays: row.holidays, exceptions: row.exceptions }
    definitions.set(row, found)
  }
  return found
}

/** The definition of a calendar row read around the service (the SLA reads join it to the clocks). */
export const definitionOfRow = (
  row: Pick<StoredCalendar, 'timeZone' | 'hours' | 'holidays' | 'exceptions'>
): BusinessCalendar => ({
  timeZone: row.timeZone,
  hours: everyWeekday(row.hours),
  holidays: (row.holidays ?? []) as Holiday[],
  exceptions: (row.exceptions ?? []) as CalendarException[]
})

const FIELDS = ['name', 'timeZone', 'hours', 'holidays', 'exceptions'] as const
const YEAR_MS = 365.25 * 86_400_000

export const calendarKeyset = textKeyset<CalendarView>('calendars', calendars.name, calendars.id, r => r.name)

/** Staff read calendars (what SLAs count in); config.read alone would let customers in. */
function authorizeRead(actor: Actor) {
  authorize(actor, 'config.read')
  if (actor.kind !== 'system' && !isStaff(actor)) throw forbidden('business calendars are visible to staff only')
}

type Definition = Pick<CreateCalendarInput, 'timeZone' | 'hours' | 'holidays' | 'exceptions'>

/**
 * The stored form: every weekday listed, intervals in order, a dated holiday as { date, name? } and a
 * yearly one as { month, day, yearly: true, name? }. 422 naming every bad field when it is invalid.
 */
function normalise(input: Definition) {
  const errors = validateCalendar(input as BusinessCalendar)
  if (errors.length > 0) throw validationFailed(errors)
  const sorted = (list: string[][] | undefined) =>
    (list ?? []).map(([s, e]) => [s, e] as TimeInterval).sort((a, b) => a[0].localeCompare(b[0]))
  const named = (name: string | undefined) => (name === undefined ? {} : { name })
  return {
    timeZone: input.timeZone,
    hours: Object.fromEntries(WEEKDAYS.map(d => [d, sorted(input.hours[d])])) as Record<Weekday, TimeInterval[]>,
    holidays: (input.holidays ?? []).map(
      (h): Holiday =>
        h.yearly
          ? { month: h.month as number, day: h.day as number, yearly: true, ...named(h.name) }
          : { date: h.date as string, ...named(h.name) }
    ),
    exceptions: (input.exceptions ?? [])
      .map((e): CalendarException => ({ date: e.date, hours: sorted(e.hours), ...named(e.name) }))
      .sort((a, b) => a.date.localeCompare(b.date))
  }
}

/** A foreign key violation, through drizzle's wrapping (node-postgres and PGlite alike): the row is in use. */
export const isForeignKeyViolation = (err: unknown): boolean => {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, i = 0; e && i < 4; i++) {
    if (e.code === '23503') return true
    e = e.cause as typeof e
  }
  return false
}

/** One calendar by id without authorisation, for the SLA clocks (they run as whoever moved the ticket). */
export async function loadCalendar(q: Queryable, id: string): Promise<CalendarView> {
  const [row] = await q.select().from(calendars).where(eq(calendars.id, id))
  if (!row) throw notFound('calendar')
  return toView(row)
}

/** Several calendars by id in one query, as the definitions business-time computes on (unknown ids left out). */
export async function loadDefinitions(q: Queryable, ids: readonly string[]): Promise<Map<string, BusinessCalendar>> {
  if (ids.length === 0) return new Map()
  const rows = await q
    .select()
    .from(calendars)
    .where(inArray(calendars.id, [...new Set(ids)]))
  return new Map(rows.map(r => [r.id, definitionOf(toView(r))] as const))
}

/**
 * Business calendars: working hours per weekday in an IANA zone, holidays and exceptions. Admins
 * write them, staff read them; the SLA code computes due times on them through `deadlineOn` and
 * `minutesOn` (one load per call, no authorisation: the clock is not the actor's read).
 */
export function createCalendarService({ db, config }: Deps) {
  /**
   * The calendars the clocks count in, cached per process for AUTH_CACHE_TTL_MS like the SLAs they
   * belong to (0: read every time, in the caller's transaction): a ticket create with an SLA computes
   * its due times without a read. A write here drops the cache at once; another process sees it when
   * its copy runs out.
   */
  const ttl = config.AUTH_CACHE_TTL_MS
  let cached = new Map<string, { row: CalendarView; until: number }>()
  let generation = 0
  const changed = () => {
    cached = new Map()
    generation++
  }
  async function clockCalendar(q: Queryable, id: string): Promise<CalendarView> {
    if (ttl === 0) return loadCalendar(q, id)
    const hit = cached.get(id)
    if (hit && hit.until > Date.now()) return hit.row
    const startedAt = generation
    // The caller's handle: inside a transaction on PGlite (one connection) another would wait forever
    const row = await loadCalendar(q, id)
    // A load that began before an invalidation must not put what it read back
    if (startedAt === generation) {
      if (cached.size >= 1000) cached = new Map()
      cached.set(id, { row, until: Date.now() + ttl })
    }
    return row
  }

  const resource = adminResource<CalendarView, CalendarView>(db, {
    table: calendars,
    id: calendars.id,
    version: calendars.version,
    entityType: 'calendar',
    noun: 'calendar',
    fields: FIELDS,
    unique: { calendars_name_uq: { field: 'name', message: 'a calendar with this name exists' } },
    view: toView,
    authorizeRead: ctx => authorizeRead(ctx.actor),
    authorizeWrite: ctx => authorize(ctx.actor, 'config.manage'),
    changed
  })

  /** The deadline on a loaded calendar; null (no such working time within the horizon) is a 422. */
  const deadlineOf = (row: CalendarView, from: Date, minutes: number): Date => {
    const at = deadline(definitionOf(row), from, minutes)
    if (!at) {
      throw fieldError(
        'minutes',
        `the calendar "${row.name}" holds fewer than ${minutes} business minutes in the ${Math.round(HORIZON_DAYS / 365.25)} years after from`
      )
    }
    return at
  }

  const minutesOf = (row: CalendarView, from: Date, to: Date): number => {
    if (Math.abs(to.getTime() - from.getTime()) > 100 * YEAR_MS)
      throw fieldError('to', 'must be within 100 years of from')
    return businessMinutes(definitionOf(row), from, to)
  }

  return {
    get: resource.get,
    byIds: resource.byIds,
    cursorOf: calendarKeyset.cursorOf,

    list: (ctx: Ctx, input: CalendarListInput) =>
      resource.list(ctx, input, calendarKeyset, [
        input.q ? ilike(calendars.name, `%${input.q.replace(/[\\%_]/g, m => `\\${m}`)}%`) : undefined
      ]),

    create: (ctx: Ctx, input: CreateCalendarInput): Promise<CalendarView> =>
      resource.create(ctx, async () => ({ name: input.name, ...normalise(input) })),

    /** hours, holidays and exceptions, when given, replace the old ones whole; the result must be valid. */
    update: (ctx: Ctx, id: string, input: UpdateCalendarInput, expectedVersion?: number): Promise<CalendarView> =>
      resource.update(ctx, id, expectedVersion, async (_tx, before) => ({
        ...(input.name !== undefined ? { name: input.name } : {}),
        ...normalise({
          timeZone: input.timeZone ?? before.timeZone,
          hours: input.hours ?? before.hours,
          holidays: input.holidays ?? before.holidays,
          exceptions: input.exceptions ?? before.exceptions
        })
      })),

    /** 409 while something (a service, an SLA) still names the calendar. */
    async remove(ctx: Ctx, id: string, expectedVersion?: number): Promise<void> {
      try {
        await resource.remove(ctx, id, expectedVersion)
      } catch (err) {
        if (isForeignKeyViolation(err)) throw conflict('the calendar is in use: change what names it first')
        throw err
      }
    },

    /** GET /calendars/{id}/deadline and calendarDeadline: staff, 404 unknown, 422 never reached. */
    async deadline(ctx: Ctx, id: string, from: Date, minutes: number): Promise<Date> {
      authorizeRead(ctx.actor)
      return deadlineOf(await loadCalendar(ctx.db, id), from, minutes)
    },

    /** GET /calendars/{id}/business-minutes and calendarBusinessMinutes. */
    async businessMinutes(ctx: Ctx, id: string, from: Date, to: Date): Promise<number> {
      authorizeRead(ctx.actor)
      return minutesOf(await loadCalendar(ctx.db, id), from, to)
    },

    /** For the SLA clocks: the due time `minutes` business minutes after `from` (in q's transaction). */
    deadlineOn: async (q: Queryable, id: string, from: Date, minutes: number): Promise<Date> =>
      deadlineOf(await clockCalendar(q, id), from, minutes),

    /**
     * For SLA simulate and clock starts: several due times from one instant on one calendar, loaded
     * once (response and resolution targets, the OLA's), in the order of `targets`.
     */
    deadlinesOn: async (q: Queryable, id: string, from: Date, targets: readonly number[]): Promise<Date[]> => {
      const row = await clockCalendar(q, id)
      return targets.map(minutes => deadlineOf(row, from, minutes))
    },

    /** For the SLA clocks: business minutes elapsed between two instants. */
    minutesOn: async (q: Queryable, id: string, from: Date, to: Date): Promise<number> =>
      minutesOf(await clockCalendar(q, id), from, to),

    /** For the SLA clocks: the definitions of these calendars (cached as above; unknown ids left out). */
    async definitionsOn(q: Queryable, ids: readonly string[]): Promise<Map<string, BusinessCalendar>> {
      const out = new Map<string, BusinessCalendar>()
      for (const id of new Set(ids)) {
        try {
          out.set(id, definitionOf(await clockCalendar(q, id)))
        } catch (err) {
          if (!(err instanceof Error && 'statusCode' in err && err.statusCode === 404)) throw err
        }
      }
      return out
    }
  }
}

export type CalendarService = ReturnType<typeof createCalendarService>
