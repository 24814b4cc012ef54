import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { notificationDeliveries, notificationOutbox, smsBlockedNumbers } from '../../src/db/schema/index.js'
import { smsBody, toE164 } from '../../src/modules/notifications/sms.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeIncident, makeTeam, makeUser } from '../helpers/factories.js'
import { type SmtpSink, startSmtpSink } from '../helpers/smtp.js'

const dispatchAll = async (t: TestApp) => {
  for (let i = 0; i < 20; i++) if ((await t.app.services.notifications.dispatchOnce()).claimed === 0) return
}

describe('phone numbers and SMS bodies', () => {
  it('normalises to E.164 and refuses what is not a number', () => {
    expect(toE164('+49 30 12345678', 'DE')).toBe('+493012345678')
    expect(toE164('030 12345678', 'DE')).toBe('+493012345678')
    expect(toE164('+1 202 555 0143', 'DE')).toBe('+12025550143')
    expect(toE164('12', 'DE')).toBeNull()
    expect(toE164('+49 30 1234\r\nBcc: x@evil.test', 'DE')).toBeNull()
  })
  it('puts the ticket number first and cuts to the length', () => {
    expect(smsBody('INC-000007', 'Disk full on srv-01', 160)).toBe('INC-000007 Disk full on srv-01')
    const long = smsBody('INC-000007', `INC-000007 ${'x'.repeat(300)}`, 40)
    expect(long).toHaveLength(40)
    expect(long.startsWith('INC-000007 ')).toBe(true)
  })
})

describe('the email-to-SMS gateway', () => {
  let t: TestApp
  let sink: SmtpSink
  let team: { id: string }
  let tech: Awaited<ReturnType<typeof makeUser>>
  beforeAll(async () => {
    sink = await startSmtpSink(rcpt =>
      rcpt.startsWith('4915123456789@') ? { code: 550, message: 'Unknown subscriber' } : null
    )
    t = await buildTestApp({
      SMTP_URL: sink.url,
      MAIL_FROM: 'desk@desk.example.test',
      SMS_GATEWAY_ADDRESS: '{number}@sms.example.test',
      SMS_GATEWAY_SUBJECT: '12345:token-abc',
      SMS_MAX_LENGTH: '40'
    })
    tech = await makeUser(t, ['technician'], { phone: '+49 30 12345678' })
    team = await makeTeam(t, [{ userId: tech.id, level: 1 }])
  })
  afterAll(async () => {
    t?.app.services.notifications.close()
    await t?.close()
    await sink?.close()
  })

  it('texts the assignee of a P1 incident through the gateway address, subject and a cut body', async () => {
    const inc = await makeIncident(t, {
      title: 'Core switch down in the main data centre',
      impact: 1,
      urgency: 1,
      teamId: team.id,
      assigneeId: tech.id
    })
    await dispatchAll(t)
    const texts = sink.to('493012345678@sms.example.test')
    expect(texts).toHaveLength(1)
    const m = texts[0]!
    expect(m.to).toEqual(['493012345678@sms.example.test'])
    expect(m.header('subject')).toBe('12345:token-abc')
    const body = m.text.trim()
    expect(body.startsWith(`${inc.number} `)).toBe(true)
    expect(body.length).toBeLessThanOrEqual(40)
    // A P3 assignment sends no SMS
    await makeIncident(t, { title: 'Mouse', teamId: team.id, assigneeId: tech.id })
    await dispatchAll(t)
    expect(sink.to('493012345678@sms.example.test')).toHaveLength(1)
  })

  it('marks a number the gateway refuses for good, and tries it again only after the user edits it', async () => {
    const other = await makeUser(t, ['technician'], { phone: '+49 1512 3456789' })
    const team2 = await makeTeam(t, [{ userId: other.id, level: 1 }])
    const p1 = { impact: 1, urgency: 1, teamId: team2.id, assigneeId: other.id }
    const first = await makeIncident(t, { title: 'P1 one', ...p1 })
    await dispatchAll(t)
    const [row] = await t.db.select().from(notificationOutbox).where(eq(notificationOutbox.ticketId, first.id))
    const assigned = (await t.db.select().from(notificationOutbox).where(eq(notificationOutbox.ticketId, first.id)))
      .map(r => r.id)
      .filter(id => id !== row!.id)
    const deliveries = await t.db
      .select()
      .from(notificationDeliveries)
      .where(eq(notificationDeliveries.outboxId, assigned[0]!))
    expect(deliveries).toMatchObject([{ channel: 'sms', recipient: '+4915123456789', status: 'failed', attempt: 1 }])
    const blocked = await t.db.select().from(smsBlockedNumbers).where(eq(smsBlockedNumbers.userId, other.id))
    expect(blocked.map(b => b.phone)).toEqual(['+4915123456789'])
    const attemptsBefore = sink.rcptAttempts('4915123456789@sms.example.test')
    expect(attemptsBefore).toBe(1)

    await makeIncident(t, { title: 'P1 two', ...p1 })
    await dispatchAll(t)
    expect(sink.rcptAttempts('4915123456789@sms.example.test')).toBe(1)

    const edited = await t.edit(`/api/v1/users/${other.id}`, { body: { phone: '+49 30 87654321' } })
    expect(edited.statusCode, edited.body).toBe(200)
    await makeIncident(t, { title: 'P1 three', ...p1 })
    await dispatchAll(t)
    expect(sink.to('493087654321@sms.example.test')).toHaveLength(1)
  })
})

