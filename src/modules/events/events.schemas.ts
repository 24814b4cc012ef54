import { type Static, Type } from 'typebox'
import { CursorParam, DateTime, DateTimeInput, Limit, Nullable, StringEnum, Uuid } from '../../lib/schemas.js'
import { EVENT_STATUSES, SEVERITIES } from './events.model.js'

const Name = Type.String({ minLength: 1, maxLength: 200 })
const Labels = Type.Record(Type.String({ maxLength: 200 }), Type.String({ maxLength: 1000 }), { maxProperties: 100 })

export const CiRef = Type.Object(
  {
    id: Type.Optional(Uuid),
    hostname: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    fqdn: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    serial: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    macAddress: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    systemUuid: Type.Optional(Type.String({ minLength: 1, maxLength: 64 }))
  },
  {
    additionalProperties: false,
    minProperties: 1,
    description:
      'The CI by id or by identification keys, compared as the CMDB stores them: host names and FQDNs case-insensitively without a trailing dot, serials upper-case (placeholders such as "To be filled by O.E.M." identify nothing), MACs in any of aa:bb:…, AA-BB-…, aabb.ccdd.eeff'
  }
)

/** One event of the generic API. A fingerprint, or labels to compute one, is required. */
export const GenericEvent = Type.Object(
  {
    source: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9][A-Za-z0-9._:/@-]*$' }),
    fingerprint: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    fingerprintFields: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { minItems: 1, maxItems: 50, uniqueItems: true })
    ),
    eventId: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    family: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    severity: StringEnum(SEVERITIES),
    status: Type.Optional(StringEnum(EVENT_STATUSES, { default: 'firing' })),
    summary: Type.String({ minLength: 1, maxLength: 1024 }),
    details: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { maxProperties: 200 })),
    labels: Type.Optional(Labels),
    ci: Type.Optional(CiRef),
    ciId: Type.Optional(Uuid),
    occurredAt: Type.Optional(DateTimeInput),
    startsAt: Type.Optional(DateTimeInput),
    endsAt: Type.Optional(DateTimeInput),
    note: Type.Optional(Type.String({ maxLength: 10000 }))
  },
  { additionalProperties: false }
)
export type GenericEventInput = Static<typeof GenericEvent>

/** What one event did (or why it was refused), per item of a batch. */
export const EventOutcome = Type.Object({
  index: Type.Integer(),
  status: StringEnum(['accepted', 'rejected'] as const),
  eventId: Nullable(Uuid),
  action: Type.String(),
  reason: Type.String(),
  alertId: Nullable(Uuid),
  incidentId: Nullable(Uuid),
  incidentNumber: Nullable(Type.String()),
  replayed: Type.Boolean(),
  errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() })))
})
export type EventOutcomeView = Static<typeof EventOutcome>

export const BatchOutcome = Type.Object({
  accepted: Type.Integer(),
  rejected: Type.Integer(),
  items: Type.Array(EventOutcome),
  tags: Type.Optional(
    Type.Record(Type.String(), Type.String(), {
      description: 'Zabbix: event tags to store (process_tags), naming the incident'
    })
  ),
  status: Type.Optional(Type.String({ description: 'PagerDuty: "success"' })),
  message: Type.Optional(Type.String({ description: 'PagerDuty: "Event processed"' })),
  dedup_key: Type.Optional(Type.String({ description: 'PagerDuty: the dedup key (generated when the event had none)' }))
})

export const EventView = Type.Object({
  id: Uuid,
  source: Type.String(),
  fingerprint: Type.String(),
  family: Nullable(Type.String()),
  externalId: Nullable(Type.String()),
  status: Type.String(),
  severity: Type.String(),
  summary: Type.String(),
  details: Type.Record(Type.String(), Type.Unknown()),
  labels: Type.Record(Type.String(), Type.String()),
  ciId: Nullable(Uuid),
  occurredAt: DateTime,
  receivedAt: DateTime,
  receivedBy: Nullable(Uuid),
  alertId: Nullable(Uuid),
  incidentId: Nullable(Uuid),
  action: Type.String(),
  reason: Type.String(),
  matchedBy: Type.Record(Type.String(), Type.Unknown())
})

export const AlertView = Type.Object({
  id: Uuid,
  source: Type.String(),
  fingerprint: Type.String(),
  family: Nullable(Type.String()),
  state: Type.String(),
  lastStatus: Type.String(),
  severity: Type.String(),
  summary: Type.String(),
  incidentId: Uuid,
  ciId: Nullable(Uuid),
  teamId: Nullable(Uuid),
  routingRuleId: Nullable(Uuid),
  previousAlertId: Nullable(Uuid),
  occurrences: Type.Integer(),
  episodeStart: DateTime,
  firstSeenAt: DateTime,
  lastSeenAt: DateTime,
  endedAt: Nullable(DateTime),
  flapping: Type.Boolean()
})

export const EventListQuery = Type.Object(
  {
    limit: Type.Optional(Limit),
    cursor: Type.Optional(CursorParam),
    source: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    fingerprint: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    incidentId: Type.Optional(Uuid),
    alertId: Type.Optional(Uuid),
    ciId: Type.Optional(Uuid),
    action: Type.Optional(Type.String({ minLength: 1, maxLength: 50 })),
    severity: Type.Optional(StringEnum(SEVERITIES)),
    status: Type.Optional(StringEnum(EVENT_STATUSES)),
    q: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'full-text search over summaries' })),
    since: Type.Optional(DateTimeInput),
    until: Type.Optional(DateTimeInput)
  },
  { additionalProperties: false }
)
export type EventListInput = Static<typeof EventListQuery>

