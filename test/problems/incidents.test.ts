import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeIncident, makeOrganisation, makeTeam, makeUser } from '../helpers/factories.js'
import { history, makeProblem, type User } from './helpers.js'

describe('incidents caused by a problem (REST)', () => {
  let t: TestApp
  let tech: User
  let customer: User
  let team: { id: string }
  beforeAll(async () => {
    t = await buildTestApp()
    tech = await makeUser(t, ['technician'])
    customer = await makeUser(t, ['customer'], { organisationId: (await makeOrganisation(t)).id })
    team = await makeTeam(t, [{ userId: tech.id, level: 1 }])
  })
  afterAll(async () => t?.close())

  const link = (problemId: string, incidentIds: string[], token?: string) =>
    t.api('POST', `/api/v1/problems/${problemId}/incidents`, { body: { incidentIds }, ...(token ? { token } : {}) })

  it('links many incidents to one problem, lists them, counts them and shows problemId on each', async () => {
    const p = await makeProblem(t)
    const a = await makeIncident(t, { title: 'Mail slow A' })
    const b = await makeIncident(t, { title: 'Mail slow B' }, customer.token)
    const res = await link(p.id, [a.id, b.id, a.id])
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json()).toMatchObject({ id: p.id, incidentCount: 2 })
    expect((await t.api('GET', `/api/v1/incidents/${a.id}`)).json().problemId).toBe(p.id)
    // Incident list rows stay one query and leave problemId out; the filter finds them by problem
    const listed = (await t.api('GET', '/api/v1/incidents?limit=500')).json().items
    expect(listed.find((i: { id: string }) => i.id === b.id)).not.toHaveProperty('problemId')
    expect((await t.api('GET', `/api/v1/problems/${p.id}`)).json().incidentCount).toBe(2)

    const page1 = (await t.api('GET', `/api/v1/problems/${p.id}/incidents?limit=1`)).json()
    expect(page1.items.map((i: { id: string }) => i.id)).toEqual([b.id])
    expect(page1.items[0]).toMatchObject({ kind: 'incident', problemId: p.id })
    const page2 = (await t.api('GET', `/api/v1/problems/${p.id}/incidents?limit=1&cursor=${page1.nextCursor}`)).json()
    expect(page2).toEqual({ items: [expect.objectContaining({ id: a.id })], nextCursor: null })
    // Linking again is harmless; the incident's links read caused_by from its end
    expect((await link(p.id, [a.id])).json().incidentCount).toBe(2)
    const links = (await t.api('GET', `/api/v1/incidents/${a.id}/links`)).json().items
    expect(links).toEqual([expect.objectContaining({ type: 'caused_by', ticketId: p.id, number: p.number })])
    const audit = await history(t, 'incidents', a.id)
    expect(audit.at(-1)).toMatchObject({ action: 'link.added', changes: [{ field: 'caused_by', new: p.id }] })
    // RSQL finds the incidents of a problem, and those with none
    const byProblem = await t.api('GET', `/api/v1/incidents?filter=${encodeURIComponent(`problemId==${p.id}`)}`)
    expect(
      byProblem
        .json()
        .items.map((i: { id: string }) => i.id)
        .sort()
    ).toEqual([a.id, b.id].sort())
  })

  it('refuses an incident already caused by another problem (409 naming it), all or nothing', async () => {
    const p1 = await makeProblem(t)
    const p2 = await makeProblem(t)
    const a = await makeIncident(t)
    const b = await makeIncident(t)
    await link(p1.id, [a.id])
    const res = await link(p2.id, [b.id, a.id])
    expect(res.statusCode).toBe(409)
    expect(res.json().detail).toContain(p1.number)
    expect(res.json().errors[0].field).toBe('incidentIds')
    expect(res.json().conflicts).toEqual([expect.objectContaining({ incidentId: a.id, problemId: p1.id })])
    expect((await t.api('GET', `/api/v1/incidents/${b.id}`)).json().problemId).toBeNull()
    // The generic links door keeps the same rule
    const generic = await t.api('POST', `/api/v1/incidents/${a.id}/links`, {
      body: { type: 'caused_by', ticketId: p2.id }
    })
    expect(generic.statusCode).toBe(409)
    expect(generic.json().detail).toContain(p1.number)
  })

  it('refuses unknown, invisible or non-incident ids (422 naming incidentIds) and bad bodies (400)', async () => {
    const p = await makeProblem(t)
    const other = await makeProblem(t)
    const a = await makeIncident(t)
    const missing = '00000000-0000-4000-8000-000000000000'
    for (const ids of [[a.id, missing], [other.id]]) {
      const res = await link(p.id, ids)
      expect(res.statusCode).toBe(422)
      expect(res.json().errors[0]).toMatchObject({ field: 'incidentIds' })
      expect(res.json().errors[0].message).toContain(ids.at(-1))
    }
    expect((await t.api('GET', `/api/v1/problems/${p.id}`)).json().incidentCount).toBe(0)
    for (const body of [{ incidentIds: [] }, { incidentIds: ['nope'] }, {}]) {
      const res = await t.api('POST', `/api/v1/problems/${p.id}/incidents`, { body })
      expect(res.statusCode).toBe(400)
    }
    const tooMany = Array.from({ length: 501 }, () => a.id)
    expect((await link(p.id, tooMany)).statusCode).toBe(400)
    expect((await link(missing, [a.id])).statusCode).toBe(404)
    expect((await link(p.id, [a.id], customer.token)).statusCode).toBe(404)
  })

  it('unlinks an incident, auditing both ends; 404 when it is not linked', async () => {
    const p = await makeProblem(t)
    const a = await makeIncident(t)
    await link(p.id, [a.id])
    const del = await t.api('DELETE', `/api/v1/problems/${p.id}/incidents/${a.id}`)
    expect(del.statusCode).toBe(204)
    expect((await t.api('GET', `/api/v1/incidents/${a.id}`)).json().problemId).toBeNull()
    expect((await t.api('GET', `/api/v1/problems/${p.id}`)).json().incidentCount).toBe(0)
    expect((await history(t, 'problems', p.id)).at(-1)).toMatchObject({
      action: 'link.removed',
      changes: [{ field: 'causes', old: a.id, new: null }]
    })
    expect((await t.api('DELETE', `/api/v1/problems/${p.id}/incidents/${a.id}`)).statusCode).toBe(404)
    await link(p.id, [a.id])
    const asTech = await t.api('DELETE', `/api/v1/problems/${p.id}/incidents/${a.id}`, { token: tech.token })
    expect(asTech.statusCode).toBe(204)
  })

  it('resolving the problem with resolveLinkedIncidents resolves the open incidents, with a note', async () => {
    const p = await makeProblem(t, { rootCause: 'Bad cert' })
    const open = await makeIncident(t)
    const working = await makeIncident(t, { teamId: team.id, assigneeId: tech.id })
    const done = await makeIncident(t)
    await t.api('POST', `/api/v1/incidents/${done.id}/transitions`, { body: { to: 'resolved', resolution: 'Own fix' } })
    await link(p.id, [open.id, working.id, done.id])
    for (const to of ['root_cause_analysis', 'fix_in_progress']) {
      expect((await t.api('POST', `/api/v1/problems/${p.id}/transitions`, { body: { to } })).statusCode).toBe(200)
    }
    const res = await t.api('POST', `/api/v1/problems/${p.id}/transitions`, {
      token: tech.token,
      body: { to: 'resolved', resolution: 'Renewed the certificate', resolveLinkedIncidents: true }
    })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json()).toMatchObject({ status: 'resolved', resolution: 'Renewed the certificate' })
    for (const inc of [open, working]) {
      const got = (await t.api('GET', `/api/v1/incidents/${inc.id}`)).json()
      expect(got).toMatchObject({ status: 'resolved', resolution: 'Renewed the certificate' })
      expect(got.resolvedAt).not.toBeNull()
      const notes = (await t.api('GET', `/api/v1/incidents/${inc.id}/notes`)).json().items
      expect(notes.at(-1)).toMatchObject({
        body: `Resolved with problem ${p.number}: Renewed the certificate`,
        internal: false,
        authorId: tech.id
      })
      const moved = (await history(t, 'incidents', inc.id)).filter(h => h.action === 'transitioned')
      expect(moved).toHaveLength(1)
      expect(moved[0]!.changes).toContainEqual({ field: 'status', old: inc.status, new: 'resolved' })
    }
    // Already resolved: left as it was
    expect((await t.api('GET', `/api/v1/incidents/${done.id}`)).json().resolution).toBe('Own fix')
    const cascade = (await history(t, 'problems', p.id)).find(h => h.action === 'incidents.resolved')
    expect(cascade?.changes).toEqual([
      { field: 'resolvedIncidentCount', old: null, new: 2 },
      { field: 'resolvedIncidents', old: null, new: expect.arrayContaining([open.number, working.number]) }
    ])
  })

  it('without the flag, resolving the problem leaves its incidents alone', async () => {
    const p = await makeProblem(t, { rootCause: 'Bad cert' })
    const inc = await makeIncident(t)
    await link(p.id, [inc.id])
    for (const body of [
      { to: 'root_cause_analysis' },
      { to: 'fix_in_progress' },
      { to: 'resolved', resolution: 'Fixed', resolveLinkedIncidents: false }
    ]) {
      expect((await t.api('POST', `/api/v1/problems/${p.id}/transitions`, { body })).statusCode).toBe(200)
    }
    expect((await t.api('GET', `/api/v1/incidents/${inc.id}`)).json().status).toBe('new')
    expect((await history(t, 'problems', p.id)).some(h => h.action === 'incidents.resolved')).toBe(false)
  })

  it('raises a problem from an incident in one call, copying its fields and linking them', async () => {
    const inc = await makeIncident(t, {
      title: 'VPN drops',
      description: 'Every hour',
      impact: 1,
      urgency: 2,
      category: 'Network/VPN',
      teamId: team.id
    })
    const res = await t.api('POST', `/api/v1/incidents/${inc.id}/problem`, { token: tech.token })
    expect(res.statusCode, res.body).toBe(201)
    const p = res.json()
    expect(res.headers.location).toBe(`/api/v1/problems/${p.id}`)
    expect(p).toMatchObject({
      kind: 'problem',
      title: 'VPN drops',
      description: 'Every hour',
      impact: 1,
      urgency: 2,
      priority: 2,
      category: 'Network/VPN',
      teamId: team.id,
      layer: 1,
      requesterId: tech.id,
      incidentCount: 1
    })
    expect((await t.api('GET', `/api/v1/incidents/${inc.id}`)).json().problemId).toBe(p.id)
    const again = await t.api('POST', `/api/v1/incidents/${inc.id}/problem`, { body: {} })
    expect(again.statusCode).toBe(409)
    expect(again.json().detail).toContain(p.number)

    const other = await makeIncident(t, { title: 'Printer jams' })
    const custom = await t.api('POST', `/api/v1/incidents/${other.id}/problem`, {
      body: { title: 'Fuser wear', urgency: 3, rootCause: 'Old fuser', workaround: 'Use tray 2' }
    })
    expect(custom.statusCode).toBe(201)
    expect(custom.json()).toMatchObject({
      title: 'Fuser wear',
      urgency: 3,
      rootCause: 'Old fuser',
      workaround: 'Use tray 2'
    })
    expect((await history(t, 'incidents', other.id)).at(-1)!.action).toBe('link.added')
  })

  it('creating from an incident is all or nothing, and refuses customers and bad input', async () => {
    const inc = await makeIncident(t, {}, customer.token)
    const before = (await t.api('GET', '/api/v1/problems?includeTotal=true')).json().total
    const bad = await t.api('POST', `/api/v1/incidents/${inc.id}/problem`, { body: { title: '' } })
    expect(bad.statusCode).toBe(400)
    expect(bad.json().errors[0].field).toBe('title')
    const extra = await t.api('POST', `/api/v1/incidents/${inc.id}/problem`, { body: { knownError: true } })
    expect(extra.statusCode).toBe(400)
    const asCustomer = await t.api('POST', `/api/v1/incidents/${inc.id}/problem`, { token: customer.token, body: {} })
    expect(asCustomer.statusCode).toBe(403)
    const missing = await t.api('POST', '/api/v1/incidents/00000000-0000-4000-8000-000000000000/problem', { body: {} })
    expect(missing.statusCode).toBe(404)
    expect((await t.api('GET', '/api/v1/problems?includeTotal=true')).json().total).toBe(before)
  })
})