describe('the HTTP SMS gateway', () => {
  let t: TestApp
  let server: Server
  const posts: { auth: string | undefined; key: string | undefined; body: { to: string; text: string } }[] = []
  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res) => {
      let raw = ''
      req.on('data', d => {
        raw += String(d)
      })
      req.on('end', () => {
        const body = JSON.parse(raw) as { to: string; text: string }
        posts.push({ auth: req.headers.authorization, key: req.headers['idempotency-key'] as string, body })
        if (body.to === '+12025550143') {
          res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"invalid number"}')
          return
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: `sms-${posts.length}` }))
      })
    })
    await new Promise<void>(r => server.listen(0, '127.0.0.1', () => r()))
    const port = (server.address() as AddressInfo).port
    t = await buildTestApp({ SMS_HTTP_URL: `http://127.0.0.1:${port}/send`, SMS_HTTP_TOKEN: 'gw-secret' })
  })
  afterAll(async () => {
    t?.app.services.notifications.close()
    await t?.close()
    await new Promise(r => server.close(r))
  })

  it('posts JSON with the bearer token, records the gateway id, and a 4xx as permanent', async () => {
    const tech = await makeUser(t, ['technician'], { phone: '030 12345678' })
    const team = await makeTeam(t, [{ userId: tech.id, level: 1 }])
    await makeIncident(t, { title: 'Outage', impact: 1, urgency: 1, teamId: team.id, assigneeId: tech.id })
    await dispatchAll(t)
    expect(posts).toHaveLength(1)
    expect(posts[0]!.auth).toBe('Bearer gw-secret')
    expect(posts[0]!.body.to).toBe('+493012345678')
    expect(posts[0]!.body.text).toMatch(/^INC-\d{6} /)
    expect(posts[0]!.key).toMatch(/^<.+@servicedesk\.invalid>$/)
    const sent = await t.db.select().from(notificationDeliveries).where(eq(notificationDeliveries.channel, 'sms'))
    expect(sent).toMatchObject([{ status: 'sent', providerMessageId: 'sms-1' }])

    const us = await makeUser(t, ['technician'], { phone: '+1 202 555 0143' })
    const team2 = await makeTeam(t, [{ userId: us.id, level: 1 }])
    await makeIncident(t, { title: 'Outage 2', impact: 1, urgency: 1, teamId: team2.id, assigneeId: us.id })
    await dispatchAll(t)
    const failed = await t.db
      .select()
      .from(notificationDeliveries)
      .where(eq(notificationDeliveries.recipient, '+12025550143'))
    expect(failed).toMatchObject([{ status: 'failed', attempt: 1 }])
    expect(posts).toHaveLength(2)
  })
})
