import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { at, changeInAuthorize, makeChange, makeChangeTemplate, makeCi, relate, setPolicy } from '../helpers/changes.js'
import { makeService, makeTeam, makeUser } from '../helpers/factories.js'
import {
  codes,
  EVERY_FIELD_LIMITS,
  fields,
  type GqlBody,
  loadSchema,
  objectType,
  selectAll,
  shapeProblems
} from '../helpers/graphql.js'
import { makeOffering, makeRequest } from '../helpers/requests.js'

const schema = loadSchema()
const all = (type: string) => selectAll(schema, type)
/** Types this file proves answer every field (test/graphql/contract.test.ts lists them as covered here). */
const CHANGE_TYPES_COVERED = [
  'Approval',
  'ApprovalRound',
  'MyApproval',
  'MyApprovalEdge',
  'MyApprovalConnection',
  'ChangeConflict',
  'ChangeCalendarEntry',
  'ChangeCalendarEdge',
  'ChangeCalendarConnection'
]
/** Null on a fully populated record, rightly. */
const allowNull = [
  // No SLA applies to changes here: no clocks
  'TicketSlaSummary.response',
  'TicketSlaSummary.resolution',
  'Change.releaseId',
  'Change.resolvedAt',
  'Change.closedAt',
  'Change.resolution',
  'Change.resolutionCode',
  'Change.organisationId',
  'Change.organisation',
  'Change.assigneeId',
  'Change.assignee',
  'Change.layer',
  'Change.teamId',
  'Change.team',
  'Change.category',
  'Change.categoryId',
  'ConfigurationItem.hostname',
  'ConfigurationItem.fqdn',
  'ConfigurationItem.serial',
  'ConfigurationItem.macAddress',
  'ConfigurationItem.systemUuid',
  'ConfigurationItem.supportTeamId',
  'ConfigurationItem.supportTeam',
  ...['assetTag', 'ownerTeamId', 'ownerTeam', 'organisationId', 'location', 'costCentreId', 'missingSince'].map(
    f => `ConfigurationItem.${f}`
  ),
  'CiHistoryEntry.source',
  'CiFieldChange.old',
  'CiFieldChange.new',
  'CiTicket.resolvedAt',
  'CiTicket.closedAt',
  'User.email',
  // The teams of the change's service: their own fields are the identity tests' business
  'Team.description',
  'Team.managerId',
  'Team.manager',
  'User.phone',
  'User.organisationId',
  'User.organisation',
  'FieldChange.old',
  'FieldChange.new',
  'PageInfo.endCursor',
  'ApprovalRound.quorum',
  'ApprovalRound.decidedAt',
  'Approval.comment',
  'Approval.decidedAt',
  'MyApproval.comment',
  'MyApproval.decidedAt',
  // A freeze conflict names no change; a change conflict no freeze
  'ChangeConflict.changeId',
  'ChangeConflict.number',
  'ChangeConflict.change',
  'ChangeConflict.freezeId',
  'ChangeConflict.freezeName',
  'ChangeConflict.ciIds'
]

const CALENDAR = `edges { cursor node { id number title status type risk plannedStart plannedEnd ciIds
  change { id number } conflicts { reason changeId number ciIds freezeId freezeName change { id number } } } }
  pageInfo { hasNextPage endCursor }`

