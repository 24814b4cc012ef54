import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeIncident, makeOrganisation, makeUser } from '../helpers/factories.js'
import { history, makeProblem, type User } from './helpers.js'

describe('problems: fields, known errors and requirements (REST)', () => {
  let t: TestApp
  let tech: User
  let customer: User
  beforeAll(async () => {
    t = await buildTestApp()
    tech = await makeUser(t, ['technician'])
    customer = await makeUser(t, ['customer'], { organisationId: (await makeOrganisation(t)).id })
  })
  afterAll(async () => t?.close())

  it('creates a problem with its own fields, reads and lists it, and audits every field', async () => {
    const created = await t.api('POST', '/api/v1/problems', {
      token: tech.token,
      body: { title: 'Nightly backup fails', rootCause: 'Full /var', workaround: 'Purge old logs', knownError: true }
    })
    expect(created.statusCode, created.body).toBe(201)
    const p = created.json()
    expect(p.number).toMatch(/^PRB-\d{6}$/)
    expect(created.headers.location).toBe(`/api/v1/problems/${p.id}`)
    expect(p).toMatchObject({
      kind: 'problem',
      status: 'new',
      rootCause: 'Full /var',
      workaround: 'Purge old logs',
      knownError: true,
      incidentCount: 0
    })
    expect(Date.parse(p.knownErrorAt)).toBeGreaterThan(Date.now() - 60_000)

    const got = (await t.api('GET', `/api/v1/problems/${p.id}`)).json()
    expect(got).toEqual(p)
    const listed = (await t.api('GET', '/api/v1/problems')).json().items.find((i: { id: string }) => i.id === p.id)
    // List rows carry the flag and the count, not the long text
    expect(listed).toMatchObject({ knownError: true, incidentCount: 0 })
    expect(listed.rootCause).toBeUndefined()
    expect(listed.workaround).toBeUndefined()

    const created0 = (await history(t, 'problems', p.id))[0]!
    expect(created0.changes).toEqual(
      expect.arrayContaining([
        { field: 'rootCause', old: null, new: 'Full /var' },
        { field: 'workaround', old: null, new: 'Purge old logs' },
        { field: 'knownError', old: false, new: true }
      ])
    )
  })

  it('a problem without the fields answers nulls and false', async () => {
    const p = await makeProblem(t)
    expect(p).toMatchObject({ rootCause: null, workaround: null, knownError: false, knownErrorAt: null })
  })

  it('refuses a known error without a workaround, on create and update (422 naming workaround)', async () => {
    const bad = await t.api('POST', '/api/v1/problems', { body: { title: 'x', knownError: true } })
    expect(bad.statusCode).toBe(422)
    expect(bad.json().errors).toEqual([{ field: 'workaround', message: expect.any(String) }])
    const blank = await t.api('POST', '/api/v1/problems', { body: { title: 'x', knownError: true, workaround: '  ' } })
    expect(blank.statusCode).toBe(422)

    const p = await makeProblem(t)
    const upd = await t.api('PATCH', `/api/v1/problems/${p.id}`, { body: { knownError: true, version: 1 } })
    expect(upd.statusCode).toBe(422)
    expect(upd.json().errors[0].field).toBe('workaround')
    expect((await t.api('GET', `/api/v1/problems/${p.id}`)).json()).toMatchObject({ knownError: false, version: 1 })
  })

  it('updates the fields, uses a stored workaround, stamps and clears knownErrorAt, audits each change', async () => {
    const p = await makeProblem(t)
    const one = await t.api('PATCH', `/api/v1/problems/${p.id}`, {
      body: { rootCause: 'Cron overlap', workaround: 'Run it by hand', version: 1 }
    })
    expect(one.statusCode, one.body).toBe(200)
    expect(one.json()).toMatchObject({ rootCause: 'Cron overlap', workaround: 'Run it by hand', version: 2 })
    // The stored workaround is enough to become a known error
    const two = await t.api('PATCH', `/api/v1/problems/${p.id}`, { body: { knownError: true, version: 2 } })
    expect(two.statusCode, two.body).toBe(200)
    expect(two.json().knownError).toBe(true)
    expect(two.json().knownErrorAt).not.toBeNull()
    // Clearing the workaround of a known error is refused
    const clear = await t.api('PATCH', `/api/v1/problems/${p.id}`, { body: { workaround: null, version: 3 } })
    expect(clear.statusCode).toBe(422)
    expect(clear.json().errors[0].field).toBe('workaround')
    const three = await t.api('PATCH', `/api/v1/problems/${p.id}`, {
      body: { knownError: false, rootCause: null, version: 3 }
    })
    expect(three.json()).toMatchObject({ knownError: false, knownErrorAt: null, rootCause: null, version: 4 })
    // Nothing changed: no new version
    const same = await t.api('PATCH', `/api/v1/problems/${p.id}`, { body: { knownError: false, version: 4 } })
    expect(same.json().version).toBe(4)

    const updates = (await history(t, 'problems', p.id)).filter(h => h.action === 'updated')
    expect(updates.map(u => u.changes.map(c => c.field).sort())).toEqual([
      ['rootCause', 'workaround'],
      ['knownError', 'knownErrorAt'],
      ['knownError', 'knownErrorAt', 'rootCause']
    ])
    expect(updates[2]!.changes).toContainEqual({ field: 'rootCause', old: 'Cron overlap', new: null })
  })

  it('refuses fields of the wrong type or too long (400 naming them)', async () => {
    for (const body of [
      { title: 'x', knownError: 'yes' },
      { title: 'x', rootCause: 'r'.repeat(20_001) },
      { title: 'x', workaround: 5 }
    ]) {
      const res = await t.api('POST', '/api/v1/problems', { body })
      expect(res.statusCode, JSON.stringify(body).slice(0, 40)).toBe(400)
      expect(res.json().errors[0].field).toMatch(/knownError|rootCause|workaround/)
    }
  })

  it('filters with RSQL on knownError and rootCause', async () => {
    const known = await makeProblem(t, { title: 'Filter known', workaround: 'w', knownError: true, rootCause: 'DNS' })
    const other = await makeProblem(t, { title: 'Filter plain' })
    const ids = async (filter: string) => {
      const res = await t.api('GET', `/api/v1/problems?filter=${encodeURIComponent(filter)}&limit=500`)
      expect(res.statusCode, res.body).toBe(200)
      return res.json().items.map((i: { id: string }) => i.id) as string[]
    }
    const k = await ids('knownError==true')
    expect(k).toContain(known.id)
    expect(k).not.toContain(other.id)
    expect(await ids('knownError==false')).toContain(other.id)
    expect(await ids('rootCause==DNS')).toEqual([known.id])
    expect(await ids('rootCause=isnull=true')).toContain(other.id)
    const bad = await t.api('GET', '/api/v1/problems?filter=knownError==maybe')
    expect(bad.statusCode).toBe(400)
  })

  it('needs a root cause to move on (422 naming rootCause) and answers illegal moves with 409 and allowed', async () => {
    const p = await makeProblem(t)
    const illegal = await t.api('POST', `/api/v1/problems/${p.id}/transitions`, { body: { to: 'resolved' } })
    expect(illegal.statusCode).toBe(409)
    expect(illegal.json().allowed).toEqual(['assessed', 'root_cause_analysis'])
    const rca = await t.api('POST', `/api/v1/problems/${p.id}/transitions`, { body: { to: 'root_cause_analysis' } })
    expect(rca.statusCode).toBe(200)
    const fix = await t.api('POST', `/api/v1/problems/${p.id}/transitions`, { body: { to: 'fix_in_progress' } })
    expect(fix.statusCode).toBe(422)
    expect(fix.json().errors).toEqual([{ field: 'rootCause', message: 'record the root cause first' }])
    await t.api('PATCH', `/api/v1/problems/${p.id}`, { body: { rootCause: '   ', version: 2 } })
    expect(
      (await t.api('POST', `/api/v1/problems/${p.id}/transitions`, { body: { to: 'fix_in_progress' } })).statusCode
    ).toBe(422)
    await t.api('PATCH', `/api/v1/problems/${p.id}`, { body: { rootCause: 'A leak', version: 3 } })
    const ok = await t.api('POST', `/api/v1/problems/${p.id}/transitions`, { body: { to: 'fix_in_progress' } })
    expect(ok.statusCode, ok.body).toBe(200)
    const noResolution = await t.api('POST', `/api/v1/problems/${p.id}/transitions`, { body: { to: 'resolved' } })
    expect(noResolution.statusCode).toBe(422)
    expect(noResolution.json().errors[0].field).toBe('resolution')
  })

  it('refuses resolveLinkedIncidents on other kinds and on a problem not being resolved (422 naming it)', async () => {
    const inc = await makeIncident(t)
    const res = await t.api('POST', `/api/v1/incidents/${inc.id}/transitions`, {
      body: { to: 'resolved', resolution: 'ok', resolveLinkedIncidents: true }
    })
    expect(res.statusCode).toBe(422)
    expect(res.json().errors[0].field).toBe('resolveLinkedIncidents')
    expect((await t.api('GET', `/api/v1/incidents/${inc.id}`)).json().status).toBe('new')
    const p = await makeProblem(t)
    const early = await t.api('POST', `/api/v1/problems/${p.id}/transitions`, {
      body: { to: 'assessed', resolveLinkedIncidents: true }
    })
    expect(early.statusCode).toBe(422)
    expect(early.json().errors[0].field).toBe('resolveLinkedIncidents')
    expect((await t.api('GET', `/api/v1/problems/${p.id}`)).json().status).toBe('new')
  })

  it('customers do not see staff problems, nor change them', async () => {
    const p = await makeProblem(t, { rootCause: 'secret' })
    expect((await t.api('GET', `/api/v1/problems/${p.id}`, { token: customer.token })).statusCode).toBe(404)
    const res = await t.api('PATCH', `/api/v1/problems/${p.id}`, {
      token: customer.token,
      body: { rootCause: 'x', version: 1 }
    })
    expect(res.statusCode).toBe(404)
    expect((await t.api('GET', `/api/v1/problems/${p.id}`)).json().rootCause).toBe('secret')
  })
})
