import { DateTime, IANAZone } from 'luxon'
import type { FieldError } from './errors.js'

/**
 * Business time on a calendar: working hours per weekday in the calendar's own IANA zone, holidays
 * (dated, or yearly on a month and day) and dated exceptions that replace a date's hours, holiday or
 * not. Pure: nothing here reads the process's `TZ` or the clock.
 *
 * How wall-clock hours meet DST: an interval's bounds are local wall-clock times of that date turned
 * into instants with luxon, and what an interval counts is the real time elapsed between those
 * instants. So "00:00"–"24:00" counts 23 hours on a spring-forward day and 25 on a fall-back day, and
 * "08:00"–"17:00" across a 02:00 change counts 9 hours either way. A bound in a nonexistent hour
 * moves forward by the gap, as luxon does (Paris 2026-03-29 "02:30" is 03:30 CEST); a bound in a
 * repeated hour takes luxon's choice, the second occurrence (Paris 2026-10-25 "02:30" is 02:30 CET).
 * Should a shifted bound make intervals overlap, the overlap counts once; should it make an interval
 * end before it starts, that interval counts nothing.
 *
 * Times are counted in milliseconds, so `businessMinutes(c, from, deadline(c, from, n)) === n` holds
 * exactly; business minutes between instants that are not on whole minutes may be fractional.
 */

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const
export type Weekday = (typeof WEEKDAYS)[number]
/** ["08:00", "12:00"]: "HH:MM" from 00:00 to 24:00, start before end. */
export type TimeInterval = [string, string]
export type DatedHoliday = { date: string; name?: string }
export type YearlyHoliday = { month: number; day: number; yearly: true; name?: string }
export type Holiday = DatedHoliday | YearlyHoliday
export type CalendarException = { date: string; hours: TimeInterval[]; name?: string }

export interface BusinessCalendar {
  timeZone: string
  hours: Partial<Record<Weekday, TimeInterval[]>>
  holidays?: Holiday[]
  exceptions?: CalendarException[]
}

const MINUTE = 60_000
const DAY = 86_400_000
/** How far a deadline is looked for: a target not met within this many days after `from` is never met. */
export const HORIZON_DAYS = 100 * 366
/** Month/day pairs a year can hold, 02-29 included: yearly holidays on all of them leave no working day. */
const MONTH_DAYS = 366

type Minutes = [number, number]
interface Compiled {
  zone: string
  /** Index 0 is Monday, as luxon's weekday 1. */
  week: Minutes[][]
  /** Working milliseconds of a week with no holiday, exception or offset change in it. */
  weekLength: number
  dated: Set<number>
  yearly: Set<number>
  exceptions: Map<number, Minutes[]>
  /** Whether working time comes back forever after the last dated holiday or exception. */
  recurring: boolean
  lastSpecialDay: number
}

const cache = new WeakMap<BusinessCalendar, Compiled>()
/** Parses by the calendar's JSON text, bounded (a desk has a handful of calendars). */
const byText = new Map<string, Compiled>()

// ---- civil dates as day numbers (days since 1970-01-01, proleptic Gregorian) ----

const daysFromCivil = (y: number, m: number, d: number): number => {
  const yy = m <= 2 ? y - 1 : y
  const era = Math.floor(yy / 400)
  const yoe = yy - era * 400
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
}

const civilFromDays = (n: number): [number, number, number] => {
  const z = n + 719468
  const era = Math.floor(z / 146097)
  const doe = z - era * 146097
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365)
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100))
  const mp = Math.floor((5 * doy + 2) / 153)
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1
  const m = mp < 10 ? mp + 3 : mp - 9
  return [m <= 2 ? yoe + era * 400 + 1 : yoe + era * 400, m, d]
}

/** 0 = Monday … 6 = Sunday (1970-01-01 was a Thursday). */
const weekdayIndex = (n: number): number => (((n + 3) % 7) + 7) % 7

const monthDayKey = (m: number, d: number) => m * 100 + d

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/
const TIME_RE = /^(?:([01]\d|2[0-3]):([0-5]\d)|(24):(00))$/

