import { type Static, Type } from 'typebox'
import { DateTime, Nullable, StringEnum, Uuid } from '../../lib/schemas.js'
import { TICKET_KINDS } from '../tickets/kinds.js'

export const APPROVAL_STATES = ['pending', 'approved', 'rejected', 'cancelled'] as const
export type ApprovalState = (typeof APPROVAL_STATES)[number]
export const ROUND_RULES = ['none', 'all', 'any', 'quorum'] as const
export type RoundRule = (typeof ROUND_RULES)[number]
export const DECISIONS = ['approve', 'reject'] as const

export const DecisionBody = Type.Object(
  {
    decision: StringEnum(DECISIONS),
    comment: Type.Optional(Type.String({ minLength: 1, maxLength: 10_000, description: 'Why; required to reject' }))
  },
  { additionalProperties: false }
)
export type DecisionInput = Static<typeof DecisionBody>

export const Approval = Type.Object({
  id: Uuid,
  ticketId: Uuid,
  round: Type.Integer(),
  approverId: Uuid,
  approverName: Type.String(),
  state: StringEnum(APPROVAL_STATES),
  comment: Nullable(Type.String()),
  decidedAt: Nullable(DateTime),
  createdAt: DateTime
})

export const ApprovalRound = Type.Object({
  ticketId: Uuid,
  round: Type.Integer({ description: '1 for the first approval, one more each time the ticket comes back' }),
  rule: StringEnum(ROUND_RULES, { description: 'The rule in force when the round started' }),
  quorum: Nullable(Type.Integer()),
  state: StringEnum(APPROVAL_STATES),
  startedAt: DateTime,
  decidedAt: Nullable(DateTime),
  approvals: Type.Array(Approval, {
    description: 'One per approver; empty while nobody is able to approve (an admin must name approvers)'
  })
})

export const RoundList = Type.Object({ items: Type.Array(ApprovalRound), nextCursor: Nullable(Type.String()) })

export const MyApprovalsQuery = Type.Object(
  {
    state: Type.Optional(StringEnum(APPROVAL_STATES, { description: 'pending: your queue' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
    cursor: Type.Optional(Type.String({ maxLength: 512 }))
  },
  { additionalProperties: false }
)
export type MyApprovalsInput = Static<typeof MyApprovalsQuery>

export const MyApproval = Type.Object({
  id: Uuid,
  ticketId: Uuid,
  kind: StringEnum(TICKET_KINDS),
  number: Type.String(),
  title: Type.String(),
  ticketStatus: Type.String(),
  round: Type.Integer(),
  state: StringEnum(APPROVAL_STATES),
  comment: Nullable(Type.String()),
  decidedAt: Nullable(DateTime),
  createdAt: DateTime
})
