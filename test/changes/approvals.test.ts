import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import {
  at,
  changeInAuthorize,
  decide,
  getChange,
  makeChange,
  makeChangeTemplate,
  move,
  setPolicy
} from '../helpers/changes.js'
import { historyOf, makeUser } from '../helpers/factories.js'
import { expectProblem, fieldsOf } from '../helpers/problem.js'
import { makeOffering, makeRequest } from '../helpers/requests.js'

type User = { id: string; token: string }

describe('the approval engine', () => {
  let t: TestApp
  let a1: User
  let a2: User
  let a3: User
  let tech: User
  let customer: User
  const approve = (id: string, who: User, comment?: string) =>
    decide(t, 'changes', id, who.token, { decision: 'approve', ...(comment ? { comment } : {}) })
  const reject = (id: string, who: User, comment = 'too risky') =>
    decide(t, 'changes', id, who.token, { decision: 'reject', comment })
  const rounds = async (id: string, collection = 'changes') => {
    const res = await t.api('GET', `/api/v1/${collection}/${id}/approvals`)
    expect(res.statusCode, res.body).toBe(200)
    return res.json().items as Record<string, any>[]
  }

  beforeAll(async () => {
    t = await buildTestApp()
    a1 = await makeUser(t, ['manager'])
    a2 = await makeUser(t, ['manager'])
    a3 = await makeUser(t, ['supervisor'])
    tech = await makeUser(t, ['technician'])
    customer = await makeUser(t, ['customer'])
  })
  afterAll(async () => t?.close())

  it('rule all: both approvers approve, then the change is scheduled; others 403, a second decision 409', async () => {
    await setPolicy(t, 'normal', { rule: 'all', approverIds: [a1.id, a2.id] })
    const c = await changeInAuthorize(t)
    expect(c.status).toBe('authorize')
    const [open] = await rounds(c.id)
    expect(open).toMatchObject({ round: 1, rule: 'all', quorum: null, state: 'pending', decidedAt: null })
    expect(open!.approvals.map((a: { approverId: string }) => a.approverId).sort()).toEqual([a1.id, a2.id].sort())

    const first = await approve(c.id, a1, 'looks fine')
    expect(first.statusCode, first.body).toBe(200)
    expect(first.json()).toMatchObject({ round: 1, state: 'pending' })
    expect((await getChange(t, c.id)).status).toBe('authorize')

    const stranger = expectProblem(await approve(c.id, tech), 403)
    expect(stranger.detail).toBe('you are not an approver of this round')
    expectProblem(await approve(c.id, customer), 403)
    expectProblem(await approve(c.id, a1), 409)
    expect(fieldsOf(expectProblem(await decide(t, 'changes', c.id, a2.token, { decision: 'reject' }), 422))).toEqual([
      'comment'
    ])
    expect(fieldsOf(expectProblem(await decide(t, 'changes', c.id, a2.token, { decision: 'maybe' }), 400))).toEqual([
      'decision'
    ])

    const second = await approve(c.id, a2)
    expect(second.statusCode, second.body).toBe(200)
    expect(second.json()).toMatchObject({ state: 'approved', decidedAt: expect.any(String) })
    expect((await getChange(t, c.id)).status).toBe('scheduled')
    expectProblem(await approve(c.id, a2), 409)

    const [done] = await rounds(c.id)
    expect(done!.approvals).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ approverId: a1.id, state: 'approved', comment: 'looks fine' }),
        expect.objectContaining({ approverId: a2.id, state: 'approved', comment: null })
      ])
    )
    // Audited on the ticket: each decision, and the system move the outcome made
    const history = await historyOf(t, 'changes', c.id)
    const decisions = history.filter(h => h.action === 'approval.decided')
    expect(decisions).toHaveLength(2)
    expect(decisions[0]!.changes).toEqual(
      expect.arrayContaining([
        { field: 'decision', old: 'pending', new: 'approved' },
        { field: 'comment', old: null, new: 'looks fine' }
      ])
    )
    expect(decisions[1]!.changes).toContainEqual({ field: 'roundState', old: 'pending', new: 'approved' })
    expect(history.find(h => h.action === 'approval.approved')!.changes).toContainEqual({
      field: 'status',
      old: 'authorize',
      new: 'scheduled'
    })
  })

  it('rule any: one approval schedules the change and cancels the rest', async () => {
    await setPolicy(t, 'emergency', { rule: 'any', approverIds: [a1.id, a2.id] })
    const c = await changeInAuthorize(t, { type: 'emergency' })
    expect((await approve(c.id, a2)).json()).toMatchObject({ state: 'approved' })
    expect((await getChange(t, c.id)).status).toBe('scheduled')
    const [r] = await rounds(c.id)
    expect(r!.approvals.find((a: { approverId: string }) => a.approverId === a1.id).state).toBe('cancelled')
    expect(expectProblem(await approve(c.id, a1), 409).detail).toMatch(/already approved/)
  })

  it('rule quorum 2 of 3: approved at two approvals; rejected once two can no longer approve', async () => {
    await setPolicy(t, 'normal', { rule: 'quorum', quorum: 2, approverIds: [a1.id, a2.id, a3.id] })
    const c = await changeInAuthorize(t)
    expect((await rounds(c.id))[0]).toMatchObject({ rule: 'quorum', quorum: 2 })
    expect((await approve(c.id, a1)).json().state).toBe('pending')
    expect((await reject(c.id, a3)).json().state).toBe('pending')
    expect((await approve(c.id, a2)).json().state).toBe('approved')
    expect((await getChange(t, c.id)).status).toBe('scheduled')

    const d = await changeInAuthorize(t)
    expect((await reject(d.id, a1)).json().state).toBe('pending')
    expect((await reject(d.id, a2)).json().state).toBe('rejected')
    const after = await getChange(t, d.id)
    expect(after.status).toBe('rejected')
    expect((await rounds(d.id))[0]!.approvals.find((a: { approverId: string }) => a.approverId === a3.id).state).toBe(
      'cancelled'
    )
  })

  it('a rejection sends the change to rejected; reworked, it starts a new round', async () => {
    await setPolicy(t, 'normal', { rule: 'all', approverIds: [a1.id, a2.id] })
    const c = await changeInAuthorize(t)
    await approve(c.id, a1)
    const res = await reject(c.id, a2, 'no backout plan')
    expect(res.json()).toMatchObject({ state: 'rejected' })
    expect((await getChange(t, c.id)).status).toBe('rejected')
    const rejected = (await historyOf(t, 'changes', c.id)).filter(h => h.action === 'approval.decided').at(-1)!
    expect(rejected.changes).toContainEqual({ field: 'comment', old: null, new: 'no backout plan' })

    await t.api('PATCH', `/api/v1/changes/${c.id}`, {
      body: { backoutPlan: 'restore', version: (await getChange(t, c.id)).version }
    })
    await move(t, c.id, 'assess')
    await move(t, c.id, 'authorize')
    const all = await rounds(c.id)
    expect(all.map(r => [r.round, r.state])).toEqual([
      [1, 'rejected'],
      [2, 'pending']
    ])
    expect(all[1]!.approvals.every((a: { state: string }) => a.state === 'pending')).toBe(true)
    await approve(c.id, a1)
    await approve(c.id, a2)
    expect((await getChange(t, c.id)).status).toBe('scheduled')
  })

  it('a standard change is pre-approved: authorize moves straight on to scheduled', async () => {
    const template = await makeChangeTemplate(t, true)
    const c = await makeChange(t, { type: 'standard', templateId: template.id, plannedStart: at(2), plannedEnd: at(3) })
    await move(t, c.id, 'assess')
    const moved = await move(t, c.id, 'authorize')
    expect(moved.status).toBe('scheduled')
    expect(await rounds(c.id)).toEqual([
      expect.objectContaining({ round: 1, rule: 'none', state: 'approved', approvals: [] })
    ])
  })

  it('nobody able to approve: the round waits (noted in the history) until the policy names approvers', async () => {
    // The only approver named is disabled after the policy was set: nobody is left to approve
    const gone = await makeUser(t, ['manager'])
    await setPolicy(t, 'emergency', { rule: 'any', approverIds: [gone.id] })
    const off = await t.edit(`/api/v1/users/${gone.id}`, { body: { active: false } })
    expect(off.statusCode, off.body).toBe(200)
    const c = await changeInAuthorize(t, { type: 'emergency' })
    expect(c.status).toBe('authorize')
    expect(await rounds(c.id)).toEqual([expect.objectContaining({ round: 1, state: 'pending', approvals: [] })])
    const blocked = (await historyOf(t, 'changes', c.id)).find(h => h.action === 'approval.blocked')!
    expect(JSON.stringify(blocked.changes)).toMatch(/nobody can approve yet/)
    expectProblem(await approve(c.id, a1), 403)
    expect((await getChange(t, c.id)).status).toBe('authorize')
    // The admin names an approver: the first decision seats the approvers of the policy now in force
    await setPolicy(t, 'emergency', { rule: 'any', approverIds: [a1.id] })
    expect((await approve(c.id, a1)).json()).toMatchObject({ state: 'approved', rule: 'any' })
    expect((await getChange(t, c.id)).status).toBe('scheduled')
  })

  it('leaving authorize another way cancels the open round', async () => {
    await setPolicy(t, 'normal', { rule: 'all', approverIds: [a1.id] })
    const c = await changeInAuthorize(t)
    await move(t, c.id, 'cancelled')
    const [r] = await rounds(c.id)
    expect(r).toMatchObject({ state: 'cancelled', decidedAt: expect.any(String) })
    expect(r!.approvals[0].state).toBe('cancelled')
    expect(expectProblem(await approve(c.id, a1), 409).detail).toMatch(/cancelled/)
    expect((await historyOf(t, 'changes', c.id)).map(h => h.action)).toContain('approval.cancelled')
  })

  it('lists your own approval queue with ticket number and title, keyset paged', async () => {
    await setPolicy(t, 'normal', { rule: 'all', approverIds: [a3.id] })
    const one = await changeInAuthorize(t, { title: 'Queue one' })
    const two = await changeInAuthorize(t, { title: 'Queue two' })
    const page = await t.api('GET', '/api/v1/approvals?state=pending&limit=1', { token: a3.token })
    expect(page.statusCode, page.body).toBe(200)
    const body = page.json()
    expect(body.items).toEqual([
      expect.objectContaining({
        ticketId: one.id,
        number: one.number,
        title: 'Queue one',
        kind: 'change',
        state: 'pending',
        ticketStatus: 'authorize'
      })
    ])
    const rest = (
      await t.api('GET', `/api/v1/approvals?state=pending&limit=1&cursor=${body.nextCursor}`, { token: a3.token })
    ).json()
    expect(rest.items.map((i: { ticketId: string }) => i.ticketId)).toEqual([two.id])
    expect(rest.nextCursor).toBeNull()
    // Decided rows leave the queue; everyone sees only their own
    await approve(one.id, a3)
    const left = (await t.api('GET', '/api/v1/approvals?state=pending', { token: a3.token })).json()
    expect(left.items.map((i: { ticketId: string }) => i.ticketId)).toEqual([two.id])
    const approvedRows = (await t.api('GET', '/api/v1/approvals?state=approved', { token: a3.token })).json()
    expect(approvedRows.items.map((i: { ticketId: string }) => i.ticketId)).toContain(one.id)
    expect((await t.api('GET', '/api/v1/approvals', { token: tech.token })).json().items).toEqual([])
    expectProblem(await t.api('GET', '/api/v1/approvals?cursor=zzz', { token: a3.token }), 400)
    expectProblem(await t.api('GET', '/api/v1/approvals?state=maybe', { token: a3.token }), 400)
  })

  it('service requests: the offering approval rule any with one approver; approve and reject', async () => {
    const offering = await makeOffering(t, { approval: { rule: 'any', approverIds: [a1.id] }, tasks: ['Order'] })
    const req = await makeRequest(t, { offeringId: offering.id })
    expect(req.status).toBe('awaiting_approval')
    expectProblem(await decide(t, 'requests', req.id, a2.token, { decision: 'approve' }), 403)
    const ok = await decide(t, 'requests', req.id, a1.token, { decision: 'approve', comment: 'budget ok' })
    expect(ok.statusCode, ok.body).toBe(200)
    expect(ok.json()).toMatchObject({ state: 'approved', rule: 'any' })
    expect((await t.api('GET', `/api/v1/requests/${req.id}`)).json().status).toBe('in_fulfilment')

    const other = await makeRequest(t, { offeringId: offering.id })
    const no = await decide(t, 'requests', other.id, a1.token, { decision: 'reject', comment: 'not budgeted' })
    expect(no.json()).toMatchObject({ state: 'rejected' })
    expect((await t.api('GET', `/api/v1/requests/${other.id}`)).json().status).toBe('rejected')
    expect((await rounds(other.id, 'requests'))[0]!.approvals[0]).toMatchObject({
      approverId: a1.id,
      state: 'rejected',
      comment: 'not budgeted'
    })
    expect((await historyOf(t, 'requests', other.id)).map(h => h.action)).toEqual(
      expect.arrayContaining(['approval.started', 'approval.decided', 'approval.rejected'])
    )
    // The requester reads why; someone outside the request's organisation cannot see it at all
    const org = (await t.api('POST', '/api/v1/organisations', { body: { name: 'Approvals Ltd' } })).json()
    const requester = await makeUser(t, ['customer'], { organisationId: org.id })
    const own = await makeRequest(t, { offeringId: offering.id }, requester.token)
    await decide(t, 'requests', own.id, a1.token, { decision: 'reject', comment: 'ask your manager' })
    const seen = await t.api('GET', `/api/v1/requests/${own.id}/approvals`, { token: requester.token })
    expect(seen.statusCode, seen.body).toBe(200)
    expect(seen.json().items[0].approvals[0]).toMatchObject({ state: 'rejected', comment: 'ask your manager' })
    expectProblem(await t.api('GET', `/api/v1/requests/${own.id}/approvals`, { token: customer.token }), 404)
    expectProblem(await t.api('GET', `/api/v1/changes/${own.id}/approvals`), 404)
    // An offering without approval: the request goes straight to fulfilment
    const free = await makeOffering(t, {})
    expect((await makeRequest(t, { offeringId: free.id })).status).toBe('in_fulfilment')
  })
})