const parseDate = (s: string): number | null => {
  const m = DATE_RE.exec(s)
  if (!m) return null
  const y = Number(m[1])
  const mo = Number(m[2])
  const d = Number(m[3])
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) return null
  return daysFromCivil(y, mo, d)
}

const daysInMonth = (y: number, m: number) =>
  m === 2 ? (y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28) : [4, 6, 9, 11].includes(m) ? 30 : 31

const parseTime = (s: unknown): number | null => {
  if (typeof s !== 'string') return null
  const m = TIME_RE.exec(s)
  if (!m) return null
  return m[3] ? 1440 : Number(m[1]) * 60 + Number(m[2])
}

// ---- validation ----

const checkIntervals = (field: string, list: unknown, errors: FieldError[]) => {
  if (!Array.isArray(list)) {
    errors.push({ field, message: 'must be a list of ["HH:MM", "HH:MM"] intervals' })
    return
  }
  const parsed: { at: string; start: number; end: number }[] = []
  list.forEach((pair, i) => {
    const at = `${field}.${i}`
    if (!Array.isArray(pair) || pair.length !== 2) {
      errors.push({ field: at, message: 'must be a pair ["HH:MM", "HH:MM"]' })
      return
    }
    const start = parseTime(pair[0])
    const end = parseTime(pair[1])
    if (start === null) errors.push({ field: `${at}.0`, message: 'must be a time "HH:MM" from 00:00 to 24:00' })
    if (end === null) errors.push({ field: `${at}.1`, message: 'must be a time "HH:MM" from 00:00 to 24:00' })
    if (start === null || end === null) return
    if (start >= end) errors.push({ field: at, message: 'start must be before end' })
    else parsed.push({ at, start, end })
  })
  parsed.sort((a, b) => a.start - b.start)
  parsed.reduce<(typeof parsed)[number] | undefined>((previous, current) => {
    if (previous && current.start < previous.end) {
      errors.push({ field: current.at, message: `overlaps ${previous.at}` })
    }
    return previous && previous.end > current.end ? previous : current
  }, undefined)
}

/**
 * Every complaint about a calendar at once, each naming its field as the API's validation does
 * (`timeZone`, `hours.mon.1.0`, `holidays.2.date`, `exceptions.0.hours.0` …). Empty when it is valid.
 */
export const validateCalendar = (calendar: BusinessCalendar): FieldError[] => {
  const errors: FieldError[] = []
  if (typeof calendar.timeZone !== 'string' || !IANAZone.isValidZone(calendar.timeZone)) {
    errors.push({ field: 'timeZone', message: 'must be an IANA time zone such as Europe/Paris' })
  }
  const hours = calendar.hours ?? {}
  for (const key of Object.keys(hours)) {
    if (!(WEEKDAYS as readonly string[]).includes(key)) {
      errors.push({ field: `hours.${key}`, message: `must be one of ${WEEKDAYS.join(', ')}` })
    } else {
      checkIntervals(`hours.${key}`, hours[key as Weekday], errors)
    }
  }
  ;(calendar.holidays ?? []).forEach((h, i) => {
    const at = `holidays.${i}`
    if ('yearly' in h && h.yearly) {
      if ('date' in h && h.date !== undefined) {
        errors.push({ field: `${at}.date`, message: 'give either a date, or month and day with yearly: true' })
      }
      const { month, day } = h
      if (!Number.isInteger(month) || month < 1 || month > 12) {
        errors.push({ field: `${at}.month`, message: 'must be a month from 1 to 12' })
      } else if (!Number.isInteger(day) || day < 1 || day > daysInMonth(2000, month)) {
        errors.push({ field: `${at}.day`, message: `must be a day of month ${month}` })
      }
    } else if (typeof (h as DatedHoliday).date !== 'string' || parseDate((h as DatedHoliday).date) === null) {
      errors.push({ field: `${at}.date`, message: 'must be a date YYYY-MM-DD (or give month, day and yearly: true)' })
    } else if ('month' in h || 'day' in h) {
      errors.push({
        field: `${at}.${'month' in h ? 'month' : 'day'}`,
        message: 'only with yearly: true, without a date'
      })
    }
  })
  const seen = new Map<number, number>()
  ;(calendar.exceptions ?? []).forEach((e, i) => {
    const at = `exceptions.${i}`
    const day = typeof e.date === 'string' ? parseDate(e.date) : null
    if (day === null) errors.push({ field: `${at}.date`, message: 'must be a date YYYY-MM-DD' })
    else if (seen.has(day)) errors.push({ field: `${at}.date`, message: `repeats exceptions.${seen.get(day)}.date` })
    else seen.set(day, i)
    checkIntervals(`${at}.hours`, e.hours, errors)
  })
  return errors
}

