import { sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { systemActor } from '../../src/auth/actor.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeUser } from '../helpers/factories.js'
import { event, makeIntegration, post } from './helpers.js'

let t: TestApp
let token: string

/** Changes event settings at the version in force (428 without one, like every admin edit). */
const settings = async (input: Record<string, unknown>) => {
  const ctx = { actor: systemActor('test'), log: t.app.log, db: t.app.database.db }
  const { version } = await t.app.services.eventSettings.get(ctx)
  return t.app.services.eventSettings.set(ctx, input, version)
}

const getIncident = async (id: string) => (await t.api('GET', `/api/v1/incidents/${id}`)).json()
const getAlert = async (id: string) => (await t.api('GET', `/api/v1/alerts/${id}`)).json()

beforeAll(async () => {
  t = await buildTestApp()
  token = (await makeIntegration(t)).token
})
afterAll(async () => t.close())

describe('episodes', () => {
  it('a late firing duplicate of an ended episode reopens nothing; a new episode opens a linked incident', async () => {
    const e = event({ startsAt: '2026-11-23T10:00:00Z' })
    const opened = (await post(t, token, '/api/v1/events', e)).json()
    expect(opened.action).toBe('opened')
    const resolved = (
      await post(t, token, '/api/v1/events', { ...e, status: 'resolved', endsAt: '2026-11-23T10:30:00Z' })
    ).json()
    expect(resolved.action).toBe('resolved')
    const late = (await post(t, token, '/api/v1/events', e)).json()
    expect(late).toMatchObject({ action: 'ignored', incidentId: opened.incidentId })
    expect(late.reason).toMatch(/late firing event/)
    expect((await getIncident(opened.incidentId)).status).toBe('resolved')

    const next = (await post(t, token, '/api/v1/events', { ...e, startsAt: '2026-11-23T11:00:00Z' })).json()
    expect(next.action).toBe('opened')
    expect(next.incidentId).not.toBe(opened.incidentId)
    const alert = await getAlert(next.alertId)
    expect(alert.previousAlertId).toBe(opened.alertId)
  })

  it('the newest alert is ours by arrival, whatever the sender clocks say', async () => {
    const e = event()
    const at = (h: number) => new Date(Date.now() + h * 3_600_000).toISOString()
    expect((await post(t, token, '/api/v1/events', { ...e, occurredAt: at(2) })).json().action).toBe('opened')
    expect(
      (await post(t, token, '/api/v1/events', { ...e, status: 'resolved', occurredAt: at(2.5) })).json().action
    ).toBe('resolved')
    const second = (await post(t, token, '/api/v1/events', { ...e, occurredAt: at(3) })).json()
    expect(second.action).toBe('opened')
    // An earlier sender time than the first episode: still the open (second) alert it joins
    const again = await post(t, token, '/api/v1/events', { ...e, occurredAt: at(1) })
    expect(again.statusCode, again.body).toBe(202)
    expect(again.json()).toMatchObject({ action: 'deduplicated', alertId: second.alertId })
  })

  it('an event naming a CI the CMDB does not hold still opens its incident and says so', async () => {
    const res = (await post(t, token, '/api/v1/events', event({ ci: { hostname: 'no-such-host-77' } }))).json()
    expect(res.action).toBe('opened')
    expect(res.reason).toMatch(/no configuration item matched hostname no-such-host-77/)
    expect((await getAlert(res.alertId)).ciId).toBeNull()
  })

  it('a recovery for a fingerprint with nothing open is accepted and creates nothing', async () => {
    const res = await post(t, token, '/api/v1/events', event({ status: 'resolved' }))
    expect(res.statusCode).toBe(202)
    expect(res.json()).toMatchObject({ action: 'ignored', incidentId: null, alertId: null })
  })

  it('when a person resolves the incident, repeats of that episode stay quiet', async () => {
    const e = event({ startsAt: new Date(Date.now() - 60_000).toISOString() })
    const opened = (await post(t, token, '/api/v1/events', e)).json()
    const inc = await getIncident(opened.incidentId)
    const moved = await t.api('POST', `/api/v1/incidents/${inc.id}/transitions`, {
      body: { to: 'resolved', resolutionCode: 'fixed', resolution: 'rebooted' }
    })
    expect(moved.statusCode, moved.body).toBe(200)
    const repeat = (await post(t, token, '/api/v1/events', e)).json()
    expect(repeat.action).toBe('ignored')
    expect((await getAlert(opened.alertId)).state).toBe('resolved')
  })

  it('an update adds a note to the open incident and changes nothing else', async () => {
    const e = event()
    const opened = (await post(t, token, '/api/v1/events', e)).json()
    const upd = (
      await post(t, token, '/api/v1/events', { ...e, status: 'update', note: 'acknowledged by jdoe' })
    ).json()
    expect(upd.action).toBe('noted')
    const notes = (await t.api('GET', `/api/v1/incidents/${opened.incidentId}/notes`)).json()
    expect(notes.items.map((n: any) => n.body).join('\n')).toMatch(/acknowledged by jdoe/)
    expect((await getIncident(opened.incidentId)).status).toBe('new')
  })
})

describe('resolve action and flapping', () => {
  it('with resolveAction note, a recovery notes the incident and leaves it open', async () => {
    await settings({ resolveAction: 'note' })
    try {
      const e = event()
      const opened = (await post(t, token, '/api/v1/events', e)).json()
      const rec = (await post(t, token, '/api/v1/events', { ...e, status: 'resolved' })).json()
      expect(rec.action).toBe('noted')
      expect((await getIncident(opened.incidentId)).status).toBe('new')
      expect((await getAlert(opened.alertId)).state).toBe('resolved')
    } finally {
      await settings({ resolveAction: 'resolve' })
    }
  })

  it('a key that flaps is marked and held open; it resolves once it settles', async () => {
    await settings({ flapChanges: 3, flapWindowMinutes: 30 })
    try {
      const e = event()
      const send = async (status: string) => (await post(t, token, '/api/v1/events', { ...e, status })).json()
      const first = await send('firing')
      expect((await send('resolved')).action).toBe('resolved')
      const second = await send('firing')
      expect(second.action).toBe('opened')
      const held = await send('resolved')
      expect(held.action).toBe('held')
      expect(held.incidentId).toBe(second.incidentId)
      expect((await getIncident(second.incidentId)).status).toBe('new')
      expect((await getAlert(second.alertId)).flapping).toBe(true)
      expect((await send('firing')).action).toBe('deduplicated')
      expect((await send('resolved')).action).toBe('held')
      const notes = (await t.api('GET', `/api/v1/incidents/${second.incidentId}/notes`)).json()
      expect(notes.items.filter((n: any) => /Flapping/.test(n.body))).toHaveLength(1)
      expect(first.incidentId).not.toBe(second.incidentId)

      // Still inside the window: nothing settles
      expect(
        (
          await t.app.services.events.maintenance.settleFlapping({
            actor: systemActor('t'),
            log: t.app.log,
            db: t.app.database.db
          })
        ).settled
      ).toBe(0)
      await t.db.execute(
        sql`update event_alerts set last_change_at = now() - interval '31 minutes' where id = ${second.alertId}`
      )
      const run = await t.app.services.events.maintenance.settleFlapping({
        actor: systemActor('t'),
        log: t.app.log,
        db: t.app.database.db
      })
      expect(run).toMatchObject({ settled: 1, resolved: 1 })
      expect(await getAlert(second.alertId)).toMatchObject({ flapping: false, state: 'resolved' })
      expect((await getIncident(second.incidentId)).status).toBe('resolved')
    } finally {
      await settings({ flapChanges: 6, flapWindowMinutes: 30 })
    }
  })

  it('a key flapping back to firing reopens its resolved incident instead of opening another', async () => {
    await settings({ flapChanges: 2, flapWindowMinutes: 30 })
    try {
      const e = event()
      const send = async (status: string) => (await post(t, token, '/api/v1/events', { ...e, status })).json()
      const first = await send('firing')
      expect((await send('resolved')).action).toBe('resolved')
      const again = await send('firing')
      expect(again).toMatchObject({ action: 'held', incidentId: first.incidentId })
      expect((await getIncident(first.incidentId)).status).toBe('in_progress')
      expect(await getAlert(first.alertId)).toMatchObject({ state: 'open', flapping: true })
    } finally {
      await settings({ flapChanges: 6 })
    }
  })
})

describe('idempotency and batches', () => {
  it('an event id makes a retry answer the first outcome without counting twice', async () => {
    const e = event({ eventId: 'evt-42' })
    const a = (await post(t, token, '/api/v1/events', e)).json()
    const b = (await post(t, token, '/api/v1/events', e)).json()
    expect(b).toMatchObject({ replayed: true, eventId: a.eventId, incidentId: a.incidentId, action: 'opened' })
    expect((await getAlert(a.alertId)).occurrences).toBe(1)
  })

  it('an Idempotency-Key replays a batch answer; the same key with another body is 422', async () => {
    const e = event()
    const body = [e, { ...e, summary: 'again' }]
    const key = { 'idempotency-key': `batch-${Math.random()}` }
    const a = await post(t, token, '/api/v1/events', body, key)
    expect(a.statusCode).toBe(202)
    const b = await post(t, token, '/api/v1/events', body, key)
    expect(b.statusCode).toBe(202)
    expect(b.headers['idempotent-replayed']).toBe('true')
    expect(b.json()).toEqual(a.json())
    expect((await getAlert(a.json().items[0].alertId)).occurrences).toBe(2)
    const c = await post(t, token, '/api/v1/events', [e], key)
    expect(c.statusCode).toBe(422)
    expect(c.json().errors[0].field).toBe('Idempotency-Key')
  })

  it('one batch may open, resolve and open again the same fingerprint: two episodes, each as it ended', async () => {
    const e = event({ startsAt: '2026-11-23T10:00:00Z' })
    const res = await post(t, token, '/api/v1/events', [
      e,
      { ...e, summary: 'still full' },
      { ...e, status: 'resolved', endsAt: '2026-11-23T10:30:00Z' },
      { ...e, startsAt: '2026-11-23T11:00:00Z', summary: 'full again' },
      { ...e, startsAt: '2026-11-23T11:00:00Z', summary: 'full again, twice' }
    ])
    expect(res.statusCode, res.body).toBe(202)
    const items = res.json().items
    expect(items.map((i: any) => i.action)).toEqual(['opened', 'deduplicated', 'resolved', 'opened', 'deduplicated'])
    const [first, , , second] = items
    expect(second.alertId).not.toBe(first.alertId)
    expect(items[4].alertId).toBe(second.alertId)
    const ended = await getAlert(first.alertId)
    expect(ended).toMatchObject({ state: 'resolved', occurrences: 2, endedAt: '2026-11-23T10:30:00.000Z' })
    expect(await getAlert(second.alertId)).toMatchObject({
      state: 'open',
      occurrences: 2,
      previousAlertId: first.alertId
    })
    expect((await getIncident(first.incidentId)).status).toBe('resolved')
    expect((await getIncident(second.incidentId)).status).not.toBe('resolved')
  })

  it('a batch reports per item: good items go in, a bad one is named', async () => {
    const res = await post(t, token, '/api/v1/events', [
      event(),
      event({ severity: 'apocalyptic' }),
      { source: 'x', severity: 'info', summary: 'no fingerprint and no labels' },
      event({ labels: { alertname: 'X', instance: 'h1' }, fingerprint: undefined })
    ])
    expect(res.statusCode).toBe(202)
    const body = res.json()
    expect(body).toMatchObject({ accepted: 2, rejected: 2 })
    expect(body.items.map((i: any) => i.status)).toEqual(['accepted', 'rejected', 'rejected', 'accepted'])
    expect(body.items[1].errors[0].field).toBe('[1].severity')
    expect(body.items[2].errors[0].field).toBe('[2].fingerprint')
    expect(body.items[3].action).toBe('opened')
  })

  it('a batch with nothing valid is 422; more than 1,000 is 400; the body must be JSON events', async () => {
    const none = await post(t, token, '/api/v1/events', [{ source: 'x' }])
    expect(none.statusCode).toBe(422)
    expect(none.json().errors.length).toBeGreaterThan(0)
    const big = await post(
      t,
      token,
      '/api/v1/events',
      Array.from({ length: 1001 }, () => event())
    )
    expect(big.statusCode).toBe(400)
    const str = await t.api('POST', '/api/v1/events', {
      token,
      body: '"hello"',
      headers: { 'content-type': 'application/json' }
    })
    expect(str.statusCode).toBe(400)
    expect(str.headers['content-type']).toMatch(/problem\+json/)
  })

  it('needs an events:write credential', async () => {
    expect((await t.api('POST', '/api/v1/events', { token: null, body: event() })).statusCode).toBe(401)
    const customer = await makeUser(t, ['customer'])
    expect((await post(t, customer.token, '/api/v1/events', event())).statusCode).toBe(403)
    const reader = await t.api('POST', '/api/v1/api-tokens', { body: { name: 'ro', scopes: ['tickets:read'] } })
    const res = await post(t, reader.json().token, '/api/v1/events', event())
    expect(res.statusCode).toBe(403)
    expect(res.json().missingScope).toBe('events:write')
  })
})

describe('storm', () => {
  it('10,000 events with 20% duplicates, sent concurrently, open exactly one incident per fingerprint', async () => {
    const fingerprints = Array.from({ length: 500 }, (_, i) => `storm-${i}`)
    const originals = Array.from({ length: 8000 }, (_, i) =>
      event({ source: 'storm', fingerprint: fingerprints[i % 500], eventId: `storm-evt-${i}` })
    )
    const resends = Array.from({ length: 2000 }, (_, i) => originals[(i * 7919) % 8000]!)
    const all = [...originals, ...resends]
    for (let i = all.length - 1; i > 0; i--) {
      const j = (i * 2654435761) % (i + 1)
      ;[all[i], all[j]] = [all[j]!, all[i]!]
    }
    const batches: unknown[][] = []
    for (let i = 0; i < all.length; i += 250) batches.push(all.slice(i, i + 250))
    const results = await Promise.all(
      batches.map(async b => {
        const res = await post(t, token, '/api/v1/events', b)
        expect(res.statusCode, res.body).toBe(202)
        return res.json()
      })
    )
    const items = results.flatMap((r: any) => r.items)
    expect(items.filter((i: any) => i.status === 'accepted')).toHaveLength(10_000)
    expect(items.filter((i: any) => i.action === 'opened' && !i.replayed)).toHaveLength(500)
    expect(items.filter((i: any) => i.replayed)).toHaveLength(2000)
    const counted = await t.db.execute(sql`
      select count(distinct incident_id)::int as incidents, count(*)::int as alerts, sum(occurrences)::int as occurrences
      from event_alerts where source = 'storm'`)
    const row = (counted as unknown as { rows: any[] }).rows[0]
    expect(row).toEqual({ incidents: 500, alerts: 500, occurrences: 8000 })
  }, 240_000)
})
