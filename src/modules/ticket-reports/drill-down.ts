/**
 * Drill-down links: the RSQL filter of `/api/v1/tickets` that lists exactly the tickets a report figure
 * counted (the report's own `filter` and its period, the row's group and the figure's condition).
 */
export type Rsql = string

const iso = (d: Date) => d.toISOString()

/** All of the parts (null parts are left out); each part is parenthesised, so ORs inside stay inside. */
export const all = (...parts: (Rsql | null | undefined)[]): Rsql =>
  parts
    .filter((p): p is Rsql => !!p)
    .map(p => `(${p})`)
    .join(';')

export const between = (field: string, from: Date, to: Date): Rsql => `${field}=ge=${iso(from)};${field}=lt=${iso(to)}`

/** A field's value, or its absence (a group of tickets without a team). */
export const equals = (field: string, value: string | number | null): Rsql =>
  value === null ? `${field}=isnull=true` : `${field}==${typeof value === 'number' ? value : `"${value}"`}`

export const OPEN: Rsql = 'resolvedAt=isnull=true;closedAt=isnull=true'
export const DONE: Rsql = 'resolvedAt=isnull=false,closedAt=isnull=false'

/** Resolved (or, never resolved, closed) in [from, to): the report's "done" time is coalesce(resolved, closed). */
export const doneBetween = (from: Date, to: Date): Rsql =>
  `(${between('resolvedAt', from, to)}),(resolvedAt=isnull=true;${between('closedAt', from, to)})`

/** Still open at `at`: created before it and not done before it. */
export const openAt = (at: Date): Rsql =>
  `createdAt=lt=${iso(at)};(resolvedAt=ge=${iso(at)},(${OPEN}),(resolvedAt=isnull=true;closedAt=ge=${iso(at)}))`

/** Past due at `now`: open, and its SLA resolution clock breached or due before now. */
export const pastDue = (now: Date): Rsql => `${OPEN};resolutionDueAt=lt=${iso(now)}`

/** Age in [lo, hi) days at `now` of a time field: `now - hi < field <= now - lo` (hi null: no lower bound). */
export function ageBetween(field: string, now: Date, lo: number, hi: number | null): Rsql {
  const day = 86_400_000
  const upper = `${field}=le=${iso(new Date(now.getTime() - lo * day))}`
  return hi === null ? upper : `${field}=gt=${iso(new Date(now.getTime() - hi * day))};${upper}`
}

export const ticketsUrl = (filter: Rsql): string => `/api/v1/tickets?filter=${encodeURIComponent(filter)}`
