import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { requestDetails, requestTasks } from '../../src/db/schema/index.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { historyOf, makeOrganisation, makeTeam, makeUser } from '../helpers/factories.js'
import { expectProblem, fieldsOf } from '../helpers/problem.js'
import { makeOffering, makeRequest, tasksOf } from '../helpers/requests.js'

type User = Awaited<ReturnType<typeof makeUser>>

describe('service requests from catalog offerings', () => {
  let t: TestApp
  let tech: User
  let other: User
  let customer: User
  let team: { id: string }
  let otherTeam: { id: string }
  let laptop: Awaited<ReturnType<typeof makeOffering>>
  const ghost = '00000000-0000-7000-8000-000000000000'

  beforeAll(async () => {
    t = await buildTestApp()
    const org = await makeOrganisation(t)
    tech = await makeUser(t, ['technician'])
    other = await makeUser(t, ['technician'])
    customer = await makeUser(t, ['customer'], { organisationId: org.id })
    team = await makeTeam(t, [{ userId: tech.id, level: 1 }])
    otherTeam = await makeTeam(t, [{ userId: other.id, level: 1 }])
    laptop = await makeOffering(t, { teamId: team.id, tasks: ['Order hardware', 'Image laptop', 'Hand over'] })
  })
  afterAll(async () => t?.close())

  it('creates a request from an offering: its tasks in order, its team at layer 1, audited', async () => {
    const req = await makeRequest(t, { offeringId: laptop.id, requesterId: customer.id }, tech.token)
    expect(req.number).toMatch(/^REQ-\d{6}$/)
    expect(req).toMatchObject({
      kind: 'request',
      offeringId: laptop.id,
      teamId: team.id,
      layer: 1,
      assigneeId: null,
      taskCount: 3,
      openTaskCount: 3
    })
    const tasks = await tasksOf(t, req.id)
    expect(tasks.map(x => [x.position, x.title, x.status, x.teamId])).toEqual([
      [1, 'Order hardware', 'open', team.id],
      [2, 'Image laptop', 'open', team.id],
      [3, 'Hand over', 'open', team.id]
    ])
    const [created] = await historyOf(t, 'requests', req.id)
    expect(created!.action).toBe('created')
    expect(created!.changes).toEqual(
      expect.arrayContaining([
        { field: 'offeringId', old: null, new: laptop.id },
        { field: 'tasks', old: null, new: laptop.tasks },
        { field: 'teamId', old: null, new: team.id }
      ])
    )
    // The same detail on the single read and in list rows
    const got = (await t.api('GET', `/api/v1/requests/${req.id}`)).json()
    expect(got).toMatchObject({ offeringId: laptop.id, taskCount: 3, openTaskCount: 3 })
    const list = (await t.api('GET', `/api/v1/requests?filter=offeringId==${laptop.id}`)).json().items
    expect(list.map((r: { id: string }) => r.id)).toContain(req.id)
    expect(list.find((r: { id: string }) => r.id === req.id)).toMatchObject({ taskCount: 3, openTaskCount: 3 })
    const none = (await t.api('GET', `/api/v1/requests?filter=offeringId==${ghost}`)).json().items
    expect(none).toEqual([])
  })

  it('keeps the team the body names, and gives none when the offering has none', async () => {
    const named = await makeRequest(t, { offeringId: laptop.id, teamId: otherTeam.id })
    expect(named).toMatchObject({ teamId: otherTeam.id, layer: 1 })
    expect((await tasksOf(t, named.id)).every(x => x.teamId === otherTeam.id)).toBe(true)
    const bare = await makeOffering(t)
    const plain = await makeRequest(t, { offeringId: bare.id })
    expect(plain).toMatchObject({ teamId: null, layer: null, taskCount: 0, openTaskCount: 0 })
    expect(await tasksOf(t, plain.id)).toEqual([])
  })

  it('refuses a create without an offering, with an absent or inactive one (422 offeringId)', async () => {
    const inactive = await makeOffering(t, { active: false })
    for (const [body, message] of [
      [{}, /required/],
      [{ offeringId: ghost }, /no such catalog offering/],
      [{ offeringId: inactive.id }, /inactive/]
    ] as const) {
      const res = await t.api('POST', '/api/v1/requests', { body: { title: 'Laptop', ...body } })
      const problem = expectProblem(res, 422, 'VALIDATION_FAILED')
      expect(fieldsOf(problem)).toEqual(['offeringId'])
      expect(problem.errors![0]!.message).toMatch(message)
    }
    const bad = await t.api('POST', '/api/v1/requests', { body: { title: 'Laptop', offeringId: 'nope' } })
    expect(fieldsOf(expectProblem(bad, 400))).toEqual(['offeringId'])
  })

  it('takes the offering from a request template when the body names none', async () => {
    const template = await t.api('POST', '/api/v1/templates', {
      body: { kind: 'request', name: `Laptop ${Date.now()}`, values: { offeringId: laptop.id, urgency: 1 } }
    })
    expect(template.statusCode, template.body).toBe(201)
    const req = await makeRequest(t, { templateId: template.json().id }, customer.token)
    expect(req).toMatchObject({ offeringId: laptop.id, urgency: 1, teamId: team.id, taskCount: 3 })
    // The body wins over the template
    const bare = await makeOffering(t)
    const own = await makeRequest(t, { templateId: template.json().id, offeringId: bare.id })
    expect(own).toMatchObject({ offeringId: bare.id, taskCount: 0, teamId: null })
  })

  it('lets a customer raise a request for an active offering; inactive ones are invisible to them', async () => {
    const inactive = await makeOffering(t, { name: `Secret project ${Date.now()}`, active: false })
    const visible = (await t.api('GET', '/api/v1/catalog/offerings?limit=500', { token: customer.token })).json()
    const ids = visible.items.map((o: { id: string }) => o.id)
    expect(ids).toContain(laptop.id)
    expect(ids).not.toContain(inactive.id)
    expect((await t.api('GET', `/api/v1/catalog/offerings/${inactive.id}`, { token: customer.token })).statusCode).toBe(
      404
    )

    const req = await makeRequest(t, { offeringId: laptop.id }, customer.token)
    expect(req).toMatchObject({ requesterId: customer.id, teamId: team.id, taskCount: 3 })
    const refused = await t.api('POST', '/api/v1/requests', {
      token: customer.token,
      body: { title: 'Peek', offeringId: inactive.id }
    })
    const problem = expectProblem(refused, 422)
    expect(problem.errors).toEqual([{ field: 'offeringId', message: 'no such catalog offering' }])
    expect(problem.detail).not.toContain('Secret')

    // Tasks of their own requests: read-only
    const tasks = await tasksOf(t, req.id, customer.token)
    expect(tasks).toHaveLength(3)
    const add = await t.api('POST', `/api/v1/requests/${req.id}/tasks`, { token: customer.token, body: { title: 'x' } })
    expectProblem(add, 403, 'FORBIDDEN')
    const patch = await t.api('PATCH', `/api/v1/requests/${req.id}/tasks/${tasks[0]!.id}`, {
      token: customer.token,
      body: { status: 'done' }
    })
    expectProblem(patch, 403)
    // Another organisation's request does not exist for them
    const theirs = await makeRequest(t, { offeringId: laptop.id })
    expect((await t.api('GET', `/api/v1/requests/${theirs.id}/tasks`, { token: customer.token })).statusCode).toBe(404)
  })

  it('works tasks: done stamps doneAt and doneById, reopening clears them, every write audited', async () => {
    const req = await makeRequest(t, { offeringId: laptop.id })
    const [first] = await tasksOf(t, req.id)
    const url = `/api/v1/requests/${req.id}/tasks/${first!.id}`
    const done = await t.api('PATCH', url, { token: tech.token, body: { status: 'done' } })
    expect(done.statusCode, done.body).toBe(200)
    expect(done.json()).toMatchObject({ status: 'done', doneById: tech.id, doneAt: expect.stringMatching(/Z$/) })
    const reopened = await t.api('PATCH', url, { token: tech.token, body: { status: 'in_progress' } })
    expect(reopened.json()).toMatchObject({ status: 'in_progress', doneAt: null, doneById: null })

    const renamed = await t.api('PATCH', url, { body: { title: 'Order the laptop', assigneeId: tech.id } })
    expect(renamed.json()).toMatchObject({ title: 'Order the laptop', teamId: team.id, assigneeId: tech.id })
    // A new team without an assignee clears the old one; null clears both
    const moved = await t.api('PATCH', url, { body: { teamId: otherTeam.id } })
    expect(moved.json()).toMatchObject({ teamId: otherTeam.id, assigneeId: null })
    const cleared = await t.api('PATCH', url, { body: { teamId: null } })
    expect(cleared.json()).toMatchObject({ teamId: null, assigneeId: null })

    const added = await t.api('POST', `/api/v1/requests/${req.id}/tasks`, {
      token: tech.token,
      body: { title: 'Set up printer', assigneeId: tech.id }
    })
    expect(added.statusCode, added.body).toBe(201)
    expect(added.json()).toMatchObject({ position: 4, status: 'open', teamId: team.id, assigneeId: tech.id })

    const after = (await t.api('GET', `/api/v1/requests/${req.id}`)).json()
    expect(after).toMatchObject({ taskCount: 4, openTaskCount: 4 })
    expect(after.version).toBeGreaterThan(req.version)

    const history = await historyOf(t, 'requests', req.id)
    const taskEntries = history.filter(h => h.action.startsWith('task.'))
    expect(taskEntries.map(h => h.action)).toEqual([
      'task.updated',
      'task.updated',
      'task.updated',
      'task.updated',
      'task.updated',
      'task.created'
    ])
    expect(taskEntries[0]!.changes).toEqual([{ field: 'tasks.1.status', old: 'open', new: 'done' }])
    expect(taskEntries[1]!.changes).toEqual([{ field: 'tasks.1.status', old: 'done', new: 'in_progress' }])
    expect(taskEntries[5]!.changes).toEqual(
      expect.arrayContaining([{ field: 'tasks.4.title', old: null, new: 'Set up printer' }])
    )
  })

  it('refuses bad task input: unknown status (400), assignee outside layer 1 or team (422), absent task (404)', async () => {
    const req = await makeRequest(t, { offeringId: laptop.id })
    const [first] = await tasksOf(t, req.id)
    const url = `/api/v1/requests/${req.id}/tasks/${first!.id}`
    expect(fieldsOf(expectProblem(await t.api('PATCH', url, { body: { status: 'finished' } }), 400))).toEqual([
      'status'
    ])
    expectProblem(await t.api('PATCH', url, { body: {} }), 400)
    const outsider = await t.api('PATCH', url, { body: { assigneeId: other.id } })
    expect(fieldsOf(expectProblem(outsider, 422))).toEqual(['assigneeId'])
    const noTeam = await t.api('PATCH', url, { body: { teamId: ghost } })
    expect(fieldsOf(expectProblem(noTeam, 422))).toEqual(['teamId'])
    const orphan = await t.api('POST', `/api/v1/requests/${req.id}/tasks`, {
      body: { title: 'x', teamId: otherTeam.id, assigneeId: tech.id }
    })
    expect(fieldsOf(expectProblem(orphan, 422))).toEqual(['assigneeId'])
    expectProblem(await t.api('PATCH', `/api/v1/requests/${req.id}/tasks/${ghost}`, { body: { status: 'done' } }), 404)
    // A task of another request is not found through this one
    const elsewhere = await makeRequest(t, { offeringId: laptop.id })
    expectProblem(
      await t.api('PATCH', `/api/v1/requests/${elsewhere.id}/tasks/${first!.id}`, { body: { status: 'done' } }),
      404
    )
    expectProblem(await t.api('GET', `/api/v1/requests/${ghost}/tasks`), 404)
    // Nothing changed
    expect((await tasksOf(t, req.id))[0]).toMatchObject({ status: 'open', assigneeId: null, teamId: team.id })
  })

  it('tasksDone: fulfilling with open tasks answers 422 naming them; done or cancelled lets it through', async () => {
    // The offering needs no approval: the approval engine lets the request straight into fulfilment
    const req = await makeRequest(t, { offeringId: laptop.id })
    expect(req.status).toBe('in_fulfilment')
    const tasks = await tasksOf(t, req.id)
    await t.api('PATCH', `/api/v1/requests/${req.id}/tasks/${tasks[0]!.id}`, { body: { status: 'done' } })
    const refused = await t.api('POST', `/api/v1/requests/${req.id}/transitions`, { body: { to: 'fulfilled' } })
    const problem = expectProblem(refused, 422, 'VALIDATION_FAILED')
    expect(fieldsOf(problem)).toEqual(['tasksDone'])
    expect(problem.errors![0]!.message).toContain('"Image laptop", "Hand over"')
    expect(problem.errors![0]!.message).not.toContain('Order hardware')

    await t.api('PATCH', `/api/v1/requests/${req.id}/tasks/${tasks[1]!.id}`, { body: { status: 'done' } })
    await t.api('PATCH', `/api/v1/requests/${req.id}/tasks/${tasks[2]!.id}`, { body: { status: 'cancelled' } })
    const fulfilled = await t.api('POST', `/api/v1/requests/${req.id}/transitions`, { body: { to: 'fulfilled' } })
    expect(fulfilled.statusCode, fulfilled.body).toBe(200)
    expect(fulfilled.json()).toMatchObject({ status: 'fulfilled', openTaskCount: 0, taskCount: 3 })

    // Fulfilled is not closed: tasks may still be worked; closed, they are frozen (409)
    const closed = await t.api('POST', `/api/v1/requests/${req.id}/transitions`, { body: { to: 'closed' } })
    expect(closed.statusCode, closed.body).toBe(200)
    expectProblem(
      await t.api('PATCH', `/api/v1/requests/${req.id}/tasks/${tasks[2]!.id}`, { body: { status: 'open' } }),
      409,
      'CONFLICT'
    )
    expectProblem(await t.api('POST', `/api/v1/requests/${req.id}/tasks`, { body: { title: 'Late' } }), 409)
  })

  it('end to end with the approval engine: an offering that needs approval waits, approval starts fulfilment', async () => {
    const manager = await makeUser(t, ['manager'])
    const approved = await makeOffering(t, {
      teamId: team.id,
      tasks: ['Order'],
      approval: { rule: 'any', approverIds: [manager.id] }
    })
    const req = await makeRequest(t, { offeringId: approved.id }, customer.token)
    expect(req).toMatchObject({ status: 'awaiting_approval', taskCount: 1 })
    // Tasks may be prepared while it waits; fulfilment itself is the system's move after approval
    const early = await t.api('POST', `/api/v1/requests/${req.id}/transitions`, { body: { to: 'in_fulfilment' } })
    expectProblem(early, 409)
    const decided = await t.api('POST', `/api/v1/requests/${req.id}/approvals`, {
      token: manager.token,
      body: { decision: 'approve' }
    })
    expect(decided.statusCode, decided.body).toBe(200)
    const now = (await t.api('GET', `/api/v1/requests/${req.id}`)).json()
    expect(now).toMatchObject({ status: 'in_fulfilment', openTaskCount: 1 })
    const [task] = await tasksOf(t, req.id)
    expectProblem(await t.api('POST', `/api/v1/requests/${req.id}/transitions`, { body: { to: 'fulfilled' } }), 422)
    await t.api('PATCH', `/api/v1/requests/${req.id}/tasks/${task!.id}`, {
      token: tech.token,
      body: { status: 'done' }
    })
    const fulfilled = await t.api('POST', `/api/v1/requests/${req.id}/transitions`, {
      token: tech.token,
      body: { to: 'fulfilled' }
    })
    expect(fulfilled.json()).toMatchObject({ status: 'fulfilled', resolvedAt: expect.any(String) })

    // Rejected: a closed status, so its tasks are frozen
    const refused = await makeRequest(t, { offeringId: approved.id }, customer.token)
    await t.api('POST', `/api/v1/requests/${refused.id}/approvals`, {
      token: manager.token,
      body: { decision: 'reject', comment: 'Not in budget' }
    })
    expect((await t.api('GET', `/api/v1/requests/${refused.id}`)).json().status).toBe('rejected')
    const [frozen] = await tasksOf(t, refused.id)
    expectProblem(
      await t.api('PATCH', `/api/v1/requests/${refused.id}/tasks/${frozen!.id}`, { body: { status: 'done' } }),
      409
    )
  })

  it('keeps side rows off other kinds and stores one detail row per request', async () => {
    const req = await makeRequest(t, { offeringId: laptop.id })
    const details = await t.db.select().from(requestDetails).where(eq(requestDetails.ticketId, req.id))
    expect(details).toEqual([{ ticketId: req.id, offeringId: laptop.id }])
    const rows = await t.db.select().from(requestTasks).where(eq(requestTasks.requestId, req.id))
    expect(rows).toHaveLength(3)
    // Paging over tasks
    const page = (await t.api('GET', `/api/v1/requests/${req.id}/tasks?limit=2`)).json()
    expect(page.items.map((x: { position: number }) => x.position)).toEqual([1, 2])
    const next = (await t.api('GET', `/api/v1/requests/${req.id}/tasks?limit=2&cursor=${page.nextCursor}`)).json()
    expect(next).toMatchObject({ items: [{ position: 3 }], nextCursor: null })
  })
})
