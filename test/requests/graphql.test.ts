import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeOrganisation, makeTeam, makeUser } from '../helpers/factories.js'
import {
  EVERY_FIELD_LIMITS,
  errorWith,
  fields,
  type GqlBody,
  loadSchema,
  nodesOf,
  objectType,
  selectAll,
  shapeProblems
} from '../helpers/graphql.js'
import { makeOffering, makeRequest } from '../helpers/requests.js'

const schema = loadSchema()
const all = (type: string) => selectAll(schema, type)
/** Types this file proves answer every field (test/graphql/contract.test.ts lists them as covered here). */
const REQUEST_TYPES_COVERED = ['ServiceRequest', 'ServiceRequestEdge', 'ServiceRequestConnection', 'RequestTask']
/** Null on a fully populated request, rightly: other modules' optional fields. */
const allowNull = [
  // No SLA applies to these requests: no clocks
  'TicketSlaSummary.response',
  'TicketSlaSummary.resolution',
  'FieldChange.old',
  'FieldChange.new',
  'PageInfo.endCursor',
  'User.email',
  'User.phone',
  'User.organisationId',
  'User.organisation',
  'OfferingApproval.quorum',
  // Requests and offerings without a service (services are covered in test/service-level)
  'ServiceRequest.serviceId',
  'ServiceRequest.service',
  'CatalogOffering.serviceId',
  'OfferingApproval.approverTeamId',
  'TicketLink.ticket',
  'Team.description',
  'Team.managerId',
  'Team.manager',
  'ApprovalRound.quorum',
  'Approval.comment'
]

type User = Awaited<ReturnType<typeof makeUser>>