describe('changes and approvals over GraphQL', () => {
  let t: TestApp
  let approver: { id: string; token: string }
  let tech: { id: string; token: string }
  let customer: { token: string }
  const seen = new Set<string>()

  function expectShape(body: GqlBody, root: 'Query' | 'Mutation') {
    expect(body.errors, JSON.stringify(body.errors)).toBeUndefined()
    const rootFields = objectType(schema, root).getFields()
    const problems = Object.entries(body.data ?? {}).flatMap(([name, value]) =>
      shapeProblems(schema, rootFields[name]!.type, value, { strict: true, allowNull, seen }, name)
    )
    expect(problems).toEqual([])
  }

  beforeAll(async () => {
    t = await buildTestApp(EVERY_FIELD_LIMITS)
    approver = await makeUser(t, ['manager'])
    tech = await makeUser(t, ['technician'])
    customer = await makeUser(t, ['customer'])
  })
  afterAll(async () => t?.close())

  it('creates and updates a change with every change field', async () => {
    const [a, b] = [await makeCi(t), await makeCi(t)]
    const template = await makeChangeTemplate(t, false)
    const created = await t.gql(
      `mutation($input: CreateChangeInput!) { createChange(input: $input) ${all('Change')} }`,
      {
        input: {
          title: 'Swap the core switch',
          type: 'normal',
          risk: 'high',
          implementationPlan: 'swap',
          backoutPlan: 'swap back',
          testPlan: 'ping',
          plannedStart: at(4, 1),
          plannedEnd: at(4, 3),
          ciIds: [a.id],
          templateId: template.id,
          serviceId: (await makeService(t)).id
        }
      }
    )
    expectShape(created.body, 'Mutation')
    const change = created.body.data!.createChange
    expect(change).toMatchObject({
      type: 'normal',
      risk: 'high',
      ciIds: [a.id],
      approvals: [],
      templateId: template.id
    })
    expect(change.cis.map((c: { id: string }) => c.id)).toEqual([a.id])

    const updated = await t.gql(
      `mutation($id: ID!, $input: UpdateChangeInput!) { updateChange(id: $id, version: 1, input: $input) {
        version risk plannedEnd ciIds cis { id } } }`,
      { id: change.id, input: { risk: 'low', plannedEnd: at(4, 5), ciIds: [b.id, a.id] } }
    )
    expect(updated.body.errors).toBeUndefined()
    expect(updated.body.data!.updateChange).toMatchObject({ version: 2, risk: 'low', plannedEnd: at(4, 5) })
    expect(updated.body.data!.updateChange.ciIds).toEqual([a.id, b.id].sort())

    const missingType = await t.gql('mutation { createChange(input: { title: "x" }) { id } }')
    expect(fields(missingType.body)).toEqual(['type'])
    const backwards = await t.gql(
      `mutation { createChange(input: { title: "x", type: emergency, plannedStart: "${at(5)}", plannedEnd: "${at(4)}" }) { id } }`
    )
    expect(fields(backwards.body)).toEqual(['plannedEnd'])
    const retype = await t.gql(
      `mutation($id: ID!) { updateChange(id: $id, version: 2, input: { type: emergency }) { id } }`,
      { id: change.id }
    )
    expect(fields(retype.body)).toEqual(['type'])
  })

  it('decides approvals, lists rounds on the change and the approver’s queue', async () => {
    await setPolicy(t, 'normal', { rule: 'all', approverIds: [approver.id] })
    const c = await changeInAuthorize(t, { title: 'Queued change' })
    const queue = await t.gql(`{ myApprovals(state: pending) ${all('MyApprovalConnection')} }`, {}, approver.token)
    expectShape(queue.body, 'Query')
    const item = queue.body.data!.myApprovals.edges[0].node
    expect(item).toMatchObject({ ticketId: c.id, number: c.number, title: 'Queued change', kind: 'change' })
    expect(item.ticket.__typename).toBe('Change')

    const denied = await t.gql(
      'mutation($id: ID!) { decideApproval(id: $id, decision: approve) { state } }',
      { id: c.id },
      tech.token
    )
    expect(codes(denied.body)).toEqual(['FORBIDDEN'])
    const noComment = await t.gql(
      'mutation($id: ID!) { decideApproval(id: $id, decision: reject) { state } }',
      { id: c.id },
      approver.token
    )
    expect(fields(noComment.body)).toEqual(['comment'])

    const decided = await t.gql(
      `mutation($id: ID!) { decideApproval(id: $id, decision: approve, comment: "fine") ${all('ApprovalRound')} }`,
      { id: c.id },
      approver.token
    )
    expectShape(decided.body, 'Mutation')
    const round = decided.body.data!.decideApproval
    expect(round).toMatchObject({ round: 1, rule: 'all', state: 'approved', ticket: { status: 'scheduled' } })
    expect(round.approvals[0]).toMatchObject({ approverId: approver.id, state: 'approved', comment: 'fine' })
    expect(round.approvals[0].approver.id).toBe(approver.id)

    const again = await t.gql(
      'mutation($id: ID!) { decideApproval(id: $id, decision: approve) { state } }',
      { id: c.id },
      approver.token
    )
    expect(codes(again.body)).toEqual(['CONFLICT'])
    const read = await t.gql(
      'query($id: ID!) { change(id: $id) { status approvals { round state approvals { state } } } }',
      {
        id: c.id
      }
    )
    expect(read.body.data!.change).toMatchObject({
      status: 'scheduled',
      approvals: [{ round: 1, state: 'approved', approvals: [{ state: 'approved' }] }]
    })
  })

  it('batches approvals and CIs of listed changes, and shows request approvals', async () => {
    const ci = await makeCi(t)
    for (let i = 0; i < 3; i++) await makeChange(t, { ciIds: [ci.id] })
    const listed = await t.gql('{ changes(first: 10) { edges { node { id ciIds cis { id } approvals { round } } } } }')
    expect(listed.body.errors).toBeUndefined()
    const nodes = listed.body.data!.changes.edges.map((e: { node: unknown }) => e.node)
    expect(nodes.filter((n: { cis: { id: string }[] }) => n.cis.some(c => c.id === ci.id))).toHaveLength(3)

    const offering = await makeOffering(t, { approval: { rule: 'any', approverIds: [approver.id] } })
    const req = await makeRequest(t, { offeringId: offering.id })
    const decided = await t.gql(
      'mutation($id: ID!) { decideApproval(id: $id, decision: approve) { state ticket { status } } }',
      { id: req.id },
      approver.token
    )
    expect(decided.body.data!.decideApproval).toEqual({ state: 'approved', ticket: { status: 'in_fulfilment' } })
    const read = await t.gql(
      'query($id: ID!) { request(id: $id) { approvals { rule state approvals { approverId } } } }',
      {
        id: req.id
      }
    )
    expect(read.body.data!.request.approvals).toEqual([
      { rule: 'any', state: 'approved', approvals: [{ approverId: approver.id }] }
    ])
  })

  it('answers the change calendar with conflicts, staff only', async () => {
    const [web, vm] = [await makeCi(t), await makeCi(t)]
    await relate(t, web.id, vm.id)
    const a = await makeChange(t, { plannedStart: at(25, 8), plannedEnd: at(25, 12), ciIds: [web.id] })
    const b = await makeChange(t, { plannedStart: at(25, 9), plannedEnd: at(25, 10), ciIds: [web.id] })
    const c = await makeChange(t, { plannedStart: at(25, 9), plannedEnd: at(25, 10), ciIds: [vm.id] })
    await t.api('POST', '/api/v1/change-freezes', {
      body: { name: 'Quarter end', startsAt: at(25, 11), endsAt: at(26) }
    })
    // Every field of the calendar types; the Change inside each only by id and number (Change is proved above)
    const res = await t.gql(
      `query($from: DateTime!, $to: DateTime!) { changeCalendar(from: $from, to: $to, first: 10) { ${CALENDAR} } }`,
      { from: at(25), to: at(26) },
      tech.token
    )
    expectShape(res.body, 'Query')
    const entries = res.body.data!.changeCalendar.edges.map((e: { node: Record<string, any> }) => e.node)
    expect(entries.map((e: { id: string }) => e.id)).toEqual([a.id, b.id, c.id])
    const first = entries[0]
    expect(first.change.id).toBe(a.id)
    expect(first.conflicts.map((x: { reason: string; changeId: string | null }) => [x.reason, x.changeId])).toEqual([
      ['same_ci', b.id],
      ['related_ci', c.id],
      ['freeze', null]
    ])
    expect(first.conflicts[0].change.number).toBe(b.number)

    const page = await t.gql(
      `query($from: DateTime!, $to: DateTime!) { changeCalendar(from: $from, to: $to, first: 1) { edges { node { id } } pageInfo { hasNextPage endCursor } } }`,
      { from: at(25), to: at(26) }
    )
    const next = await t.gql(
      `query($from: DateTime!, $to: DateTime!, $after: String) { changeCalendar(from: $from, to: $to, first: 5, after: $after) { edges { node { id } } } }`,
      { from: at(25), to: at(26), after: page.body.data!.changeCalendar.pageInfo.endCursor }
    )
    expect(next.body.data!.changeCalendar.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual([b.id, c.id])

    const forbidden = await t.gql(
      `{ changeCalendar(from: "${at(25)}", to: "${at(26)}") { edges { cursor } } }`,
      {},
      customer.token
    )
    expect(codes(forbidden.body)).toEqual(['FORBIDDEN'])
    const backwards = await t.gql(`{ changeCalendar(from: "${at(26)}", to: "${at(25)}") { edges { cursor } } }`)
    expect(fields(backwards.body)).toEqual(['to'])
    const tooMany = await t.gql(
      `{ changeCalendar(from: "${at(25)}", to: "${at(26)}", first: 501) { edges { cursor } } }`
    )
    expect(fields(tooMany.body)).toEqual(['first'])
  })

  it('creates a change from a problem, linked caused_by, in one call', async () => {
    const team = await makeTeam(t)
    const problem = (
      await t.api('POST', '/api/v1/problems', {
        body: { title: 'Disk fills up', description: 'Logs grow', impact: 1, urgency: 3, teamId: team.id }
      })
    ).json()
    const res = await t.gql(
      `mutation($id: ID!, $input: CreateChangeFromProblemInput!) { createChangeFromProblem(problemId: $id, input: $input) {
        id title description impact urgency type links { type ticketId } } }`,
      { id: problem.id, input: { type: 'normal', implementationPlan: 'rotate logs' } }
    )
    expect(res.body.errors).toBeUndefined()
    const change = res.body.data!.createChangeFromProblem
    expect(change).toMatchObject({
      title: 'Disk fills up',
      description: 'Logs grow',
      impact: 1,
      urgency: 3,
      type: 'normal'
    })
    expect(change.links).toEqual([{ type: 'caused_by', ticketId: problem.id }])
    const missing = await t.gql(
      `mutation($id: ID!) { createChangeFromProblem(problemId: $id, input: { title: "x" }) { id } }`,
      { id: problem.id }
    )
    expect(fields(missing.body)).toEqual(['type'])
  })

  it('proved every field of the new object types with a value', () => {
    expect(CHANGE_TYPES_COVERED.filter(name => !seen.has(name))).toEqual([])
  })
})
