import type { slaClocks } from '../../db/schema/index.js'

/** A clock row as stored (src/db/schema/sla-clocks.ts). */
export type ClockRow = typeof slaClocks.$inferSelect

/** One stretch of a clock: counting, paused (by `status`), or stopped (met, resolved, left the team). */
export interface Segment {
  run: number
  state: 'running' | 'paused' | 'stopped'
  from: string
  to: string | null
  /** The ticket's status during it (the status that paused a paused one). */
  status: string | null
}

/** What a clock is in, as both doors answer it. */
export type ClockState = 'running' | 'paused' | 'met' | 'breached'

/** Breached once past due (running, paused or stopped after it); met when stopped in time. */
export function stateOf(c: Pick<ClockRow, 'state' | 'breachedAt'>): ClockState {
  if (c.breachedAt) return 'breached'
  if (c.state === 'stopped') return 'met'
  return c.state === 'paused' ? 'paused' : 'running'
}

export const segmentsOf = (c: Pick<ClockRow, 'segments'>): Segment[] => (c.segments as Segment[] | null) ?? []

/** Percent of a target used, to two decimals. */
export const percentOf = (elapsedMinutes: number, targetMinutes: number): number =>
  Math.round((10_000 * elapsedMinutes) / targetMinutes) / 100
