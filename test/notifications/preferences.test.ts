import { and, eq, sql } from 'drizzle-orm'
import { DateTime } from 'luxon'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { notificationDeliveries, notificationOutbox } from '../../src/db/schema/index.js'
import { quietUntil } from '../../src/modules/notifications/quiet-hours.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeIncident, makeTeam, makeUser, suffix } from '../helpers/factories.js'
import { drainOutbox, type SmtpSink, startSmtpSink } from '../helpers/smtp.js'

const PARIS = 'Europe/Paris'
const at = (iso: string) => new Date(iso)
const end = (from: number, until: number, now: string) =>
  quietUntil({ from, until, timeZone: PARIS }, at(now))?.toISOString() ?? null

describe('quiet hours in the user’s zone (hand-worked instants, Paris)', () => {
  const night = [22 * 60, 7 * 60] as const
  it('spans midnight: inside until the next local 07:00, outside not at all', () => {
    // 22:30 CET on 15 January: quiet until 07:00 CET on the 16th = 06:00Z
    expect(end(...night, '2026-01-15T21:30:00Z')).toBe('2026-01-16T06:00:00.000Z')
    // 06:59 CET: one minute left
    expect(end(...night, '2026-01-15T05:59:00Z')).toBe('2026-01-15T06:00:00.000Z')
    // 07:00 CET and 21:59 CET are outside
    expect(end(...night, '2026-01-15T06:00:00Z')).toBeNull()
    expect(end(...night, '2026-01-15T20:59:00Z')).toBeNull()
    // 22:00 CET exactly is inside
    expect(end(...night, '2026-01-15T21:00:00Z')).toBe('2026-01-16T06:00:00.000Z')
  })
  it('across the DST changes the end is local 07:00 of the new offset', () => {
    // 23:00 CET on 28 March; clocks go 02:00 → 03:00; 07:00 CEST on the 29th = 05:00Z
    expect(end(...night, '2026-03-28T22:00:00Z')).toBe('2026-03-29T05:00:00.000Z')
    // 23:00 CEST on 24 October; clocks go 03:00 → 02:00; 07:00 CET on the 25th = 06:00Z
    expect(end(...night, '2026-10-24T21:00:00Z')).toBe('2026-10-25T06:00:00.000Z')
    // An end in the spring gap (02:30 on 29 March does not exist) moves on by the gap: 03:30 CEST = 01:30Z
    expect(end(60, 150, '2026-03-29T00:30:00Z')).toBe('2026-03-29T01:30:00.000Z')
  })
  it('a daytime window in summer time', () => {
    // 12:30 CEST on 1 July, quiet 12:00–14:00: until 14:00 CEST = 12:00Z
    expect(end(12 * 60, 14 * 60, '2026-07-01T10:30:00Z')).toBe('2026-07-01T12:00:00.000Z')
    expect(end(12 * 60, 14 * 60, '2026-07-01T12:00:00Z')).toBeNull()
  })
})

