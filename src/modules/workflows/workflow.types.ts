import { type Static, Type } from 'typebox'
import { StringEnum } from '../../lib/schemas.js'

/**
 * What a transition can require before it is taken. The vocabulary is fixed (the service knows how to
 * check each); which transition requires what is data an admin edits.
 */
export const REQUIREMENTS = [
  'team',
  'assignee',
  'resolution',
  'resolutionCode',
  'approval',
  'rootCause',
  'workaround',
  'plannedWindow',
  'tasksDone',
  'changesReady'
] as const
export type Requirement = (typeof REQUIREMENTS)[number]

export const ACTORS = ['staff', 'requester', 'system'] as const
export type TransitionActor = (typeof ACTORS)[number]

const StatusKey = Type.String({ pattern: '^[a-z][a-z0-9_]{0,39}$', description: 'Status key, e.g. in_progress' })

export const StatusDef = Type.Object(
  {
    key: StatusKey,
    label: Type.String({ minLength: 1, maxLength: 100 }),
    /** open: work goes on; resolved: stamps resolvedAt; closed: final, stamps closedAt, no more edits. */
    phase: StringEnum(['open', 'resolved', 'closed'] as const),
    pausesSla: Type.Boolean({ description: 'SLA clocks stop while a ticket is in this status' }),
    onAssign: Type.Optional(
      Type.Boolean({
        description:
          'A ticket in the initial status moves here when it is given a person, and back when its team is taken away (at most one status, of phase open)'
      })
    ),
    approval: Type.Optional(
      Type.Object(
        {
          approved: StatusKey,
          rejected: StatusKey
        },
        {
          additionalProperties: false,
          description:
            'Entering this status starts an approval round; the outcome moves the ticket to `approved` or `rejected`'
        }
      )
    )
  },
  { additionalProperties: false }
)

export const TransitionDef = Type.Object(
  {
    from: StatusKey,
    to: StatusKey,
    by: Type.Array(StringEnum(ACTORS), { minItems: 1, uniqueItems: true, description: 'Who may take it' }),
    requires: Type.Optional(Type.Array(StringEnum(REQUIREMENTS), { uniqueItems: true }))
  },
  { additionalProperties: false }
)

export const WorkflowDefinition = Type.Object(
  {
    initial: StatusKey,
    statuses: Type.Array(StatusDef, { minItems: 2, maxItems: 50 }),
    transitions: Type.Array(TransitionDef, { minItems: 1, maxItems: 500 })
  },
  { additionalProperties: false }
)
export type WorkflowDefinition = Static<typeof WorkflowDefinition>
export type StatusDef = Static<typeof StatusDef>
export type TransitionDef = Static<typeof TransitionDef>
