import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { applyTemplate, loadTemplate } from '../../src/modules/templates/templates.service.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { auditOf as auditRows } from '../helpers/audit.js'
import { makeTeam, makeUser } from '../helpers/factories.js'
import { versionOfEtag } from '../helpers/http.js'
import { expectProblem, fieldsOf } from '../helpers/problem.js'

describe('applyTemplate', () => {
  it('fills what the input leaves unset, the input winning, customFields merged key by key', () => {
    const values = {
      title: 'New starter laptop',
      impact: 3,
      teamId: 'team-1',
      customFields: { site: 'Leeds', asset: 'laptop' }
    }
    const input = { title: 'Laptop for Jo', teamId: null, customFields: { site: 'York' }, urgency: undefined }
    const before = structuredClone(input)
    const out = applyTemplate(values, input)
    expect(out).toEqual({
      title: 'Laptop for Jo',
      impact: 3,
      teamId: null,
      urgency: undefined,
      customFields: { site: 'York', asset: 'laptop' }
    })
    // Pure: neither argument changes, and the answer shares no objects with the template
    expect(input).toEqual(before)
    ;(out.customFields as Record<string, unknown>).asset = 'desktop'
    expect(values.customFields.asset).toBe('laptop')
    expect(applyTemplate({}, { title: 'x' })).toEqual({ title: 'x' })
    expect(applyTemplate({ customFields: { a: 1 } }, { title: 'x' })).toEqual({ title: 'x', customFields: { a: 1 } })
  })
})

