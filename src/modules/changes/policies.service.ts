import { and, arrayOverlaps, asc, eq, inArray, or, type SQL } from 'drizzle-orm'
import type { Actor } from '../../auth/actor.js'
import { authorize, isStaff } from '../../auth/policy.js'
import { changeApprovalPolicies, teamMembers, teams, users } from '../../db/schema/index.js'
import type { Ctx, Deps, Queryable } from '../../lib/context.js'
import { type FieldError, fieldError, forbidden, validationFailed } from '../../lib/errors.js'
import { nameUuid } from '../../lib/ids.js'
import { adminSettings } from '../admin/admin-settings.js'
import { type ApprovalRule, CHANGE_TYPES, type ChangeType, type SetPolicyInput } from './policies.schemas.js'

/** The roles that may approve a change: the same set `isStaff` checks for an actor. */
const APPROVER_ROLES = ['technician', 'supervisor', 'manager', 'admin']

export interface ChangeApprovalPolicy {
  changeType: ChangeType
  rule: ApprovalRule
  quorum: number | null
  approverIds: string[]
  approverTeamId: string | null
  /** True when no row exists and the built-in default below applies. */
  isDefault: boolean
  updatedAt: Date | null
}

/**
 * Built-in policies for a type nobody configured. Standard changes are pre-approved by definition.
 * Normal: every approver, and none is named, so a normal change cannot be approved until an admin
 * names approvers. That fails closed on purpose: no change slips through because nobody configured
 * approval. Whoever decides a round must therefore treat an empty approver set as "cannot be approved",
 * never as "all of nobody approved". Emergency: any one approver (the emergency CAB), same caveat.
 */
const DEFAULTS: Record<ChangeType, Pick<ChangeApprovalPolicy, 'rule' | 'quorum'>> = {
  standard: { rule: 'none', quorum: null },
  normal: { rule: 'all', quorum: null },
  emergency: { rule: 'any', quorum: null }
}

const FIELDS: (keyof ChangeApprovalPolicy & string)[] = ['rule', 'quorum', 'approverIds', 'approverTeamId']

const fromRow = (row: typeof changeApprovalPolicies.$inferSelect): ChangeApprovalPolicy => ({
  changeType: row.changeType as ChangeType,
  rule: row.rule as ApprovalRule,
  quorum: row.quorum,
  approverIds: row.approverIds,
  approverTeamId: row.approverTeamId,
  isDefault: false,
  updatedAt: row.updatedAt
})

const defaultPolicy = (changeType: ChangeType): ChangeApprovalPolicy => ({
  changeType,
  ...DEFAULTS[changeType],
  approverIds: [],
  approverTeamId: null,
  isDefault: true,
  updatedAt: null
})

/** The policy in force for a change type: the configured row, or the built-in default. */
export async function policyFor(q: Queryable, changeType: ChangeType): Promise<ChangeApprovalPolicy> {
  const [row] = await q.select().from(changeApprovalPolicies).where(eq(changeApprovalPolicies.changeType, changeType))
  return row ? fromRow(row) : defaultPolicy(changeType)
}

/**
 * Who may approve under a policy right now: the named approvers and every member of every layer of
 * the approver team, active users with a staff role only (a user demoted or disabled since the policy
 * was set drops out), deduplicated, ordered by id. One query.
 */
export async function approversOf(
  q: Queryable,
  policy: Pick<ChangeApprovalPolicy, 'approverIds' | 'approverTeamId'>
): Promise<string[]> {
  const who: SQL[] = []
  if (policy.approverIds.length > 0) who.push(inArray(users.id, policy.approverIds))
  if (policy.approverTeamId) {
    const members = q
      .select({ id: teamMembers.userId })
      .from(teamMembers)
      .where(eq(teamMembers.teamId, policy.approverTeamId))
    who.push(inArray(users.id, members))
  }
  if (who.length === 0) return []
  const rows = await q
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.active, true), arrayOverlaps(users.roles, APPROVER_ROLES), or(...who)))
    .orderBy(asc(users.id))
  return rows.map(r => r.id)
}

/** Policies steer internal change management: staff read them (config.read alone lets customers in). */
function authorizeRead(actor: Actor) {
  authorize(actor, 'config.read')
  if (actor.kind !== 'system' && !isStaff(actor)) throw forbidden('change approval policies are visible to staff only')
}

