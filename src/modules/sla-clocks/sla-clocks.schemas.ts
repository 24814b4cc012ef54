import { Type } from 'typebox'
import { DateTime, Nullable, StringEnum, Uuid } from '../../lib/schemas.js'

export const CLOCK_STATES = ['running', 'paused', 'met', 'breached'] as const

export const ClockSegment = Type.Object({
  run: Type.Integer(),
  state: StringEnum(['running', 'paused', 'stopped'] as const),
  from: DateTime,
  to: Nullable(DateTime),
  status: Nullable(Type.String({ description: 'The ticket status during it: the one that paused a paused segment' }))
})

export const Clock = Type.Object({
  id: Uuid,
  agreement: StringEnum(['sla', 'ola'] as const),
  target: StringEnum(['response', 'resolution'] as const),
  slaId: Nullable(Uuid),
  olaId: Nullable(Uuid),
  teamId: Nullable(Uuid),
  calendarId: Uuid,
  priority: Type.Integer(),
  targetMinutes: Type.Integer({ description: 'Business minutes' }),
  run: Type.Integer({ description: '1 at the start, one more at every restart (reopen, re-target, team back)' }),
  state: StringEnum(CLOCK_STATES),
  startedAt: DateTime,
  dueAt: Nullable(DateTime),
  breachedAt: Nullable(DateTime),
  stoppedAt: Nullable(DateTime),
  pausedBy: Nullable(Type.String()),
  elapsedMinutes: Type.Number({ description: 'Business minutes used in this run, as of asOf' }),
  percentUsed: Type.Number(),
  segments: Type.Array(ClockSegment)
})

export const TicketSla = Type.Object({
  ticketId: Uuid,
  asOf: DateTime,
  clocks: Type.Array(Clock, { description: 'SLA clocks first; OLA clocks per team (staff only)' })
})

export const TicketRefParams = Type.Object({
  ref: Type.String({ minLength: 1, maxLength: 64, description: 'The ticket id or number (INC-000123)' })
})
