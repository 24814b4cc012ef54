import { type Static, Type } from 'typebox'
import { CursorParam, DateTime, Limit, Uuid } from '../../lib/schemas.js'

const Name = Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' })
const TimeZone = Type.String({
  minLength: 1,
  maxLength: 64,
  description: 'An IANA time zone (Europe/Paris, America/New_York, UTC); hours are wall-clock times there'
})
const TimeOfDay = Type.String({
  pattern: '^(?:(?:[01][0-9]|2[0-3]):[0-5][0-9]|24:00)$',
  description: '"HH:MM" from 00:00 to 24:00 ("24:00" ends an interval at midnight)'
})
const Interval = Type.Array(TimeOfDay, {
  minItems: 2,
  maxItems: 2,
  description: '[start, end], start before end'
})
const Intervals = Type.Array(Interval, { maxItems: 48, description: 'Intervals that do not overlap' })
const DateOnly = Type.String({ format: 'date', description: 'YYYY-MM-DD in the calendar’s zone' })
const Label = Type.String({ maxLength: 200 })

const weekdays = {
  mon: Type.Optional(Intervals),
  tue: Type.Optional(Intervals),
  wed: Type.Optional(Intervals),
  thu: Type.Optional(Intervals),
  fri: Type.Optional(Intervals),
  sat: Type.Optional(Intervals),
  sun: Type.Optional(Intervals)
}

export const Hours = Type.Object(weekdays, {
  additionalProperties: false,
  description: 'Working intervals per weekday; a day left out or [] has none'
})

export const Holiday = Type.Object(
  {
    date: Type.Optional(DateOnly),
    month: Type.Optional(Type.Integer({ minimum: 1, maximum: 12 })),
    day: Type.Optional(Type.Integer({ minimum: 1, maximum: 31 })),
    yearly: Type.Optional(Type.Boolean()),
    name: Type.Optional(Label)
  },
  {
    additionalProperties: false,
    description: 'A dated holiday { date } or a yearly one { month, day, yearly: true }'
  }
)

export const CalendarException = Type.Object(
  { date: DateOnly, hours: Intervals, name: Type.Optional(Label) },
  { additionalProperties: false, description: 'Replaces that date’s hours, holiday or not ([]: closed)' }
)

const Holidays = Type.Array(Holiday, { maxItems: 1000 })
const Exceptions = Type.Array(CalendarException, { maxItems: 1000 })

export const Calendar = Type.Object({
  id: Uuid,
  name: Type.String(),
  timeZone: Type.String(),
  hours: Type.Object({
    mon: Intervals,
    tue: Intervals,
    wed: Intervals,
    thu: Intervals,
    fri: Intervals,
    sat: Intervals,
    sun: Intervals
  }),
  holidays: Holidays,
  exceptions: Exceptions,
  version: Type.Integer(),
  createdAt: DateTime,
  updatedAt: DateTime
})

export const CreateCalendarBody = Type.Object(
  {
    name: Name,
    timeZone: TimeZone,
    hours: Hours,
    holidays: Type.Optional(Holidays),
    exceptions: Type.Optional(Exceptions)
  },
  { additionalProperties: false }
)
export type CreateCalendarInput = Static<typeof CreateCalendarBody>

export const UpdateCalendarBody = Type.Object(
  {
    name: Type.Optional(Name),
    timeZone: Type.Optional(TimeZone),
    hours: Type.Optional(Hours),
    holidays: Type.Optional(Holidays),
    exceptions: Type.Optional(Exceptions)
  },
  {
    additionalProperties: false,
    minProperties: 1,
    description: 'hours, holidays and exceptions replace the old ones whole'
  }
)
export type UpdateCalendarInput = Static<typeof UpdateCalendarBody>

export const CalendarListQuery = Type.Object(
  {
    q: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Part of the name' })),
    limit: Type.Optional(Limit),
    cursor: Type.Optional(CursorParam)
  },
  { additionalProperties: false }
)
export type CalendarListInput = Static<typeof CalendarListQuery>

/** Targets beyond this (19 years around the clock) are typos; the horizon would answer null anyway. */
export const MAX_MINUTES = 10_000_000

export const DeadlineQuery = Type.Object(
  {
    from: Type.String({ format: 'date-time', description: 'The instant counting starts (ISO 8601 with offset)' }),
    minutes: Type.Integer({ minimum: 0, maximum: MAX_MINUTES, description: 'Business minutes to add' })
  },
  { additionalProperties: false }
)
export type DeadlineInput = Static<typeof DeadlineQuery>

export const Deadline = Type.Object({
  deadline: Type.String({
    format: 'date-time',
    description: 'UTC: the instant when `minutes` business minutes after `from` have passed'
  })
})

export const BusinessMinutesQuery = Type.Object(
  {
    from: Type.String({ format: 'date-time' }),
    to: Type.String({ format: 'date-time', description: 'At most 100 years from `from`' })
  },
  { additionalProperties: false }
)
export type BusinessMinutesInput = Static<typeof BusinessMinutesQuery>

export const BusinessMinutes = Type.Object({
  minutes: Type.Number({
    description: 'Business minutes in [from, to): negative when to is before from, fractional off whole minutes'
  })
})
