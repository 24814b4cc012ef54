import { and, eq, sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { auditLog, notificationDeliveries, notificationOutbox } from '../../src/db/schema/index.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeIncident, makeOrganisation, makeTeam, makeUser, suffix } from '../helpers/factories.js'
import { loadSchema, selectAll, shapeProblems } from '../helpers/graphql.js'
import { type SmtpSink, startSmtpSink } from '../helpers/smtp.js'
import { waitFor } from '../helpers/wait.js'

const DOMAIN = 'desk.example.test'
const schema = loadSchema()

describe('mail notifications through a real SMTP server', () => {
  let t: TestApp
  let sink: SmtpSink
  let tech: Awaited<ReturnType<typeof makeUser>>
  let team: { id: string }
  beforeAll(async () => {
    sink = await startSmtpSink()
    t = await buildTestApp({ SMTP_URL: sink.url, MAIL_FROM: `Service Desk <desk@${DOMAIN}>` })
    tech = await makeUser(t, ['technician'], { email: `tech-${suffix()}@example.test` })
    team = await makeTeam(t, [{ userId: tech.id, level: 1 }])
  })
  afterAll(async () => {
    t?.app.services.notifications.close()
    await t?.close()
    await sink?.close()
  })

  /** Dispatches until nothing is due. */
  const drain = async () => {
    for (let i = 0; i < 50; i++) if ((await t.app.services.notifications.dispatchOnce()).claimed === 0) return
  }
  const customer = async (displayName?: string) => {
    const org = await makeOrganisation(t)
    const email = `cust-${suffix()}@example.test`
    const u = await makeUser(t, ['customer'], {
      organisationId: org.id,
      email,
      ...(displayName ? { displayName } : {})
    })
    return { ...u, email }
  }

  it('tells the requester by mail: one envelope recipient, the number in the subject, escaped HTML, a stable Message-ID', async () => {
    const c = await customer()
    const inc = await makeIncident(t, { title: 'Printer <script>alert(1)</script> & "jam"' }, c.token)
    await drain()
    const mails = sink.to(c.email)
    expect(mails).toHaveLength(1)
    const m = mails[0]!
    expect(m.to).toEqual([c.email])
    expect(m.from).toBe(`desk@${DOMAIN}`)
    expect(m.header('subject')).toBe(`[${inc.number}] Printer <script>alert(1)</script> & "jam"`)
    expect(m.html).toContain('Printer &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;jam&quot;')
    expect(m.html).not.toMatch(/<script|javascript:| on\w+=/i)
    expect(m.text).toContain('Printer <script>alert(1)</script> & "jam"')
    const [row] = await t.db.select().from(notificationOutbox).where(eq(notificationOutbox.ticketId, inc.id))
    expect(m.header('message-id')).toBe(`<${row!.id}.${c.id}.mail@${DOMAIN}>`)
    expect(row!.sentAt).not.toBeNull()
    const deliveries = await t.db
      .select()
      .from(notificationDeliveries)
      .where(eq(notificationDeliveries.outboxId, row!.id))
    expect(deliveries).toMatchObject([{ channel: 'mail', recipient: c.email, status: 'sent', attempt: 1 }])
    expect(deliveries[0]!.providerMessageId).toMatch(/queued as/)
  })

  it('threads three notifications of one ticket with In-Reply-To and References on the ticket', async () => {
    const c = await customer()
    const inc = await makeIncident(t, { title: 'VPN drops' }, c.token)
    await t.api('POST', `/api/v1/incidents/${inc.id}/notes`, { body: { body: 'Please restart it' }, token: tech.token })
    await t.api('POST', `/api/v1/incidents/${inc.id}/transitions`, {
      body: { to: 'resolved', resolution: 'Router replaced' },
      token: tech.token
    })
    await drain()
    const mails = sink.to(c.email)
    expect(mails).toHaveLength(3)
    const root = `<ticket.${inc.id}@${DOMAIN}>`
    for (const m of mails) {
      expect(m.header('in-reply-to')).toBe(root)
      expect(m.header('references')).toBe(root)
      expect(m.header('subject')).toMatch(new RegExp(`^\\[${inc.number}\\] `))
    }
    expect(new Set(mails.map(m => m.header('message-id'))).size).toBe(3)
    expect(mails.map(m => m.header('subject'))).toEqual([
      `[${inc.number}] VPN drops`,
      `[${inc.number}] VPN drops`,
      `[${inc.number}] Resolved: VPN drops`
    ])
    expect(mails[1]!.text).toContain('Please restart it')
  })

  it('keeps CR and LF in titles and names out of the headers', async () => {
    const c = await customer('Eve\r\nBcc: victim@evil.test')
    const created = await t.api('POST', '/api/v1/incidents', {
      body: { title: 'Hello\r\nBcc: attacker@evil.test\r\nX-Injected: 1' },
      token: c.token
    })
    // Titles may hold line breaks (descriptions of a sort); they must never reach a header
    expect(created.statusCode).toBe(201)
    await drain()
    const mails = sink.to(c.email)
    expect(mails).toHaveLength(1)
    const m = mails[0]!
    expect(m.to).toEqual([c.email])
    expect(m.headers.has('bcc')).toBe(false)
    expect(m.headers.has('x-injected')).toBe(false)
    expect(m.header('subject')).toBe(`[${created.json().number}] Hello Bcc: attacker@evil.test X-Injected: 1`)
    expect(m.header('to')).toMatch(/^"?Eve Bcc: victim@evil\.test"? <cust-/)
    expect(sink.received.some(m => m.to.some(a => a.includes('evil.test')))).toBe(false)
  })

  it('never tells customers of internal notes, and nobody of their own change', async () => {
    const c = await customer()
    const inc = await makeIncident(t, { title: 'Disk full' }, c.token)
    await drain()
    const before = sink.to(c.email).length
    // Even with a rule naming the requester, an internal note reaches staff only
    await t.db.execute(sql`INSERT INTO notification_rules (id, event, audience, channel)
      VALUES (gen_random_uuid(), 'ticket.internal_note', 'requester', 'mail') ON CONFLICT DO NOTHING`)
    await t.api('POST', `/api/v1/incidents/${inc.id}/notes`, { body: { body: 'Secret', internal: true } })
    // The customer's own reply is not mailed back to them
    await t.api('POST', `/api/v1/incidents/${inc.id}/notes`, { body: { body: 'Any news?' }, token: c.token })
    await drain()
    expect(sink.to(c.email).length).toBe(before)
    expect(sink.received.some(m => m.raw.includes('Secret'))).toBe(false)
    // A staff requester hears of the internal note
    const staffInc = await makeIncident(t, { title: 'Staff ticket' }, tech.token)
    await t.api('POST', `/api/v1/incidents/${staffInc.id}/notes`, { body: { body: 'Internal detail', internal: true } })
    await drain()
    expect(sink.to(await emailOf(tech.id)).some(m => m.text.includes('Internal detail'))).toBe(true)
  })

  it('tells the layer members when a ticket is assigned to a team with nobody, the assignee when someone', async () => {
    const inc = await makeIncident(t, { title: 'Queue only' })
    const techMail = await emailOf(tech.id)
    const n = sink.to(techMail).length
    await t.api('PUT', `/api/v1/incidents/${inc.id}/assignment`, { body: { teamId: team.id } })
    await drain()
    expect(sink.to(techMail).length).toBe(n + 1)
    expect(sink.to(techMail).at(-1)!.header('subject')).toBe(`[${inc.number}] Assigned: Queue only`)
  })

  it('lists deliveries and stats for admins over REST and GraphQL, and refuses others', async () => {
    const list = await t.api('GET', '/api/v1/notifications?state=sent&limit=2')
    expect(list.statusCode, list.body).toBe(200)
    expect(list.json().items).toHaveLength(2)
    expect(list.json().nextCursor).toBeTruthy()
    const next = await t.api('GET', `/api/v1/notifications?state=sent&limit=2&cursor=${list.json().nextCursor}`)
    expect(next.json().items[0].id < list.json().items[1].id).toBe(true)
    const stats = await t.api('GET', '/api/v1/notifications/stats')
    expect(stats.json()).toMatchObject({ pending: 0, oldestPendingSeconds: null, dead: 0 })
    expect((await t.api('GET', '/api/v1/notifications', { token: tech.token })).statusCode).toBe(403)
    const gql = await t.gql(
      `{ notifications(first: 1, state: "sent") ${selectAll(schema, 'NotificationConnection')}
         notificationStats ${selectAll(schema, 'NotificationStats')} }`
    )
    expect(gql.body.errors).toBeUndefined()
    const connection = gql.body.data!.notifications
    expect(connection.edges[0].node.state).toBe('sent')
    // Every field answers as declared (a sent row has no dead time, error or lease left)
    const allowNull = ['Notification.lastError', 'Notification.deadAt', 'NotificationDelivery.error']
    expect(shapeProblems(schema, 'NotificationConnection', connection, { strict: true, allowNull })).toEqual([])
    expect(
      shapeProblems(schema, 'NotificationStats', gql.body.data!.notificationStats, {
        strict: true,
        allowNull: ['NotificationStats.oldestPendingSeconds']
      })
    ).toEqual([])
    expect(gql.body.data!.notificationStats).toEqual({ pending: 0, oldestPendingSeconds: null, dead: 0 })
    const one = await t.gql(`query($id: ID!) { notification(id: $id) ${selectAll(schema, 'Notification')} }`, {
      id: connection.edges[0].node.id
    })
    expect(one.body.data!.notification).toEqual(connection.edges[0].node)
  })

  async function emailOf(userId: string): Promise<string> {
    const res = await t.api('GET', `/api/v1/users/${userId}`)
    return res.json().email as string
  }
})

describe('SMTP failures: retries with backoff, permanent failures, dead letters and replay', () => {
  let t: TestApp
  let sink: SmtpSink
  const flaky = new Map<string, number>()
  let down = true
  beforeAll(async () => {
    sink = await startSmtpSink(rcpt => {
      if (rcpt.startsWith('gone')) return { code: 550, message: 'No such user' }
      if (rcpt.startsWith('down') && down) return { code: 421, message: 'Service not available' }
      if (rcpt.startsWith('flaky')) {
        const n = (flaky.get(rcpt) ?? 0) + 1
        flaky.set(rcpt, n)
        if (n <= 2) return { code: n === 1 ? 451 : 421, message: 'Try again later' }
      }
      return null
    })
    t = await buildTestApp({
      SMTP_URL: sink.url,
      MAIL_FROM: `desk@${DOMAIN}`,
      NOTIFY_MAX_ATTEMPTS: '3',
      NOTIFY_BACKOFF_BASE_MS: '50',
      NOTIFY_BACKOFF_MAX_MS: '200'
    })
  })
  afterAll(async () => {
    t?.app.services.notifications.close()
    await t?.close()
    await sink?.close()
  })

  const requester = async (local: string) => {
    const org = await makeOrganisation(t)
    const email = `${local}-${suffix()}@example.test`
    return { ...(await makeUser(t, ['customer'], { organisationId: org.id, email })), email }
  }
  const outboxOf = async (ticketId: string) =>
    (await t.db.select().from(notificationOutbox).where(eq(notificationOutbox.ticketId, ticketId)))[0]!
  const deliveriesOf = (outboxId: string) =>
    t.db.select().from(notificationDeliveries).where(eq(notificationDeliveries.outboxId, outboxId))
  const dispatch = () => t.app.services.notifications.dispatchOnce()

  it('retries 451 and 421 with backoff, then delivers once', async () => {
    const c = await requester('flaky')
    const inc = await makeIncident(t, { title: 'Flaky' }, c.token)
    const startedAt = Date.now()
    const first = await dispatch()
    expect(first.retried).toBe(1)
    let row = await outboxOf(inc.id)
    expect(row.sentAt).toBeNull()
    // Held back by at least half the first backoff (50 ms base) from when the attempt began: the
    // old check against the clock after the read failed on a loaded machine
    expect(row.availableAt.getTime()).toBeGreaterThan(startedAt + 20)
    // Not due again at once: the backoff holds it
    await waitFor('the row to be sent after its retries', async () => {
      await dispatch()
      row = await outboxOf(inc.id)
      return row.sentAt !== null
    })
    expect(sink.to(c.email)).toHaveLength(1)
    const d = await deliveriesOf(row.id)
    // (nodemailer's pool itself tries a message once more on a fresh connection after a 421)
    expect(d.map(x => x.status)).toEqual([...d.slice(0, -1).map(() => 'retry'), 'sent'])
    expect(d.map(x => x.attempt)).toEqual(d.map((_, i) => i + 1))
    expect(d.length).toBeGreaterThanOrEqual(2)
    expect(d[0]!.error).toMatch(/451/)
    // Every attempt carried the same Message-ID
    expect(new Set(d.map(x => x.messageId)).size).toBe(1)
  })

  it('records a 550 as failed after one attempt, and does not try again', async () => {
    const c = await requester('gone')
    const inc = await makeIncident(t, { title: 'Gone' }, c.token)
    const s = await dispatch()
    expect(s.failed).toBe(1)
    const row = await outboxOf(inc.id)
    expect(row.sentAt).not.toBeNull()
    expect(row.attempts).toBe(1)
    const d = await deliveriesOf(row.id)
    expect(d).toMatchObject([{ status: 'failed', attempt: 1 }])
    expect(d[0]!.error).toMatch(/550/)
    expect(sink.rcptAttempts(c.email)).toBe(1)
    expect((await dispatch()).claimed).toBe(0)
  })

  it('dead-letters a row past its attempts, then a replay delivers it once', async () => {
    const c = await requester('down')
    const inc = await makeIncident(t, { title: 'Down' }, c.token)
    let row = await outboxOf(inc.id)
    await waitFor('the row to be dead', async () => {
      await dispatch()
      row = await outboxOf(inc.id)
      return row.deadAt !== null
    })
    expect(row.attempts).toBe(3)
    expect(sink.rcptAttempts(c.email)).toBeGreaterThanOrEqual(3)
    expect(sink.to(c.email)).toHaveLength(0)
    const dead = await t.api('GET', '/api/v1/notifications?state=dead')
    expect(dead.json().items.map((n: { id: string }) => n.id)).toContain(row.id)
    expect((await t.api('GET', '/api/v1/notifications/stats')).json().dead).toBeGreaterThanOrEqual(1)
    // Still pending rows cannot be replayed; dead ones can
    down = false
    const replay = await t.gql('mutation($id: ID!) { replayNotification(id: $id) { id state attempts } }', {
      id: row.id
    })
    expect(replay.body.data?.replayNotification).toEqual({ id: row.id, state: 'pending', attempts: 0 })
    const again = await t.api('POST', `/api/v1/notifications/${row.id}/replay`)
    expect(again.statusCode).toBe(409)
    await waitFor('the replayed row to be sent', async () => {
      await dispatch()
      return (await outboxOf(inc.id)).sentAt !== null
    })
    expect(sink.to(c.email)).toHaveLength(1)
    // A second replay of the sent row reaches nobody twice
    expect((await t.api('POST', `/api/v1/notifications/${row.id}/replay`)).statusCode).toBe(200)
    await waitFor('the second replay to settle', async () => {
      await dispatch()
      return (await outboxOf(inc.id)).sentAt !== null
    })
    expect(sink.to(c.email)).toHaveLength(1)
    const audit = await t.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.entityType, 'notification'), eq(auditLog.entityId, row.id)))
    expect(audit.map(a => a.action)).toEqual(['notification.replayed', 'notification.replayed'])
  })
})