// ---- compiling ----

const toMinutes = (list: TimeInterval[] | undefined): Minutes[] =>
  (list ?? [])
    .map(([s, e]) => [parseTime(s) ?? 0, parseTime(e) ?? 0] as Minutes)
    .filter(([s, e]) => s < e)
    .sort((a, b) => a[0] - b[0])

/** Parses a calendar once; a calendar that fails `validateCalendar` throws here. */
const compile = (calendar: BusinessCalendar): Compiled => {
  const hit = cache.get(calendar)
  if (hit) return hit
  // The same calendar read again (a new object per read): its text finds the parse (checking an IANA
  // zone alone costs ~1 ms, luxon builds an Intl formatter for it)
  const text = JSON.stringify(calendar)
  const same = byText.get(text)
  if (same) {
    cache.set(calendar, same)
    return same
  }
  const errors = validateCalendar(calendar)
  if (errors.length > 0) throw new InvalidCalendar(errors)
  const week = WEEKDAYS.map(d => toMinutes(calendar.hours[d]))
  const weekLength = week.flat().reduce((sum, [s, e]) => sum + (e - s) * MINUTE, 0)
  const dated = new Set<number>()
  const yearly = new Set<number>()
  for (const h of calendar.holidays ?? []) {
    if ('yearly' in h && h.yearly) yearly.add(monthDayKey(h.month, h.day))
    else dated.add(parseDate((h as DatedHoliday).date) as number)
  }
  const exceptions = new Map<number, Minutes[]>()
  for (const e of calendar.exceptions ?? []) exceptions.set(parseDate(e.date) as number, toMinutes(e.hours))
  const compiled: Compiled = {
    zone: calendar.timeZone,
    week,
    weekLength,
    dated,
    yearly,
    exceptions,
    recurring: weekLength > 0 && yearly.size < MONTH_DAYS,
    lastSpecialDay: Math.max(-Infinity, ...dated, ...exceptions.keys())
  }
  cache.set(calendar, compiled)
  if (byText.size >= 200) byText.clear()
  byText.set(text, compiled)
  return compiled
}

/** A calendar that does not pass `validateCalendar`, with its field errors. */
export class InvalidCalendar extends Error {
  constructor(readonly errors: FieldError[]) {
    super(`invalid calendar: ${errors.map(e => `${e.field}: ${e.message}`).join('; ')}`)
    this.name = 'InvalidCalendar'
  }
}

/** Instant (epoch ms) of a local wall-clock time: day number plus minutes (1440 is next midnight). */
const instant = (c: Compiled, day: number, minute: number): number => {
  const d = minute >= 1440 ? day + 1 : day
  const m = minute >= 1440 ? minute - 1440 : minute
  const [year, month, dd] = civilFromDays(d)
  return DateTime.fromObject(
    { year, month, day: dd, hour: Math.floor(m / 60), minute: m % 60 },
    { zone: c.zone }
  ).toMillis()
}

const localDay = (c: Compiled, ms: number): number => {
  const dt = DateTime.fromMillis(ms, { zone: c.zone })
  return daysFromCivil(dt.year, dt.month, dt.day)
}

const isHoliday = (c: Compiled, day: number): boolean => {
  if (c.dated.has(day)) return true
  if (c.yearly.size === 0) return false
  const [, m, d] = civilFromDays(day)
  return c.yearly.has(monthDayKey(m, d))
}

