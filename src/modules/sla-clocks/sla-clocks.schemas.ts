import { Type } from 'typebox'
import { DateTime, Nullable, StringEnum, Uuid } from '../../lib/schemas.js'
import { ESCALATION_ACTIONS, NOTIFY_AUDIENCES } from '../services/slas.schemas.js'

export const CLOCK_STATES = ['running', 'paused', 'met', 'breached'] as const

export const ClockSegment = Type.Object({
  run: Type.Integer(),
  state: StringEnum(['running', 'paused', 'stopped'] as const),
  from: DateTime,
  to: Nullable(DateTime),
  status: Nullable(Type.String({ description: 'The ticket status during it: the one that paused a paused segment' }))
})

/** An escalation action as it was carried out: the configured action and what became of it. */
export const FiredAction = Type.Object({
  type: StringEnum(ESCALATION_ACTIONS),
  audience: Type.Optional(StringEnum(NOTIFY_AUDIENCES)),
  userIds: Type.Optional(Type.Array(Uuid)),
  teamId: Type.Optional(Uuid),
  steps: Type.Optional(Type.Integer()),
  told: Type.Optional(Type.Array(Uuid, { description: 'notify: who was told (resolved when it fired)' })),
  from: Type.Optional(Type.Unknown({ description: 'next_layer, reassign, raise_priority: the value before' })),
  to: Type.Optional(Type.Unknown({ description: 'the value after' })),
  skipped: Type.Optional(Type.String({ description: 'Why nothing was done' }))
})

/** A threshold fired on a clock run (once per run). */
export const ClockEscalation = Type.Object({
  threshold: Type.Integer({ description: 'The percent of the target' }),
  run: Type.Integer(),
  firedAt: DateTime,
  actions: Type.Array(FiredAction)
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
  segments: Type.Array(ClockSegment),
  escalations: Type.Array(ClockEscalation, { description: 'The thresholds fired on it, oldest first' })
})

export const TicketSla = Type.Object({
  ticketId: Uuid,
  asOf: DateTime,
  clocks: Type.Array(Clock, { description: 'SLA clocks first; OLA clocks per team (staff only)' })
})

export const TicketRefParams = Type.Object({
  ref: Type.String({ minLength: 1, maxLength: 64, description: 'The ticket id or number (INC-000123)' })
})
