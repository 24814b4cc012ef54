import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { at, getChange, makeChange, makeChangeTemplate, makeCi, move } from '../helpers/changes.js'
import { historyOf, makeUser } from '../helpers/factories.js'
import { expectProblem, fieldsOf } from '../helpers/problem.js'

describe('changes: create, validate, update', () => {
  let t: TestApp
  let customer: { token: string }
  const create = (body: Record<string, unknown>, token?: string) =>
    t.api('POST', '/api/v1/changes', { body: { title: 'Patch the web tier', ...body }, ...(token ? { token } : {}) })
  const patch = (id: string, version: number, body: Record<string, unknown>) =>
    t.api('PATCH', `/api/v1/changes/${id}`, { body: { ...body, version } })

  beforeAll(async () => {
    t = await buildTestApp()
    customer = await makeUser(t, ['customer'])
  })
  afterAll(async () => t?.close())

  it('creates a normal change with its plans, window and CIs, numbered CHG-, audited', async () => {
    const [a, b] = [await makeCi(t), await makeCi(t)]
    const res = await create({
      type: 'normal',
      risk: 'high',
      implementationPlan: 'apt upgrade',
      backoutPlan: 'snapshot restore',
      testPlan: 'smoke tests',
      plannedStart: at(3, 8),
      plannedEnd: at(3, 10),
      ciIds: [b.id, a.id]
    })
    expect(res.statusCode, res.body).toBe(201)
    const c = res.json()
    expect(c).toMatchObject({
      number: expect.stringMatching(/^CHG-\d{6}$/),
      kind: 'change',
      status: 'new',
      type: 'normal',
      risk: 'high',
      implementationPlan: 'apt upgrade',
      backoutPlan: 'snapshot restore',
      testPlan: 'smoke tests',
      plannedStart: at(3, 8),
      plannedEnd: at(3, 10),
      templateId: null,
      releaseId: null
    })
    expect(c.ciIds).toEqual([a.id, b.id].sort())
    expect(await getChange(t, c.id)).toMatchObject({ type: 'normal', ciIds: [a.id, b.id].sort() })
    const [created] = await historyOf(t, 'changes', c.id)
    expect(created!.action).toBe('created')
    expect(created!.changes).toEqual(
      expect.arrayContaining([
        { field: 'type', old: null, new: 'normal' },
        { field: 'risk', old: null, new: 'high' },
        { field: 'plannedStart', old: null, new: at(3, 8) },
        { field: 'ciIds', old: null, new: [a.id, b.id].sort() }
      ])
    )
  })

  it('defaults risk to medium and creates an emergency change', async () => {
    const c = await makeChange(t, { type: 'emergency' })
    expect(c).toMatchObject({ type: 'emergency', risk: 'medium', plannedStart: null, ciIds: [] })
  })

  it('a standard change needs a standard change template; the template fills type and plans', async () => {
    const standard = await makeChangeTemplate(t, true, { implementationPlan: 'restart the pool', risk: 'low' })
    const plain = await makeChangeTemplate(t, false)
    const made = await create({ templateId: standard.id })
    expect(made.statusCode, made.body).toBe(201)
    expect(made.json()).toMatchObject({
      type: 'standard',
      risk: 'low',
      implementationPlan: 'restart the pool',
      templateId: standard.id
    })
    expect(fieldsOf(expectProblem(await create({ type: 'standard' }), 422))).toEqual(['templateId'])
    expect(fieldsOf(expectProblem(await create({ type: 'standard', templateId: plain.id }), 422))).toEqual([
      'templateId'
    ])
    // A normal change may start from any change template, the body winning
    const normal = await create({ type: 'normal', templateId: standard.id, risk: 'high' })
    expect(normal.json()).toMatchObject({ type: 'normal', risk: 'high', templateId: standard.id })
  })

  it('refuses bad input naming the field', async () => {
    const cases: [Record<string, unknown>, number, string][] = [
      [{}, 422, 'type'],
      [{ type: 'major' }, 400, 'type'],
      [{ type: 'normal', risk: 'extreme' }, 400, 'risk'],
      [{ type: 'normal', implementationPlan: 'x'.repeat(20_001) }, 400, 'implementationPlan'],
      [{ type: 'normal', plannedStart: 'tomorrow' }, 400, 'plannedStart'],
      [{ type: 'normal', plannedStart: at(5), plannedEnd: at(4) }, 422, 'plannedEnd'],
      [{ type: 'normal', plannedStart: at(5), plannedEnd: at(5) }, 422, 'plannedEnd'],
      [{ type: 'normal', ciIds: ['00000000-0000-7000-8000-000000000000'] }, 422, 'ciIds'],
      [
        {
          type: 'normal',
          ciIds: Array.from({ length: 201 }, (_, i) => `00000000-0000-7000-8000-${String(i).padStart(12, '0')}`)
        },
        400,
        'ciIds'
      ],
      [{ type: 'normal', releaseId: '00000000-0000-7000-8000-000000000000' }, 400, 'releaseId']
    ]
    for (const [body, status, field] of cases) {
      expect(fieldsOf(expectProblem(await create(body), status)), JSON.stringify(body).slice(0, 80)).toContain(field)
    }
  })

  it('updates plans, window and CIs (replacing the set), audited; type stays', async () => {
    const [a, b, c] = [await makeCi(t), await makeCi(t), await makeCi(t)]
    const ch = await makeChange(t, { ciIds: [a.id, b.id], plannedStart: at(6, 8), plannedEnd: at(6, 9) })
    const res = await patch(ch.id, 1, {
      risk: 'low',
      backoutPlan: 'roll back',
      plannedEnd: at(6, 12),
      ciIds: [c.id, b.id]
    })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json()).toMatchObject({ risk: 'low', backoutPlan: 'roll back', plannedEnd: at(6, 12), version: 2 })
    expect(res.json().ciIds).toEqual([b.id, c.id].sort())
    const updated = (await historyOf(t, 'changes', ch.id)).at(-1)!
    expect(updated.action).toBe('updated')
    expect(updated.changes).toEqual(
      expect.arrayContaining([
        { field: 'risk', old: 'medium', new: 'low' },
        { field: 'backoutPlan', old: '', new: 'roll back' },
        { field: 'plannedEnd', old: at(6, 9), new: at(6, 12) },
        { field: 'ciIds', old: [a.id, b.id].sort(), new: [b.id, c.id].sort() }
      ])
    )
    expect(fieldsOf(expectProblem(await patch(ch.id, 2, { type: 'emergency' }), 422))).toEqual(['type'])
    expect(fieldsOf(expectProblem(await patch(ch.id, 2, { plannedStart: at(7) }), 422))).toEqual(['plannedStart'])
    expect(
      fieldsOf(expectProblem(await patch(ch.id, 2, { ciIds: ['00000000-0000-7000-8000-000000000000'] }), 422))
    ).toEqual(['ciIds'])
    // The same type is no change; clearing the window is allowed
    const cleared = await patch(ch.id, 2, { type: 'normal', plannedStart: null, plannedEnd: null, ciIds: [] })
    expect(cleared.statusCode, cleared.body).toBe(200)
    expect(cleared.json()).toMatchObject({ plannedStart: null, plannedEnd: null, ciIds: [], version: 3 })
  })

  it('lists changes with type, risk and window; filters on them with RSQL', async () => {
    const high = await makeChange(t, { type: 'emergency', risk: 'high', plannedStart: at(20), plannedEnd: at(21) })
    const res = await t.api('GET', `/api/v1/changes?filter=${encodeURIComponent('type==emergency;risk==high')}`)
    expect(res.statusCode, res.body).toBe(200)
    const items = res.json().items
    expect(items.map((i: { id: string }) => i.id)).toContain(high.id)
    expect(items.every((i: { type: string; risk: string }) => i.type === 'emergency' && i.risk === 'high')).toBe(true)
    const row = items.find((i: { id: string }) => i.id === high.id)
    expect(row).toMatchObject({ plannedStart: at(20), plannedEnd: at(21) })
    expect(row.implementationPlan).toBeUndefined()
    const windowed = await t.api('GET', `/api/v1/changes?filter=${encodeURIComponent(`plannedStart=ge=${at(20)}`)}`)
    expect(windowed.json().items.map((i: { id: string }) => i.id)).toEqual([high.id])
    expect(expectProblem(await t.api('GET', '/api/v1/changes?filter=type==major'), 400).status).toBe(400)
  })

  it('needs a planned window to go to authorize, and refuses illegal moves with the allowed ones', async () => {
    const c = await makeChange(t)
    await move(t, c.id, 'assess')
    const unplanned = expectProblem(
      await t.api('POST', `/api/v1/changes/${c.id}/transitions`, { body: { to: 'authorize' } }),
      422
    )
    expect(fieldsOf(unplanned)).toEqual(['plannedWindow'])
    const illegal = expectProblem(
      await t.api('POST', `/api/v1/changes/${c.id}/transitions`, { body: { to: 'implement' } }),
      409
    )
    expect(illegal.allowed).toEqual(expect.arrayContaining(['new', 'authorize', 'cancelled']))
    // Only the approval moves a change out of authorize
    await t.api('PATCH', `/api/v1/changes/${c.id}`, { body: { plannedStart: at(9), plannedEnd: at(10), version: 2 } })
    await move(t, c.id, 'authorize')
    const skip = expectProblem(
      await t.api('POST', `/api/v1/changes/${c.id}/transitions`, { body: { to: 'scheduled' } }),
      409
    )
    expect(skip.allowed).toEqual(['cancelled'])
  })

  it('customers cannot raise changes for others nor read the calendar', async () => {
    expectProblem(
      await t.api('GET', `/api/v1/changes/calendar?from=${at(1)}&to=${at(2)}`, { token: customer.token }),
      403
    )
  })
})