const dayMinutes = (c: Compiled, day: number): Minutes[] => {
  const exception = c.exceptions.get(day)
  if (exception) return exception
  if (isHoliday(c, day)) return []
  return c.week[weekdayIndex(day)] ?? []
}

/**
 * The real instants of a Monday's week when that week can be counted as `weekLength` at once: no
 * holiday or exception in it and the same UTC offset at each of its eight midnights. Else null.
 */
const plainWeek = (c: Compiled, monday: number): [number, number] | null => {
  for (let d = monday; d < monday + 7; d++) {
    if (c.exceptions.has(d) || isHoliday(c, d)) return null
  }
  const start = instant(c, monday, 0)
  let previous = start
  for (let d = monday + 1; d <= monday + 7; d++) {
    const next = instant(c, d, 0)
    if (next - previous !== DAY) return null
    previous = next
  }
  return [start, previous]
}

/**
 * The instant when `minutes` business minutes after `from` have passed (`from` itself for 0 or
 * less), or null when the calendar does not hold that much working time within HORIZON_DAYS (about
 * a century) after `from`: a calendar with no weekly hours runs out after its last exception, and
 * one with none at all answers null at once. Callers turn null into their own error (the API a 422).
 */
export const deadline = (calendar: BusinessCalendar, from: Date, minutes: number): Date | null => {
  const c = compile(calendar)
  let cursor = from.getTime()
  if (Number.isNaN(cursor)) throw new RangeError('from is not a valid date')
  let remaining = Math.round(minutes * MINUTE)
  if (!(remaining > 0)) return new Date(cursor)
  // The day before: an interval ending at "24:00" there can, past a DST gap, end after this midnight.
  let day = localDay(c, cursor) - 1
  const horizon = day + HORIZON_DAYS
  for (;;) {
    if ((!c.recurring && day > c.lastSpecialDay) || day > horizon) return null
    if (weekdayIndex(day) === 0 && remaining > c.weekLength && c.weekLength > 0) {
      const week = plainWeek(c, day)
      if (week && week[0] >= cursor) {
        remaining -= c.weekLength
        cursor = week[1]
        day += 7
        continue
      }
    }
    for (const [s, e] of dayMinutes(c, day)) {
      const start = Math.max(instant(c, day, s), cursor)
      const end = instant(c, day, e)
      if (end <= start) continue
      if (remaining <= end - start) return new Date(start + remaining)
      remaining -= end - start
      cursor = end
    }
    day++
  }
}

/**
 * Business minutes between two instants (negative when `to` is before `from`): real time elapsed
 * inside working intervals, counted in milliseconds and divided by 60,000.
 */
export const businessMinutes = (calendar: BusinessCalendar, from: Date, to: Date): number => {
  const c = compile(calendar)
  const a = from.getTime()
  const b = to.getTime()
  if (Number.isNaN(a) || Number.isNaN(b)) throw new RangeError('from and to must be valid dates')
  if (b < a) return -businessMinutes(calendar, to, from)
  let total = 0
  let cursor = a
  let day = localDay(c, a) - 1
  const lastDay = localDay(c, b)
  while (day <= lastDay) {
    if (weekdayIndex(day) === 0 && day + 7 <= lastDay) {
      const week = plainWeek(c, day)
      if (week && week[0] >= cursor && week[1] <= b) {
        total += c.weekLength
        cursor = week[1]
        day += 7
        continue
      }
    }
    for (const [s, e] of dayMinutes(c, day)) {
      const start = Math.max(instant(c, day, s), cursor)
      const end = Math.min(instant(c, day, e), b)
      if (end > start) total += end - start
      cursor = Math.max(cursor, end)
      if (cursor >= b) return total / MINUTE
    }
    day++
  }
  return total / MINUTE
}

/** Whether the calendar holds any working time after `from` at all (false: deadlines never come). */
export const hasWorkingTimeAfter = (calendar: BusinessCalendar, from: Date): boolean =>
  deadline(calendar, from, 1 / MINUTE) !== null
