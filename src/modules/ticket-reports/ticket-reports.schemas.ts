import { type Static, Type } from 'typebox'
import { DateTime, DateTimeInput, FreshnessFields, Nullable, StringEnum } from '../../lib/schemas.js'
import { GROUP_BY } from './ticket-reports.repository.js'
import { INTERVALS } from './trends.repository.js'

const Filter = Type.Optional(
  Type.String({
    minLength: 1,
    maxLength: 2000,
    description: 'RSQL over the ticket list fields (the same filter as GET /api/v1/tickets)'
  })
)
const CsvFormat = Type.Optional(StringEnum(['csv'] as const, { description: 'csv: the same as Accept: text/csv' }))
const from = { ...DateTimeInput, description: 'Start of the period (inclusive), ISO-8601.' }
const to = { ...DateTimeInput, description: 'End of the period (exclusive), ISO-8601; after from.' }
const Edges = (defaults: string) =>
  Type.Optional(
    Type.String({
      pattern: '^[0-9]{1,5}(,[0-9]{1,5}){0,19}$',
      description: `Bucket edges in days, ascending, comma-separated (default ${defaults})`
    })
  )
const TicketsLink = Type.String({ description: 'The /api/v1/tickets?filter=… list of the tickets behind the figure' })

export const SummaryQuery = Type.Object(
  {
    from,
    to,
    groupBy: Type.Optional(
      StringEnum(GROUP_BY, { description: 'team, organisation, service, priority, category or assignee' })
    ),
    filter: Filter,
    format: CsvFormat
  },
  { additionalProperties: false }
)
export type SummaryInput = Static<typeof SummaryQuery>

export const SummaryRow = Type.Object({
  kind: Type.String(),
  key: Nullable(Type.String({ description: 'The group: an id, or the priority; null: tickets without one' })),
  name: Nullable(Type.String()),
  total: Type.Integer({ description: 'Tickets created in the period' }),
  open: Type.Integer({ description: 'Of those, neither resolved nor closed now' }),
  closed: Type.Integer({ description: 'Of those, resolved or closed now' }),
  pastDue: Type.Integer({ description: 'Of the open, those whose SLA resolution clock breached or fell due' }),
  tickets: TicketsLink,
  openTickets: TicketsLink,
  closedTickets: TicketsLink,
  pastDueTickets: TicketsLink
})
export type SummaryRowView = Static<typeof SummaryRow>

export const SummaryReport = Type.Object({
  from: DateTime,
  to: DateTime,
  ...FreshnessFields,
  groupBy: Nullable(StringEnum(GROUP_BY)),
  rows: Type.Array(SummaryRow)
})

export const AgeingQuery = Type.Object(
  {
    edges: Edges('30,60,90'),
    resolutionEdges: Edges('2,7,30,60'),
    pastDueEdges: Edges('1,7,30'),
    from: Type.Optional({ ...from, description: 'Resolution times: tickets done from (inclusive)' }),
    to: Type.Optional({ ...to, description: 'Resolution times: tickets done before (exclusive)' }),
    filter: Filter,
    format: CsvFormat
  },
  { additionalProperties: false }
)
export type AgeingInput = Static<typeof AgeingQuery>

export const AgeingRow = Type.Object({
  section: StringEnum(['age', 'resolution', 'pastDue'] as const, {
    description: 'age: by days since creation; resolution: by days to resolve; pastDue: by days past due'
  }),
  fromDays: Type.Integer(),
  toDays: Nullable(Type.Integer({ description: 'Exclusive; null: no upper edge' })),
  count: Type.Integer({
    description: 'age: open tickets; resolution: tickets done; pastDue: open past-due tickets'
  }),
  issued: Nullable(Type.Integer({ description: 'age: tickets created in the bucket (null in other sections)' })),
  closed: Nullable(Type.Integer({ description: 'age: of those, resolved or closed (null in other sections)' })),
  tickets: TicketsLink
})
export type AgeingRowView = Static<typeof AgeingRow>

