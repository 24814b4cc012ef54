import { type Static, Type } from 'typebox'
import {
  CursorParam,
  DateTime,
  DateTimeInput,
  FreshnessFields,
  Nullable,
  PageOf,
  StringEnum,
  Uuid
} from '../../lib/schemas.js'

export const GROUP_BY = ['service', 'team', 'organisation', 'priority'] as const
export const AGREEMENTS = ['sla', 'ola'] as const

const period = {
  from: { ...DateTimeInput, description: 'Start of the period (inclusive), ISO-8601.' },
  to: { ...DateTimeInput, description: 'End of the period (exclusive), ISO-8601; after from.' },
  agreement: Type.Optional(StringEnum(AGREEMENTS, { default: 'sla', description: 'sla (default) or ola clocks' }))
}

const CsvFormat = Type.Optional(StringEnum(['csv'] as const, { description: 'csv: the same as Accept: text/csv' }))

export const ComplianceQuery = Type.Object(
  {
    ...period,
    groupBy: StringEnum(GROUP_BY, { description: 'service, team, organisation or priority' }),
    format: CsvFormat
  },
  { additionalProperties: false }
)
export type ComplianceInput = Static<typeof ComplianceQuery>

export const ComplianceRow = Type.Object({
  key: Nullable(Type.String({ description: 'The group: an id, or the priority; null: tickets without one' })),
  name: Nullable(Type.String()),
  met: Type.Integer(),
  breached: Type.Integer(),
  total: Type.Integer({ description: 'met + breached' }),
  percentMet: Nullable(Type.Number({ description: 'met / total in percent (2 decimals); null when total is 0' })),
  inProgress: Type.Integer({ description: 'Open, unbreached clocks started before to (not in total)' }),
  tickets: Nullable(
    Type.Object(
      {
        met: Type.String({ description: 'GET /api/v1/tickets?filter=…: tickets with a clock met in the period' }),
        breached: Type.String({ description: 'Tickets with a clock breached in the period' }),
        inProgress: Type.String({ description: 'Tickets with a clock still running or paused' })
      },
      { description: 'The ticket lists behind the figures (sla.* RSQL); null for OLA rows' }
    )
  )
})
export type ComplianceRowView = Static<typeof ComplianceRow>

export const ComplianceReport = Type.Object({
  from: DateTime,
  to: DateTime,
  agreement: StringEnum(AGREEMENTS),
  groupBy: StringEnum(GROUP_BY),
  rows: Type.Array(ComplianceRow),
  ...FreshnessFields
})

export const BreachesQuery = Type.Object(
  {
    ...period,
    serviceId: Type.Optional(Uuid),
    teamId: Type.Optional(Uuid),
    organisationId: Type.Optional(Uuid),
    priority: Type.Optional(Type.Integer({ minimum: 1, maximum: 5 })),
    target: Type.Optional(StringEnum(['response', 'resolution'] as const)),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
    cursor: Type.Optional(CursorParam),
    format: CsvFormat
  },
  { additionalProperties: false }
)
export type BreachesInput = Static<typeof BreachesQuery>

export const Breach = Type.Object({
  id: Uuid,
  ticketId: Uuid,
  ticketNumber: Type.String(),
  kind: Type.String(),
  title: Type.String(),
  agreement: StringEnum(AGREEMENTS),
  target: Type.String(),
  priority: Type.Integer(),
  serviceId: Nullable(Uuid),
  teamId: Nullable(Uuid),
  organisationId: Nullable(Uuid),
  dueAt: Nullable(DateTime),
  breachedAt: DateTime,
  stoppedAt: Nullable(DateTime),
  overdueMinutes: Type.Integer({ description: 'Wall-clock minutes from the breach to the stop (or now)' })
})
export type BreachView = Static<typeof Breach>

/** A page of breaches, the ticket list behind the whole list, and how fresh it is. */
export const BreachPage = Type.Object({
  ...PageOf(Breach).properties,
  tickets: Nullable(
    Type.String({ description: 'GET /api/v1/tickets?filter=…: the tickets of these breaches (SLA only; null for OLA)' })
  ),
  ...FreshnessFields
})