async function checkApprovers(q: Queryable, ids: string[]): Promise<FieldError[]> {
  if (ids.length === 0) return []
  const rows = await q
    .select({ id: users.id, active: users.active, roles: users.roles })
    .from(users)
    .where(inArray(users.id, ids))
  const byId = new Map(rows.map(r => [r.id, r]))
  const errors: FieldError[] = []
  ids.forEach((id, i) => {
    const row = byId.get(id)
    const field = `approverIds.${i}`
    if (!row) errors.push({ field, message: 'no such user' })
    else if (!row.active) errors.push({ field, message: 'user is disabled' })
    else if (!row.roles.some(r => APPROVER_ROLES.includes(r))) {
      errors.push({ field, message: 'an approver needs a staff role (technician, supervisor, manager or admin)' })
    }
  })
  return errors
}

export type PolicyView = ChangeApprovalPolicy & { effectiveApproverIds: string[]; version: number }

/** Change approval policies, one per change type; reads by staff, writes config.manage (admin). */
export function createPolicyService({ db }: Deps) {
  const policies = adminSettings<ChangeType, ChangeApprovalPolicy>({
    table: changeApprovalPolicies,
    key: changeApprovalPolicies.changeType,
    version: changeApprovalPolicies.version,
    entityType: 'change_approval_policy',
    noun: 'change approval policy',
    auditId: changeType => policyAuditId(changeType),
    read: (row, changeType) =>
      row ? fromRow(row as typeof changeApprovalPolicies.$inferSelect) : defaultPolicy(changeType),
    columns: (changeType, p) => ({
      changeType,
      rule: p.rule,
      quorum: p.quorum,
      approverIds: p.approverIds,
      approverTeamId: p.approverTeamId
    }),
    fields: () => FIELDS,
    authorizeRead: ctx => authorizeRead(ctx.actor),
    authorizeWrite: ctx => authorize(ctx.actor, 'config.manage')
  })
  const view = async (q: Queryable, p: ChangeApprovalPolicy, version: number): Promise<PolicyView> => ({
    ...p,
    effectiveApproverIds: await approversOf(q, p),
    version
  })

  return {
    async list(ctx: Ctx): Promise<{ items: PolicyView[]; nextCursor: null }> {
      authorizeRead(ctx.actor)
      const rows = await db.select().from(changeApprovalPolicies)
      const byType = new Map(rows.map(r => [r.changeType, r]))
      const items = await Promise.all(
        CHANGE_TYPES.map(t => {
          const row = byType.get(t)
          return view(db, row ? fromRow(row) : defaultPolicy(t), row?.version ?? 0)
        })
      )
      return { items, nextCursor: null }
    },

    async get(ctx: Ctx, changeType: ChangeType): Promise<PolicyView> {
      const { value, version } = await policies.get(ctx, changeType)
      return view(db, value, version)
    },

    async set(ctx: Ctx, changeType: ChangeType, input: SetPolicyInput, expectedVersion?: number): Promise<PolicyView> {
      authorize(ctx.actor, 'config.manage')
      const approverIds = input.approverIds ?? []
      const approverTeamId = input.approverTeamId ?? null
      const quorum = input.quorum ?? null
      if (input.rule === 'quorum' && quorum === null) throw fieldError('quorum', 'required for rule quorum')
      if (input.rule !== 'quorum' && quorum !== null) throw fieldError('quorum', 'only with rule quorum')
      let possible: string[] = []
      const { value, version } = await policies.set(ctx, changeType, expectedVersion, async (tx, before) => {
        const errors = await checkApprovers(tx, approverIds)
        if (approverTeamId) {
          const [team] = await tx.select({ id: teams.id }).from(teams).where(eq(teams.id, approverTeamId))
          if (!team) errors.push({ field: 'approverTeamId', message: 'no such team' })
        }
        if (errors.length > 0) throw validationFailed(errors)
        possible = await approversOf(tx, { approverIds, approverTeamId })
        if (input.rule !== 'none' && possible.length === 0) {
          throw fieldError(
            'approverIds',
            `rule ${input.rule} needs at least one approver: name users or an approver team with active staff members`
          )
        }
        if (input.rule === 'quorum' && quorum !== null && quorum > possible.length) {
          throw fieldError('quorum', `at most ${possible.length}, the number of possible approvers`)
        }
        return { ...before, rule: input.rule, quorum, approverIds, approverTeamId }
      })
      return { ...value, effectiveApproverIds: possible, version }
    }
  }
}

/** The audit entity id of a change type's policy (audit rows are keyed by UUID). */
export const policyAuditId = (changeType: ChangeType) => nameUuid(`change_approval_policy:${changeType}`)

export type PolicyService = ReturnType<typeof createPolicyService>