describe('service requests over GraphQL', () => {
  let t: TestApp
  let tech: User
  let approver: User
  let customer: User
  let team: { id: string }
  let offering: Awaited<ReturnType<typeof makeOffering>>
  const seen = new Set<string>()

  function expectShape(body: GqlBody, root: 'Query' | 'Mutation', strict = true) {
    expect(body.errors, JSON.stringify(body.errors)).toBeUndefined()
    const rootFields = objectType(schema, root).getFields()
    const problems = Object.entries(body.data ?? {}).flatMap(([name, value]) =>
      shapeProblems(schema, rootFields[name]!.type, value, { strict, allowNull, seen }, name)
    )
    expect(problems).toEqual([])
  }

  beforeAll(async () => {
    t = await buildTestApp(EVERY_FIELD_LIMITS)
    const org = await makeOrganisation(t)
    tech = await makeUser(t, ['technician'], { organisationId: org.id })
    approver = await makeUser(t, ['manager'], { organisationId: org.id })
    customer = await makeUser(t, ['customer'], { organisationId: org.id })
    team = await makeTeam(t, [{ userId: tech.id, level: 1 }])
    offering = await makeOffering(t, {
      teamId: team.id,
      tasks: ['Order', 'Deliver'],
      approval: { rule: 'any', approverIds: [approver.id] }
    })
  })
  afterAll(async () => t?.close())

  it('raises, works, fulfils and closes a request with every field populated', async () => {
    const category = await t.api('POST', '/api/v1/categories', { body: { kind: 'request', name: 'Hardware' } })
    expect(category.statusCode).toBe(201)
    const created = await t.gql(
      `mutation($input: CreateRequestInput!) { createRequest(input: $input) ${all('ServiceRequest')} }`,
      {
        input: {
          title: 'A laptop for the new starter',
          description: 'Starts Monday',
          offeringId: offering.id,
          categoryId: category.json().id,
          requesterId: customer.id,
          assigneeId: tech.id,
          teamId: team.id
        }
      },
      tech.token
    )
    // Not resolved yet: times and resolution rightly null
    expectShape(created.body, 'Mutation', false)
    const req = created.body.data!.createRequest
    expect(req).toMatchObject({ status: 'awaiting_approval', offeringId: offering.id, taskCount: 2, openTaskCount: 2 })
    expect(req.offering).toMatchObject({ id: offering.id, name: offering.name, tasks: ['Order', 'Deliver'] })
    expect(req.tasks.map((x: { title: string; team: { id: string } }) => [x.title, x.team.id])).toEqual([
      ['Order', team.id],
      ['Deliver', team.id]
    ])
    expect(
      (
        await t.api('POST', `/api/v1/requests/${req.id}/approvals`, {
          token: approver.token,
          body: { decision: 'approve' }
        })
      ).statusCode
    ).toBe(200)

    // Customers cannot work tasks; an assignee must sit in layer 1 of the task's team
    const refused = await t.gql(
      'mutation($id: ID!, $task: ID!) { updateRequestTask(id: $id, taskId: $task, input: { status: done }) { id } }',
      { id: req.id, task: req.tasks[0].id },
      customer.token
    )
    errorWith(refused.body, 'FORBIDDEN')
    const outsider = await t.gql(
      'mutation($id: ID!, $task: ID!, $u: ID!) { updateRequestTask(id: $id, taskId: $task, input: { assigneeId: $u }) { id } }',
      { id: req.id, task: req.tasks[0].id, u: customer.id }
    )
    errorWith(outsider.body, 'VALIDATION_FAILED')
    expect(fields(outsider.body)).toEqual(['assigneeId'])
    const badStatus = await t.gql(
      'mutation($id: ID!, $task: ID!) { updateRequestTask(id: $id, taskId: $task, input: { status: finished }) { id } }',
      { id: req.id, task: req.tasks[0].id }
    )
    errorWith(badStatus.body, 'GRAPHQL_VALIDATION_FAILED')

    const added = await t.gql(
      `mutation($id: ID!, $u: ID!) { addRequestTask(id: $id, input: { title: "Install software", assigneeId: $u }) ${all('RequestTask')} }`,
      { id: req.id, u: tech.id },
      tech.token
    )
    // Not done yet
    expectShape(added.body, 'Mutation', false)
    expect(added.body.data!.addRequestTask).toMatchObject({ position: 3, status: 'open', assignee: { id: tech.id } })

    const early = await t.gql(
      'mutation($id: ID!) { transitionRequest(id: $id, input: { to: "fulfilled" }) { id } }',
      { id: req.id },
      tech.token
    )
    const problem = errorWith(early.body, 'VALIDATION_FAILED')
    expect(fields(early.body)).toEqual(['tasksDone'])
    expect(problem.message).toContain('"Order", "Deliver", "Install software"')

    for (const task of [...req.tasks, added.body.data!.addRequestTask]) {
      const done = await t.gql(
        `mutation($id: ID!, $task: ID!, $u: ID!) { updateRequestTask(id: $id, taskId: $task, input: { status: done, assigneeId: $u }) ${all('RequestTask')} }`,
        { id: req.id, task: task.id, u: tech.id },
        tech.token
      )
      expectShape(done.body, 'Mutation')
      expect(done.body.data!.updateRequestTask).toMatchObject({ status: 'done', doneBy: { id: tech.id } })
    }
    for (const input of [{ to: 'fulfilled', resolution: 'Delivered', resolutionCode: 'fulfilled' }, { to: 'closed' }]) {
      const moved = await t.gql(
        'mutation($id: ID!, $input: TransitionTicketInput!) { transitionRequest(id: $id, input: $input) { status } }',
        { id: req.id, input },
        tech.token
      )
      expect(moved.body.errors).toBeUndefined()
    }

    const one = await t.gql(`query($id: ID!) { request(id: $id) ${all('ServiceRequest')} }`, { id: req.id })
    expectShape(one.body, 'Query')
    expect(one.body.data!.request).toMatchObject({ status: 'closed', taskCount: 3, openTaskCount: 0 })
    // List rows are filled in by the loaders to the same answer
    const list = await t.gql(
      `query($f: String) { requests(filter: $f, includeTotal: true) ${all('ServiceRequestConnection')} }`,
      {
        f: `offeringId==${offering.id}`
      }
    )
    expectShape(list.body, 'Query')
    expect(nodesOf(list.body.data!.requests)).toEqual([one.body.data!.request])
    expect(list.body.data!.requests.totalCount).toBe(1)
    // The customer reads the tasks of their organisation's request
    const theirs = await t.gql(
      'query($id: ID!) { request(id: $id) { tasks { title status } } }',
      { id: req.id },
      customer.token
    )
    expect(theirs.body.data!.request.tasks).toHaveLength(3)

    // Closed: tasks are frozen
    const late = await t.gql(
      'mutation($id: ID!) { addRequestTask(id: $id, input: { title: "Late" }) { id } }',
      { id: req.id },
      tech.token
    )
    errorWith(late.body, 'CONFLICT')
  })

  it('refuses a request without an offering, or for an inactive one, naming offeringId', async () => {
    const inactive = await makeOffering(t, { active: false })
    for (const input of [{ title: 'No offering' }, { title: 'Inactive', offeringId: inactive.id }]) {
      const res = await t.gql(
        'mutation($input: CreateRequestInput!) { createRequest(input: $input) { id } }',
        { input },
        customer.token
      )
      errorWith(res.body, 'VALIDATION_FAILED')
      expect(fields(res.body)).toEqual(['offeringId'])
    }
    const offerings = await t.gql('{ catalogOfferings(first: 100) { edges { node { id } } } }', {}, customer.token)
    expect(offerings.body.errors, JSON.stringify(offerings.body.errors)).toBeUndefined()
    expect(nodesOf(offerings.body.data!.catalogOfferings).map(n => n.id)).not.toContain(inactive.id)
  })

  it('loads tasks and offerings of a whole list in one call each', async () => {
    const plain = await makeOffering(t, { tasks: ['One', 'Two'] })
    const made = [await makeRequest(t, { offeringId: plain.id }), await makeRequest(t, { offeringId: plain.id })]
    const tasksOf = vi.spyOn(t.app.services.requests, 'tasksOf')
    const offerings = vi.spyOn(t.app.services.requests, 'offeringsByIds')
    const res = await t.gql(
      'query($f: String) { requests(filter: $f) { edges { node { id tasks { title } offering { name } } } } }',
      { f: `offeringId==${plain.id}` }
    )
    expect(res.body.errors).toBeUndefined()
    const nodes = nodesOf(res.body.data!.requests)
    expect(nodes.map(n => n.id).sort()).toEqual(made.map(r => r.id).sort())
    for (const n of nodes) {
      expect(n.tasks).toEqual([{ title: 'One' }, { title: 'Two' }])
      expect(n.offering).toEqual({ name: plain.name })
    }
    expect(tasksOf).toHaveBeenCalledTimes(1)
    expect(offerings).toHaveBeenCalledTimes(1)
    vi.restoreAllMocks()
  })

  it('proves every field of its types answered', () => {
    expect(REQUEST_TYPES_COVERED.filter(name => !seen.has(name))).toEqual([])
  })
})
