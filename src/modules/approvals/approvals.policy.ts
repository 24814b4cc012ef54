import { eq } from 'drizzle-orm'
import { catalogOfferings, changeDetails, requestDetails } from '../../db/schema/index.js'
import type { Queryable } from '../../lib/context.js'
import type { OfferingApproval } from '../catalog/catalog.service.js'
import type { ChangeType } from '../changes/policies.schemas.js'
import { approversOf, policyFor } from '../changes/policies.service.js'
import { KIND_INFO, type TicketKind } from '../tickets/kinds.js'
import type { Row } from '../tickets/tickets.repository.js'

/** What decides a ticket's approval: nothing (pre-approved), a rule with its approvers, or no policy at all. */
export type TicketPolicy =
  | { need: 'none'; why: string }
  | { need: 'unknown'; why: string }
  | {
      need: 'rule'
      rule: 'all' | 'any' | 'quorum'
      quorum: number | null
      approverIds: string[]
      approverTeamId: string | null
      /** Names the policy in history notes: "the normal change policy", "the offering "Laptop"". */
      source: string
    }

/**
 * The policy in force for a ticket now: a change follows its type's policy (policies.service); a
 * service request follows its catalog offering (null approval: none needed; an inactive offering still
 * governs the requests raised from it). Other kinds have no approval policy: a workflow an admin gave
 * an approval status waits until someone moves the ticket on.
 */
export async function policyOfTicket(q: Queryable, row: Row): Promise<TicketPolicy> {
  const kind = row.kind as TicketKind
  if (kind === 'change') {
    const [d] = await q
      .select({ type: changeDetails.type })
      .from(changeDetails)
      .where(eq(changeDetails.ticketId, row.id))
    if (!d) return { need: 'unknown', why: 'the change has no type' }
    const policy = await policyFor(q, d.type as ChangeType)
    if (policy.rule === 'none') return { need: 'none', why: `${d.type} changes are pre-approved` }
    return {
      need: 'rule',
      rule: policy.rule,
      quorum: policy.quorum,
      approverIds: policy.approverIds,
      approverTeamId: policy.approverTeamId,
      source: `the ${d.type} change approval policy`
    }
  }
  if (kind === 'request') {
    const [r] = await q
      .select({ name: catalogOfferings.name, approval: catalogOfferings.approval })
      .from(requestDetails)
      .innerJoin(catalogOfferings, eq(catalogOfferings.id, requestDetails.offeringId))
      .where(eq(requestDetails.ticketId, row.id))
    if (!r) return { need: 'none', why: 'the request names no catalog offering' }
    const approval = r.approval as OfferingApproval | null
    if (!approval) return { need: 'none', why: `the offering "${r.name}" needs no approval` }
    return {
      need: 'rule',
      rule: approval.rule,
      quorum: approval.quorum ?? null,
      approverIds: approval.approverIds ?? [],
      approverTeamId: approval.approverTeamId ?? null,
      source: `the offering "${r.name}"`
    }
  }
  return { need: 'unknown', why: `there is no approval policy for ${KIND_INFO[kind].noun}s` }
}

/**
 * Who can approve under a rule now (active staff, named or in the team), and whether they can ever
 * meet it. An empty set never approves: nobody approving is not "all of nobody approved".
 */
export async function approversFor(q: Queryable, policy: Extract<TicketPolicy, { need: 'rule' }>) {
  const approvers = await approversOf(q, policy)
  const needed = policy.rule === 'quorum' ? (policy.quorum ?? 1) : 1
  return { approvers, reachable: approvers.length >= needed }
}

/** The outcome of a round once decisions are in, or null while it is still open. */
export function outcomeOf(
  rule: string,
  quorum: number | null,
  states: readonly string[]
): 'approved' | 'rejected' | null {
  const count = (s: string) => states.filter(x => x === s).length
  const approved = count('approved')
  const rejected = count('rejected')
  const pending = count('pending')
  if (rule === 'none') return 'approved'
  if (states.length === 0) return null
  if (rule === 'all') return rejected > 0 ? 'rejected' : approved === states.length ? 'approved' : null
  if (rule === 'any') return approved > 0 ? 'approved' : rejected === states.length ? 'rejected' : null
  // quorum: approved as soon as n approved, rejected as soon as those left cannot make up n
  const n = quorum ?? 1
  return approved >= n ? 'approved' : approved + pending < n ? 'rejected' : null
}