export const AgeingReport = Type.Object({ ...FreshnessFields, rows: Type.Array(AgeingRow) })

export const TrendsQuery = Type.Object(
  {
    from,
    to,
    interval: Type.Optional(StringEnum(INTERVALS, { default: 'day', description: 'day (default), week or month' })),
    timeZone: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, default: 'UTC', description: 'IANA time zone of the buckets' })
    ),
    filter: Filter,
    table: Type.Optional(
      StringEnum(['buckets', 'timings', 'escalations'] as const, {
        default: 'buckets',
        description: 'Which table a CSV answer holds (buckets by default)'
      })
    ),
    format: CsvFormat
  },
  { additionalProperties: false }
)
export type TrendsInput = Static<typeof TrendsQuery>

export const TrendBucket = Type.Object({
  label: Type.String({ description: 'The local date the bucket starts (YYYY-MM-DD in timeZone)' }),
  start: DateTime,
  end: DateTime,
  created: Type.Integer(),
  resolved: Type.Integer({ description: 'Resolved (or closed without resolution) in the bucket' }),
  backlog: Type.Integer({ description: 'Open at the end of the bucket' }),
  tickets: TicketsLink,
  resolvedTickets: TicketsLink,
  backlogTickets: TicketsLink
})
export type TrendBucketView = Static<typeof TrendBucket>

const Minutes = (d: string) => Nullable(Type.Number({ description: `${d}, minutes (2 decimals); null: none` }))
export const TimingRow = Type.Object({
  teamId: Nullable(Type.String()),
  teamName: Nullable(Type.String()),
  priority: Type.Integer(),
  count: Type.Integer({ description: 'Tickets created in the period' }),
  responded: Type.Integer(),
  responseMeanMinutes: Minutes('Mean time to first response'),
  responseMedianMinutes: Minutes('Median time to first response'),
  responseBusinessTime: Type.Integer({
    description: 'Responses measured in SLA business minutes (the rest: wall time)'
  }),
  resolved: Type.Integer(),
  resolveMeanMinutes: Minutes('Mean time to resolve'),
  resolveMedianMinutes: Minutes('Median time to resolve'),
  resolveBusinessTime: Type.Integer({
    description: 'Resolutions measured in SLA business minutes (the rest: wall time)'
  }),
  tickets: TicketsLink
})
export type TimingRowView = Static<typeof TimingRow>

export const Rates = Type.Object({
  resolved: Type.Integer({ description: 'Tickets resolved (or closed) in the period' }),
  firstContact: Type.Integer({ description: 'Of those, never handed to another team or layer nor reopened' }),
  firstContactRate: Nullable(Type.Number({ description: 'Percent (2 decimals); null when none resolved' })),
  reopened: Type.Integer({ description: 'Of those, reopened at least once' }),
  reopenRate: Nullable(Type.Number({ description: 'Percent (2 decimals); null when none resolved' })),
  tickets: TicketsLink
})

export const EscalationRow = Type.Object({
  layer: Type.Integer({ description: 'The layer moved to' }),
  escalations: Type.Integer({ description: 'Moves to a higher layer in the period (audit trail)' })
})

export const TrendsReport = Type.Object({
  from: DateTime,
  to: DateTime,
  ...FreshnessFields,
  interval: StringEnum(INTERVALS),
  timeZone: Type.String(),
  buckets: Type.Array(TrendBucket),
  timings: Type.Array(TimingRow),
  rates: Rates,
  escalations: Type.Array(EscalationRow)
})

export const ReportSettings = Type.Object({
  customerAccess: Type.Boolean({
    description: "reports.customerAccess: customers read their organisation's summary and SLA compliance"
  }),
  version: Type.Integer()
})
export const ReportSettingsBody = Type.Object({ customerAccess: Type.Boolean() }, { additionalProperties: false })
export type ReportSettingsInput = Static<typeof ReportSettingsBody>
