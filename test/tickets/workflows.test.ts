import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeIncident, makeUser } from '../helpers/factories.js'
import { versionOfEtag } from '../helpers/http.js'
import { expectProblem } from '../helpers/problem.js'

type Wf = {
  kind: string
  version: number
  custom: boolean
  initial: string
  statuses: { key: string; label: string; phase: string; pausesSla: boolean; approval?: unknown }[]
  transitions: { from: string; to: string; by: string[]; requires?: string[] }[]
}

describe('workflows as data', () => {
  let t: TestApp
  let tech: Awaited<ReturnType<typeof makeUser>>
  let customer: Awaited<ReturnType<typeof makeUser>>

  beforeAll(async () => {
    t = await buildTestApp()
    tech = await makeUser(t, ['technician'])
    customer = await makeUser(t, ['customer'])
  })
  afterAll(() => t.close())

  const read = async (kind: string) => (await t.api('GET', `/api/v1/workflows/${kind}`)).json() as Wf

  it('ships an ITIL default for every kind, readable by anyone signed in', async () => {
    const all = await t.api('GET', '/api/v1/workflows', { token: customer.token })
    expect(all.statusCode).toBe(200)
    const kinds = (all.json().items as Wf[]).map(w => [w.kind, w.initial, w.custom, w.version])
    expect(kinds).toEqual([
      ['incident', 'new', false, 0],
      ['request', 'awaiting_approval', false, 0],
      ['problem', 'new', false, 0],
      ['change', 'new', false, 0],
      ['release', 'planning', false, 0]
    ])
    const change = await read('change')
    expect(change.statuses.find(s => s.key === 'authorize')).toMatchObject({
      approval: { approved: 'scheduled', rejected: 'rejected' }
    })
    expect(change.transitions).toContainEqual({
      from: 'authorize',
      to: 'scheduled',
      by: ['system'],
      requires: ['approval']
    })
    const incident = await read('incident')
    expect(incident.statuses.filter(s => s.pausesSla).map(s => s.key)).toEqual(['pending', 'resolved', 'closed'])
    expect((await t.api('GET', '/api/v1/workflows/bogus')).statusCode).toBe(400)
  })

  it('an admin edits a workflow: a new status and a field requirement take effect at once', async () => {
    const wf = await read('incident')
    const edited = {
      initial: wf.initial,
      statuses: [
        ...wf.statuses.map(({ key, label, phase, pausesSla }) => ({ key, label, phase, pausesSla })),
        { key: 'awaiting_vendor', label: 'Awaiting vendor', phase: 'open', pausesSla: true }
      ],
      transitions: [
        ...wf.transitions
          .filter(x => !(x.from === 'in_progress' && x.to === 'resolved'))
          .map(x => ({ ...x, requires: x.requires ?? [] })),
        { from: 'in_progress', to: 'resolved', by: ['staff'], requires: ['resolution', 'resolutionCode'] },
        { from: 'in_progress', to: 'awaiting_vendor', by: ['staff'] },
        { from: 'awaiting_vendor', to: 'in_progress', by: ['staff'] }
      ]
    }
    // Technicians read but may not edit
    expectProblem(await t.api('PUT', '/api/v1/workflows/incident', { token: tech.token, body: edited }), 403)
    const put = await t.api('PUT', '/api/v1/workflows/incident', { body: edited, headers: { 'if-match': '"0"' } })
    expect(put.statusCode, put.body).toBe(200)
    expect(put.json()).toMatchObject({ version: 1, custom: true })
    expect(versionOfEtag(put.headers.etag)).toBe(1)
    // A stale If-Match is refused
    expectProblem(
      await t.api('PUT', '/api/v1/workflows/incident', { body: edited, headers: { 'if-match': '"0"' } }),
      412
    )

    const inc = await makeIncident(t)
    const go = (to: string, extra: Record<string, unknown> = {}) =>
      t.api('POST', `/api/v1/incidents/${inc.id}/transitions`, { body: { to, ...extra } })
    expect((await go('in_progress')).statusCode).toBe(200)
    const allowed = (await t.api('GET', `/api/v1/incidents/${inc.id}/transitions`)).json().allowed
    expect(allowed).toContain('awaiting_vendor')
    expect((await go('awaiting_vendor')).json().status).toBe('awaiting_vendor')
    expect((await go('in_progress')).statusCode).toBe(200)
    // The edited rule now also needs a resolution code; both missing ones are named
    const missing = expectProblem(await go('resolved'), 422)
    expect(missing.errors!.map(e => e.field).sort()).toEqual(['resolution', 'resolutionCode'])
    const resolved = await go('resolved', { resolution: 'Vendor fixed it', resolutionCode: 'vendor' })
    expect(resolved.json()).toMatchObject({ status: 'resolved', resolutionCode: 'vendor' })
    // Filtering by the new status is accepted; an unknown one names status
    expect((await t.api('GET', '/api/v1/incidents?status=awaiting_vendor')).statusCode).toBe(200)
    const bad = expectProblem(await t.api('GET', '/api/v1/incidents?status=nonsense'), 400)
    expect(bad.errors![0]!.field).toBe('status')

    // The edit is audited with the whole old and new definition
    const audit = await t.db.execute(
      "select action, changes from audit_log where entity_type = 'workflow' order by id" as never
    )
    const rows = (audit as unknown as { rows: { action: string }[] }).rows
    expect(rows.map(r => r.action)).toEqual(['updated'])
  })

  it('refuses unsound definitions, naming what is wrong', async () => {
    const cases: [unknown, string][] = [
      [
        {
          initial: 'nowhere',
          statuses: [
            { key: 'a', label: 'A', phase: 'open', pausesSla: false },
            { key: 'b', label: 'B', phase: 'closed', pausesSla: false }
          ],
          transitions: [{ from: 'a', to: 'b', by: ['staff'] }]
        },
        'initial'
      ],
      [
        {
          initial: 'a',
          statuses: [
            { key: 'a', label: 'A', phase: 'open', pausesSla: false },
            { key: 'b', label: 'B', phase: 'closed', pausesSla: false }
          ],
          transitions: [{ from: 'a', to: 'c', by: ['staff'] }]
        },
        'transitions.0.to'
      ],
      [
        {
          initial: 'a',
          statuses: [
            { key: 'a', label: 'A', phase: 'open', pausesSla: false },
            { key: 'b', label: 'B', phase: 'closed', pausesSla: false }
          ],
          transitions: [
            { from: 'a', to: 'b', by: ['staff'] },
            { from: 'b', to: 'a', by: ['staff'] }
          ]
        },
        'transitions.1.from'
      ],
      [
        {
          initial: 'a',
          statuses: [
            { key: 'a', label: 'A', phase: 'open', pausesSla: false, approval: { approved: 'b', rejected: 'a' } },
            { key: 'b', label: 'B', phase: 'closed', pausesSla: false }
          ],
          transitions: [{ from: 'a', to: 'b', by: ['staff'] }]
        },
        'statuses.0.approval.approved'
      ],
      [
        {
          initial: 'a',
          statuses: [
            { key: 'a', label: 'A', phase: 'open', pausesSla: false },
            { key: 'b', label: 'B', phase: 'closed', pausesSla: false },
            { key: 'island', label: 'Island', phase: 'open', pausesSla: false }
          ],
          transitions: [{ from: 'a', to: 'b', by: ['staff'] }]
        },
        'statuses.2.key'
      ]
    ]
    for (const [body, field] of cases) {
      const res = expectProblem(await t.api('PUT', '/api/v1/workflows/problem', { body }), 422)
      expect(res.errors!.map(e => e.field)).toContain(field)
    }
    // Schema-level nonsense is a 400
    const shape = expectProblem(
      await t.api('PUT', '/api/v1/workflows/problem', {
        body: { initial: 'a', statuses: [], transitions: [], extra: 1 }
      }),
      400
    )
    expect(shape.errors!.length).toBeGreaterThan(0)
    expect((await read('problem')).custom).toBe(false)
  })

  it('will not drop a status that tickets are in (409 names it), and resets to the default', async () => {
    const wf = await read('incident')
    const inc = await makeIncident(t)
    await t.api('POST', `/api/v1/incidents/${inc.id}/transitions`, { body: { to: 'in_progress' } })
    await t.api('POST', `/api/v1/incidents/${inc.id}/transitions`, { body: { to: 'awaiting_vendor' } })
    // The default lacks awaiting_vendor, which a ticket is in
    const refused = expectProblem(await t.api('DELETE', '/api/v1/workflows/incident'), 409)
    expect(refused.statusesInUse).toEqual(['awaiting_vendor'])
    expect((await read('incident')).version).toBe(wf.version)
    await t.api('POST', `/api/v1/incidents/${inc.id}/transitions`, { body: { to: 'in_progress' } })
    const reset = await t.api('DELETE', '/api/v1/workflows/incident')
    expect(reset.statusCode).toBe(200)
    expect(reset.json()).toMatchObject({ custom: false, version: 0 })
    expect((await read('incident')).statuses.map(s => s.key)).not.toContain('awaiting_vendor')
  })

  it('GraphQL reads and edits the same workflows', async () => {
    const q = await t.gql(
      '{ workflow(kind: change) { kind initial custom statuses { key phase pausesSla approval { approved rejected } } transitions { from to by requires } } }'
    )
    expect(q.body.errors).toBeUndefined()
    expect(q.body.data!.workflow.statuses.find((s: { key: string }) => s.key === 'authorize').approval).toEqual({
      approved: 'scheduled',
      rejected: 'rejected'
    })
    const wf = await read('release')
    const input = {
      initial: wf.initial,
      statuses: wf.statuses.map(({ key, label, phase, pausesSla }) => ({
        key,
        label: key === 'build' ? 'Building' : label,
        phase,
        pausesSla
      })),
      transitions: wf.transitions
    }
    const set = await t.gql(
      'mutation($input: WorkflowInput!) { setWorkflow(kind: release, input: $input) { version custom statuses { key label } } }',
      { input }
    )
    expect(set.body.errors).toBeUndefined()
    expect(set.body.data!.setWorkflow.version).toBe(1)
    expect(set.body.data!.setWorkflow.statuses[1].label).toBe('Building')
    const denied = await t.gql(
      'mutation($input: WorkflowInput!) { setWorkflow(kind: release, input: $input) { version } }',
      { input },
      customer.token
    )
    expect(denied.body.errors![0].extensions.code).toBe('FORBIDDEN')
    const reset = await t.gql('mutation { resetWorkflow(kind: release) { version custom } }')
    expect(reset.body.data!.resetWorkflow).toEqual({ version: 0, custom: false })
  })
})