describe('ticket templates', () => {
  let t: TestApp
  let customer: { token: string }
  let technician: { token: string }
  const post = (body: Record<string, unknown>, token?: string) =>
    t.api('POST', '/api/v1/templates', { body, ...(token ? { token } : {}) })
  const patch = (id: string, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
    t.api('PATCH', `/api/v1/templates/${id}`, { body, headers })
  async function create(body: Record<string, unknown>) {
    const res = await post(body)
    expect(res.statusCode, res.body).toBe(201)
    return res.json() as Record<string, any> & { id: string; version: number }
  }
  const auditOf = (id: string) => auditRows(t, 'template', id)

  beforeAll(async () => {
    t = await buildTestApp()
    customer = await makeUser(t, ['customer'])
    technician = await makeUser(t, ['technician'])
  })
  afterAll(async () => t?.close())

  it('creates, reads and updates a template, versioned and audited', async () => {
    const team = await makeTeam(t)
    const cat = (await t.api('POST', '/api/v1/categories', { body: { kind: 'incident', name: 'Laptops' } })).json()
    const values = {
      title: 'Broken screen',
      description: 'Screen cracked',
      impact: 3,
      urgency: 2,
      category: 'Laptops',
      categoryId: cat.id,
      teamId: team.id,
      layer: 1,
      customFields: { asset: 'LT-1' }
    }
    const res = await post({ kind: 'incident', name: 'Broken screen', description: 'For desk staff', values })
    expect(res.statusCode, res.body).toBe(201)
    expect(versionOfEtag(res.headers.etag)).toBe(1)
    const tpl = res.json()
    expect(tpl).toMatchObject({ kind: 'incident', name: 'Broken screen', values, standard: false, active: true })
    expect((await t.api('GET', `/api/v1/templates/${tpl.id}`)).json()).toEqual(tpl)

    expectProblem(await patch(tpl.id, { name: 'Cracked screen' }, { 'if-match': '"7"' }), 412)
    const updated = await patch(tpl.id, { name: 'Cracked screen', values: { title: 'Cracked' } }, { 'if-match': '"1"' })
    expect(updated.statusCode, updated.body).toBe(200)
    expect(updated.json()).toMatchObject({ name: 'Cracked screen', values: { title: 'Cracked' }, version: 2 })
    // The same values in another key order are no change: nothing written
    const same = await patch(
      tpl.id,
      { values: { title: 'Cracked' }, description: 'For desk staff' },
      { 'if-match': '"2"' }
    )
    expect(same.json().version).toBe(2)
    const audit = await auditOf(tpl.id)
    expect(audit.map(a => a.action)).toEqual(['created', 'updated'])
    expect(audit[1]!.changes).toEqual([
      { field: 'name', old: 'Broken screen', new: 'Cracked screen' },
      { field: 'values', old: expect.objectContaining({ title: 'Broken screen' }), new: { title: 'Cracked' } }
    ])
  })

  it('allows exactly the keys of the kind, typed (400 naming values.<key>)', async () => {
    for (const [kind, values, field] of [
      ['incident', { risk: 'low' }, 'values.risk'],
      ['incident', { offeringId: '00000000-0000-7000-8000-000000000000' }, 'values.offeringId'],
      ['incident', { impact: 4 }, 'values.impact'],
      ['incident', { title: '' }, 'values.title'],
      ['incident', { customFields: 'x' }, 'values.customFields'],
      ['change', { type: 'weird' }, 'values.type'],
      ['change', { risk: 'extreme' }, 'values.risk'],
      ['problem', { implementationPlan: 'x' }, 'values.implementationPlan'],
      ['request', { teamId: 'nope' }, 'values.teamId']
    ] as const) {
      const res = expectProblem(await post({ kind, name: `bad ${field}`, values }), 400)
      expect(fieldsOf(res), `${kind} ${JSON.stringify(values)}`).toEqual([field])
    }
    expect(fieldsOf(expectProblem(await post({ kind: 'incident', name: 'x', values: [] }), 400))).toContain('values')
    expect(fieldsOf(expectProblem(await post({ kind: 'nope', name: 'x' }), 400))).toContain('kind')
    // A change template takes the change fields
    const change = await create({
      kind: 'change',
      name: 'Patch servers',
      values: {
        type: 'normal',
        risk: 'low',
        implementationPlan: 'apt upgrade',
        backoutPlan: 'snapshot',
        testPlan: 'smoke'
      }
    })
    expect(change.values.risk).toBe('low')
  })

  it('checks what values refer to (422 naming values.<key>)', async () => {
    const probCat = (await t.api('POST', '/api/v1/categories', { body: { kind: 'problem', name: 'Power' } })).json()
    const ghost = '00000000-0000-7000-8000-000000000000'
    for (const [kind, values, field] of [
      ['incident', { categoryId: probCat.id }, 'values.categoryId'],
      ['incident', { categoryId: ghost }, 'values.categoryId'],
      ['incident', { teamId: ghost }, 'values.teamId'],
      ['request', { offeringId: ghost }, 'values.offeringId']
    ] as const) {
      const res = expectProblem(await post({ kind, name: `ref ${field}`, values }), 422, 'VALIDATION_FAILED')
      expect(fieldsOf(res)).toEqual([field])
    }
    const offering = (
      await t.api('POST', '/api/v1/catalog/offerings', { body: { name: 'Old phone', active: false } })
    ).json()
    const inactive = expectProblem(
      await post({ kind: 'request', name: 'Phone', values: { offeringId: offering.id } }),
      422
    )
    expect(fieldsOf(inactive)).toEqual(['values.offeringId'])
  })

  it('lets only a change template of type standard be a standard change (422 standard)', async () => {
    for (const body of [
      { kind: 'incident', name: 'std inc', standard: true },
      { kind: 'change', name: 'std normal', standard: true, values: { type: 'normal' } },
      { kind: 'change', name: 'std untyped', standard: true }
    ]) {
      expect(fieldsOf(expectProblem(await post(body), 422)), body.name).toEqual(['standard'])
    }
    const std = await create({ kind: 'change', name: 'Restart app pool', standard: true, values: { type: 'standard' } })
    expect(std.standard).toBe(true)
    const v1 = { 'if-match': '"1"' }
    expect(fieldsOf(expectProblem(await patch(std.id, { values: { type: 'normal' } }, v1), 422))).toEqual(['standard'])
    const off = await patch(std.id, { standard: false, values: { type: 'normal' } }, v1)
    expect(off.json()).toMatchObject({ standard: false, values: { type: 'normal' } })
  })

  it('keeps names unique per kind regardless of case (409 name)', async () => {
    await create({ kind: 'problem', name: 'Recurring outage' })
    expect(fieldsOf(expectProblem(await post({ kind: 'problem', name: 'RECURRING OUTAGE' }), 409))).toEqual(['name'])
    const other = await create({ kind: 'incident', name: 'Recurring outage' })
    const second = await create({ kind: 'incident', name: 'Another' })
    const v1 = { 'if-match': '"1"' }
    expect(fieldsOf(expectProblem(await patch(second.id, { name: 'recurring OUTAGE' }, v1), 409))).toEqual(['name'])
    expect((await patch(other.id, { name: 'RECURRING outage' }, v1)).statusCode).toBe(200)
  })

  it('lets everyone who raises tickets read active templates; only admins write', async () => {
    const live = await create({ kind: 'request', name: 'Live one' })
    const off = await create({ kind: 'request', name: 'Retired one', active: false })
    expectProblem(await post({ kind: 'request', name: 'tech' }, technician.token), 403, 'FORBIDDEN')
    expectProblem(
      await t.api('PATCH', `/api/v1/templates/${live.id}`, { token: customer.token, body: { name: 'x' } }),
      403
    )
    const seen = (await t.api('GET', '/api/v1/templates?kind=request&limit=500', { token: customer.token })).json()
    expect(seen.items.map((x: { id: string }) => x.id)).toContain(live.id)
    expect(seen.items.map((x: { id: string }) => x.id)).not.toContain(off.id)
    expectProblem(await t.api('GET', `/api/v1/templates/${off.id}`, { token: customer.token }), 404)
    expect((await t.api('GET', `/api/v1/templates/${off.id}`, { token: technician.token })).statusCode).toBe(200)
    const inactive = (await t.api('GET', '/api/v1/templates?active=false', { token: technician.token })).json()
    expect(inactive.items.every((x: { active: boolean }) => !x.active)).toBe(true)
    const q = (await t.api('GET', '/api/v1/templates?q=live')).json()
    expect(q.items.map((x: { id: string }) => x.id)).toEqual([live.id])
  })

  it('loadTemplate answers an active template of the kind, or 422 templateId', async () => {
    const tpl = await create({ kind: 'problem', name: 'Loadable', values: { impact: 1 } })
    const row = await loadTemplate(t.db, 'problem', tpl.id)
    expect(row).toMatchObject({ id: tpl.id, values: { impact: 1 } })
    const refused = async (kind: 'problem' | 'incident', id: string) =>
      expect(
        await loadTemplate(t.db, kind, id).then(
          () => null,
          e => e
        )
      ).toMatchObject({ status: 422, errors: [{ field: 'templateId' }] })
    await refused('incident', tpl.id)
    await refused('problem', '00000000-0000-7000-8000-000000000000')
    await patch(tpl.id, { active: false }, { 'if-match': `"${tpl.version}"` })
    await refused('problem', tpl.id)
  })
})
