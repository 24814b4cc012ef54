import { type Static, Type } from 'typebox'
import { DateTime, Nullable, StringEnum, Uuid } from '../../lib/schemas.js'

export const CHANGE_TYPES = ['standard', 'normal', 'emergency'] as const
export type ChangeType = (typeof CHANGE_TYPES)[number]

/** none: pre-approved; all: every approver; any: one approver; quorum: at least `quorum` approvers. */
export const APPROVAL_RULES = ['none', 'all', 'any', 'quorum'] as const
export type ApprovalRule = (typeof APPROVAL_RULES)[number]

export const ChangeTypeParams = Type.Object({ type: StringEnum(CHANGE_TYPES) }, { additionalProperties: false })

export const ChangeApprovalPolicy = Type.Object({
  changeType: StringEnum(CHANGE_TYPES),
  rule: StringEnum(APPROVAL_RULES),
  quorum: Nullable(Type.Integer()),
  approverIds: Type.Array(Uuid),
  approverTeamId: Nullable(Uuid),
  effectiveApproverIds: Type.Array(Uuid, {
    description:
      'Who may approve now: the named approvers and every member of every layer of the approver team, active staff only'
  }),
  isDefault: Type.Boolean({ description: 'No policy was set for this type: the built-in default applies' }),
  version: Type.Integer({ description: '0 while the built-in default applies; send it back to change the policy' }),
  updatedAt: Nullable(DateTime)
})

export const SetPolicyBody = Type.Object(
  {
    rule: StringEnum(APPROVAL_RULES),
    quorum: Type.Optional(
      Nullable(Type.Integer({ minimum: 1, maximum: 1000, description: 'Required for rule quorum, only then' }))
    ),
    approverIds: Type.Optional(
      Type.Array(Uuid, {
        maxItems: 200,
        uniqueItems: true,
        description: 'Active users with a staff role (technician, supervisor, manager, admin)'
      })
    ),
    approverTeamId: Type.Optional(Nullable(Uuid))
  },
  { additionalProperties: false }
)
export type SetPolicyInput = Static<typeof SetPolicyBody>