describe('notification preferences over REST and GraphQL, honoured by the dispatcher', () => {
  let t: TestApp
  let sink: SmtpSink
  beforeAll(async () => {
    sink = await startSmtpSink()
    t = await buildTestApp({
      SMTP_URL: sink.url,
      MAIL_FROM: 'desk@desk.example.test',
      SMS_GATEWAY_ADDRESS: '{number}@sms.example.test',
      SMS_GATEWAY_SUBJECT: 'acct:tok'
    })
  })
  afterAll(async () => {
    t?.app.services.notifications.close()
    await t?.close()
    await sink?.close()
  })
  const drain = () => drainOutbox(t)
  const path = (id: string) => `/api/v1/users/${id}/notification-preferences`

  it('reads the defaults, needs the version read, checks every field, and only for oneself or a user admin', async () => {
    const me = await makeUser(t, ['technician'])
    const other = await makeUser(t, ['technician'])
    const read = await t.api('GET', path(me.id), { token: me.token })
    expect(read.statusCode).toBe(200)
    expect(read.json()).toMatchObject({ userId: me.id, channels: ['mail', 'sms'], isDefault: true, version: 0 })
    expect(read.json().quietHours).toBeNull()

    expect((await t.api('PUT', path(me.id), { token: me.token, body: { channels: ['mail'] } })).statusCode).toBe(428)
    expect((await t.api('GET', path(me.id), { token: other.token })).statusCode).toBe(403)
    expect((await t.api('GET', path('00000000-0000-4000-8000-000000000000'))).statusCode).toBe(404)

    const bad = await t.api('PUT', path(me.id), {
      token: me.token,
      body: {
        version: 0,
        timeZone: 'Mars/Olympus',
        eventChannels: { 'ticket.exploded': ['mail'] },
        quietHours: { from: '22:00', until: '22:00' }
      }
    })
    expect(bad.statusCode).toBe(422)
    expect(
      bad
        .json()
        .errors.map((e: { field: string }) => e.field)
        .sort()
    ).toEqual(['eventChannels.ticket.exploded', 'quietHours.until', 'timeZone'])
    const malformed = await t.api('PUT', path(me.id), {
      token: me.token,
      body: { version: 0, quietHours: { from: '25:00', until: '07:00' } }
    })
    expect(malformed.statusCode).toBe(400)

    const set = await t.api('PUT', path(me.id), {
      token: me.token,
      headers: { 'if-match': read.headers.etag as string },
      body: { timeZone: PARIS, quietHours: { from: '22:00', until: '07:00' }, eventChannels: { sla: ['sms'] } }
    })
    expect(set.statusCode).toBe(200)
    expect(set.json()).toMatchObject({
      timeZone: PARIS,
      quietHours: { from: '22:00', until: '07:00' },
      eventChannels: { sla: ['sms'] },
      channels: ['mail', 'sms'],
      isDefault: false,
      version: 1
    })
    // Stale version
    expect(
      (await t.api('PUT', path(me.id), { token: me.token, body: { version: 0, ownChanges: true } })).statusCode
    ).toBe(412)
    // An admin may set them for anyone
    expect((await t.api('PUT', path(me.id), { body: { version: 1, ownChanges: true } })).json().ownChanges).toBe(true)

    // GraphQL: the same service; null clears the quiet hours
    const q = `query($id: ID!) { notificationPreferences(userId: $id) { userId timeZone quietHours { from until } version } }`
    const got = await t.gql(q, { id: me.id }, me.token)
    expect(got.body.data?.notificationPreferences).toEqual({
      userId: me.id,
      timeZone: PARIS,
      quietHours: { from: '22:00', until: '07:00' },
      version: 2
    })
    const m = `mutation($id: ID!, $input: NotificationPreferencesInput!, $v: Int) {
      setNotificationPreferences(userId: $id, input: $input, version: $v) { quietHours { from } eventChannels version } }`
    const cleared = await t.gql(m, { id: me.id, input: { quietHours: null }, v: 2 }, me.token)
    expect(cleared.body.data?.setNotificationPreferences).toEqual({
      quietHours: null,
      eventChannels: { sla: ['sms'] },
      version: 3
    })
    const badTz = await t.gql(m, { id: me.id, input: { timeZone: 'Nowhere/Land' }, v: 3 }, me.token)
    expect(badTz.body.errors?.[0]?.extensions?.code).toBe('VALIDATION_FAILED')
    expect(JSON.stringify(badTz.body.errors?.[0]?.extensions)).toContain('timeZone')
    const forbidden = await t.gql(m, { id: me.id, input: { ownChanges: false }, v: 3 }, other.token)
    expect(forbidden.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN')
  })

  it('per event and per group: the event’s own entry wins over its group, the group over the default', async () => {
    const email = `pref-${suffix()}@example.test`
    const tech = await makeUser(t, ['technician'], { email })
    const team = await makeTeam(t, [{ userId: tech.id, level: 1 }])
    const put = (version: number, body: Record<string, unknown>) =>
      t.api('PUT', path(tech.id), { token: tech.token, body: { version, ...body } })
    expect((await put(0, { eventChannels: { ticket: [] } })).statusCode).toBe(200)
    await makeIncident(t, { title: 'Muted by group', teamId: team.id, assigneeId: tech.id, impact: 3, urgency: 3 })
    await drain()
    expect(sink.to(email)).toHaveLength(0)

    expect((await put(1, { eventChannels: { ticket: [], 'ticket.assigned': ['mail'] } })).statusCode).toBe(200)
    await makeIncident(t, { title: 'Heard by event', teamId: team.id, assigneeId: tech.id, impact: 3, urgency: 3 })
    await drain()
    expect(sink.to(email).map(m => m.header('subject'))).toEqual([expect.stringContaining('Assigned: Heard by event')])
  })

  it('quiet hours in New York hold mail and SMS back as a row due when they end, then deliver once', async () => {
    const email = `quiet-${suffix()}@example.test`
    const tech = await makeUser(t, ['technician'], { email, phone: '+1 202 555 0143' })
    const team = await makeTeam(t, [{ userId: tech.id, level: 1 }])
    const zone = 'America/New_York'
    const local = DateTime.now().setZone(zone)
    const clock = (d: DateTime) => d.toFormat('HH:mm')
    const from = clock(local.minus({ hours: 1 }))
    const until = clock(local.plus({ hours: 1 }).plus({ minutes: 1 }))
    const expected = local.plus({ hours: 1, minutes: 1 }).set({ second: 0, millisecond: 0 }).toUTC()
    const set = await t.api('PUT', path(tech.id), {
      token: tech.token,
      body: { version: 0, timeZone: zone, quietHours: { from, until }, quietChannels: ['sms', 'mail'] }
    })
    expect(set.statusCode).toBe(200)

    const inc = await makeIncident(t, {
      title: 'Night-time P1',
      impact: 1,
      urgency: 1,
      teamId: team.id,
      assigneeId: tech.id
    })
    await drain()
    expect(sink.to(email)).toHaveLength(0)
    expect(sink.to('12025550143@sms.example.test')).toHaveLength(0)

    const [original] = await t.db
      .select()
      .from(notificationOutbox)
      .where(
        and(
          eq(notificationOutbox.ticketId, inc.id),
          eq(notificationOutbox.event, 'ticket.assigned'),
          sql`NOT (payload ? 'deferredTo')`
        )
      )
    expect(original!.sentAt).not.toBeNull()
    const deferred = await t.db
      .select()
      .from(notificationDeliveries)
      .where(and(eq(notificationDeliveries.outboxId, original!.id), eq(notificationDeliveries.status, 'deferred')))
    expect(deferred.map(d => d.channel).sort()).toEqual(['mail', 'sms'])
    expect(deferred.find(d => d.channel === 'sms')!.recipient).toBe('+12025550143')

    const held = await t.db
      .select()
      .from(notificationOutbox)
      .where(and(eq(notificationOutbox.ticketId, inc.id), sql`payload ? 'deferredTo'`))
    expect(held).toHaveLength(1)
    expect(held[0]!.event).toBe('ticket.assigned')
    expect(held[0]!.sentAt).toBeNull()
    expect(held[0]!.payload.deferredFrom).toBe(original!.id)
    // Due when the quiet hours end (to the second the dispatcher computed it, give or take the write)
    expect(Math.abs(held[0]!.availableAt.getTime() - expected.toMillis())).toBeLessThan(5_000)

    // The quiet hours end: the held row is due now, and goes only to the one it was held for
    await t.api('PUT', path(tech.id), { token: tech.token, body: { version: 1, quietHours: null } })
    await t.db
      .update(notificationOutbox)
      .set({ availableAt: new Date(Date.now() - 1000) })
      .where(eq(notificationOutbox.id, held[0]!.id))
    await drain()
    const mails = sink.to(email)
    expect(mails).toHaveLength(1)
    expect(mails[0]!.header('subject')).toBe(`[${inc.number}] Assigned: Night-time P1`)
    expect(sink.to('12025550143@sms.example.test')).toHaveLength(1)
    await drain()
    expect(sink.to(email)).toHaveLength(1)
  })
})