export const AlertListQuery = Type.Object(
  {
    limit: Type.Optional(Limit),
    cursor: Type.Optional(CursorParam),
    source: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    fingerprint: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    incidentId: Type.Optional(Uuid),
    ciId: Type.Optional(Uuid),
    state: Type.Optional(StringEnum(['open', 'resolved'] as const)),
    flapping: Type.Optional(Type.Boolean())
  },
  { additionalProperties: false }
)
export type AlertListInput = Static<typeof AlertListQuery>

const Priority = Type.Object(
  { impact: Type.Integer({ minimum: 1, maximum: 3 }), urgency: Type.Integer({ minimum: 1, maximum: 3 }) },
  { additionalProperties: false }
)

export const EventSettingsBody = Type.Object(
  {
    severityPriority: Type.Optional(
      Type.Object(
        {
          critical: Type.Optional(Priority),
          major: Type.Optional(Priority),
          minor: Type.Optional(Priority),
          warning: Type.Optional(Priority),
          info: Type.Optional(Priority)
        },
        { additionalProperties: false }
      )
    ),
    defaultSeverity: Type.Optional(StringEnum(SEVERITIES)),
    resolveAction: Type.Optional(StringEnum(['resolve', 'note'] as const)),
    flapChanges: Type.Optional(Type.Integer({ minimum: 2, maximum: 1000 })),
    flapWindowMinutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 10080 })),
    defaultTeamId: Type.Optional(Nullable(Uuid)),
    retentionDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })),
    version: Type.Optional(Type.Integer({ minimum: 0 }))
  },
  { additionalProperties: false }
)
export type EventSettingsInput = Omit<Static<typeof EventSettingsBody>, 'version'>

export const EventSettingsView = Type.Object({
  severityPriority: Type.Record(Type.String(), Priority),
  defaultSeverity: Type.String(),
  resolveAction: Type.String(),
  flapChanges: Type.Integer(),
  flapWindowMinutes: Type.Integer(),
  defaultTeamId: Nullable(Uuid),
  retentionDays: Type.Integer(),
  version: Type.Integer()
})

/** What a routing rule matches: every named condition must hold (labels compare exactly). */
export const RuleMatch = Type.Object(
  {
    source: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    severities: Type.Optional(Type.Array(StringEnum(SEVERITIES), { minItems: 1, uniqueItems: true })),
    labels: Type.Optional(Labels),
    summaryContains: Type.Optional(Type.String({ minLength: 1, maxLength: 200 }))
  },
  { additionalProperties: false }
)
export type RuleMatchInput = Static<typeof RuleMatch>

export const RoutingRuleBody = Type.Object(
  {
    name: Name,
    position: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
    enabled: Type.Optional(Type.Boolean()),
    match: RuleMatch,
    teamId: Type.Optional(Nullable(Uuid)),
    impact: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: 3 }))),
    urgency: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: 3 })))
  },
  { additionalProperties: false }
)
export type RoutingRuleInput = Static<typeof RoutingRuleBody>
export const RoutingRulePatch = Type.Partial(RoutingRuleBody, { additionalProperties: false })
export type RoutingRulePatchInput = Static<typeof RoutingRulePatch>

export const RoutingRuleView = Type.Object({
  id: Uuid,
  name: Type.String(),
  position: Type.Integer(),
  enabled: Type.Boolean(),
  match: RuleMatch,
  teamId: Nullable(Uuid),
  impact: Nullable(Type.Integer()),
  urgency: Nullable(Type.Integer()),
  version: Type.Integer(),
  createdAt: DateTime,
  updatedAt: DateTime
})

export const PROBLEM_GROUPINGS = ['ci', 'fingerprint', 'family', 'category'] as const

export const ProblemRuleBody = Type.Object(
  {
    name: Name,
    enabled: Type.Optional(Type.Boolean()),
    groupBy: StringEnum(PROBLEM_GROUPINGS),
    threshold: Type.Integer({ minimum: 2, maximum: 100000 }),
    windowMinutes: Type.Integer({ minimum: 1, maximum: 525600 }),
    source: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 100 }))),
    teamId: Type.Optional(Nullable(Uuid))
  },
  { additionalProperties: false }
)
export type ProblemRuleInput = Static<typeof ProblemRuleBody>
export const ProblemRulePatch = Type.Partial(ProblemRuleBody, { additionalProperties: false })
export type ProblemRulePatchInput = Static<typeof ProblemRulePatch>

export const ProblemRuleView = Type.Object({
  id: Uuid,
  name: Type.String(),
  enabled: Type.Boolean(),
  groupBy: Type.String(),
  threshold: Type.Integer(),
  windowMinutes: Type.Integer(),
  source: Nullable(Type.String()),
  teamId: Nullable(Uuid),
  lastRunAt: Nullable(DateTime),
  version: Type.Integer(),
  createdAt: DateTime,
  updatedAt: DateTime
})

export const RuleListQuery = Type.Object(
  { limit: Type.Optional(Limit), cursor: Type.Optional(CursorParam) },
  { additionalProperties: false }
)
export type RuleListInput = Static<typeof RuleListQuery>
