import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeChangeTemplate } from '../helpers/changes.js'
import { historyOf, makeUser } from '../helpers/factories.js'
import { expectProblem, fieldsOf } from '../helpers/problem.js'

describe('a change raised from a problem', () => {
  let t: TestApp
  let customer: { token: string }
  const problem = async (body: Record<string, unknown> = {}) => {
    const res = await t.api('POST', '/api/v1/problems', {
      body: {
        title: 'Nightly backup fails',
        description: 'Disk full',
        impact: 1,
        urgency: 2,
        category: 'storage',
        ...body
      }
    })
    expect(res.statusCode, res.body).toBe(201)
    return res.json() as { id: string; number: string }
  }
  const raise = (id: string, body: Record<string, unknown>, headers: Record<string, string> = {}, token?: string) =>
    t.api('POST', `/api/v1/problems/${id}/changes`, { body, headers, ...(token ? { token } : {}) })

  beforeAll(async () => {
    t = await buildTestApp()
    customer = await makeUser(t, ['customer'])
  })
  afterAll(async () => t?.close())

  it('defaults from the problem, links change caused_by problem, audits both ends', async () => {
    const p = await problem()
    const res = await raise(p.id, { type: 'normal', backoutPlan: 'restore', urgency: 1 })
    expect(res.statusCode, res.body).toBe(201)
    const change = res.json()
    expect(res.headers.location).toBe(`/api/v1/changes/${change.id}`)
    expect(change).toMatchObject({
      kind: 'change',
      title: 'Nightly backup fails',
      description: 'Disk full',
      impact: 1,
      urgency: 1,
      category: 'storage',
      type: 'normal',
      backoutPlan: 'restore'
    })
    const links = (await t.api('GET', `/api/v1/changes/${change.id}/links`)).json().items
    expect(links).toEqual([expect.objectContaining({ type: 'caused_by', ticketId: p.id, number: p.number })])
    const back = (await t.api('GET', `/api/v1/problems/${p.id}/links`)).json().items
    expect(back).toEqual([expect.objectContaining({ type: 'causes', ticketId: change.id })])
    expect((await historyOf(t, 'changes', change.id)).map(h => h.action)).toEqual(['created', 'link.added'])
  })

  it('the body and its template win over the problem', async () => {
    const p = await problem()
    const template = await makeChangeTemplate(t, true, { title: 'Standard disk extension', testPlan: 'df -h' })
    const res = await raise(p.id, { templateId: template.id, title: 'Extend /var' })
    expect(res.statusCode, res.body).toBe(201)
    expect(res.json()).toMatchObject({
      title: 'Extend /var',
      type: 'standard',
      testPlan: 'df -h',
      templateId: template.id
    })
  })

  it('is all or nothing: a bad change body leaves no change and no link', async () => {
    const p = await problem()
    expect(fieldsOf(expectProblem(await raise(p.id, {}), 422))).toEqual(['type'])
    expect(fieldsOf(expectProblem(await raise(p.id, { type: 'normal', plannedStart: 'soon' }), 400))).toContain(
      'plannedStart'
    )
    expect((await t.api('GET', `/api/v1/problems/${p.id}/links`)).json().items).toEqual([])
    expectProblem(await raise('00000000-0000-7000-8000-000000000000', { type: 'normal' }), 404)
    expectProblem(await raise(p.id, { type: 'normal' }, {}, customer.token), 404)
  })

  it('replays with the same Idempotency-Key instead of raising a second change', async () => {
    const p = await problem()
    const first = await raise(p.id, { type: 'emergency' }, { 'idempotency-key': 'chg-from-prb-1' })
    const again = await raise(p.id, { type: 'emergency' }, { 'idempotency-key': 'chg-from-prb-1' })
    expect(first.statusCode).toBe(201)
    expect(again.statusCode).toBe(201)
    expect(again.headers['idempotent-replayed']).toBe('true')
    expect(again.json().id).toBe(first.json().id)
    expect((await t.api('GET', `/api/v1/problems/${p.id}/links`)).json().items).toHaveLength(1)
  })
})
