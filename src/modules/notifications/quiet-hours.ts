import { DateTime } from 'luxon'

/** Quiet hours as minutes after local midnight, in an IANA zone. */
export interface Quiet {
  from: number
  until: number
  timeZone: string
}

const minutesOf = (d: DateTime) => d.hour * 60 + d.minute + d.second / 60

/**
 * When the quiet hours holding `now` end (the first instant at or after `now` whose local time is
 * `until`), or null when `now` is outside them. `from` after `until` spans midnight (22:00–07:00).
 * Wall times follow the zone's rules: an `until` inside a spring-forward gap moves on by the gap
 * (Paris 2026-03-29 02:30 is 03:30 CEST), as luxon does.
 */
export function quietUntil(q: Quiet, now: Date): Date | null {
  if (q.from === q.until) return null
  const local = DateTime.fromJSDate(now, { zone: q.timeZone })
  if (!local.isValid) return null
  const m = minutesOf(local)
  const inside = q.from < q.until ? m >= q.from && m < q.until : m >= q.from || m < q.until
  if (!inside) return null
  const at = (day: DateTime) =>
    day.set({ hour: Math.floor(q.until / 60), minute: q.until % 60, second: 0, millisecond: 0 })
  let end = at(local.startOf('day'))
  if (end <= local) end = at(local.startOf('day').plus({ days: 1 }))
  return end.toJSDate()
}

export const toClock = (m: number) =>
  `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`
export const fromClock = (s: string) => Number(s.slice(0, 2)) * 60 + Number(s.slice(3, 5))
