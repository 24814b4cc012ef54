import { and, eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { auditLog } from '../../src/db/schema/index.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeIncident, makeTeam, makeUser } from '../helpers/factories.js'
import { drainOutbox, type SmtpSink, startSmtpSink } from '../helpers/smtp.js'

describe('SMS blocks per user and number: recorded on a 550, visible and clearable, cleared by an edit', () => {
  let t: TestApp
  let sink: SmtpSink
  beforeAll(async () => {
    sink = await startSmtpSink(rcpt =>
      rcpt.startsWith('4915123456789@') ? { code: 550, message: 'Unknown subscriber' } : null
    )
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
  const REFUSED = '4915123456789@sms.example.test'

  it('blocks the refused number, lists it, clears it over REST and GraphQL, and a phone edit away and back clears it', async () => {
    const tech = await makeUser(t, ['technician'], { phone: '+49 1512 3456789' })
    const other = await makeUser(t, ['technician'])
    const team = await makeTeam(t, [{ userId: tech.id, level: 1 }])
    const p1 = (title: string) =>
      makeIncident(t, { title, impact: 1, urgency: 1, teamId: team.id, assigneeId: tech.id })
    const path = `/api/v1/users/${tech.id}/sms-blocks`

    expect((await t.api('GET', path, { token: tech.token })).json().items).toEqual([])
    await p1('P1 one')
    await drain()
    expect(sink.rcptAttempts(REFUSED)).toBe(1)
    const listed = await t.api('GET', path, { token: tech.token })
    expect(listed.statusCode).toBe(200)
    expect(listed.json().items).toEqual([
      { phone: '+4915123456789', reason: expect.stringContaining('550'), createdAt: expect.any(String) }
    ])
    expect((await t.api('GET', path, { token: other.token })).statusCode).toBe(403)

    // Blocked: not tried again
    await p1('P1 two')
    await drain()
    expect(sink.rcptAttempts(REFUSED)).toBe(1)

    // Cleared over REST: tried again (and refused again, so blocked again)
    expect((await t.api('DELETE', `${path}/+4915123456789`, { token: other.token })).statusCode).toBe(403)
    expect((await t.api('DELETE', `${path}/+4915123456789`, { token: tech.token })).statusCode).toBe(204)
    expect((await t.api('DELETE', `${path}/+4915123456789`, { token: tech.token })).statusCode).toBe(404)
    expect((await t.api('DELETE', `${path}/not-a-number`, { token: tech.token })).statusCode).toBe(400)
    await p1('P1 three')
    await drain()
    expect(sink.rcptAttempts(REFUSED)).toBe(2)

    // GraphQL sees it and clears it
    const q = `query($id: ID!) { smsBlocks(userId: $id) { phone } }`
    expect((await t.gql(q, { id: tech.id }, tech.token)).body.data?.smsBlocks).toEqual([{ phone: '+4915123456789' }])
    const cleared = await t.gql(
      `mutation($id: ID!) { clearSmsBlock(userId: $id, phone: "+4915123456789") }`,
      { id: tech.id },
      tech.token
    )
    expect(cleared.body.data?.clearSmsBlock).toBe(true)
    expect((await t.gql(q, { id: tech.id }, tech.token)).body.data?.smsBlocks).toEqual([])
    await p1('P1 four')
    await drain()
    expect(sink.rcptAttempts(REFUSED)).toBe(3)

    // Blocked again; the user edits the number away and back: the edit clears the block, audited
    const away = await t.edit(`/api/v1/users/${tech.id}`, { body: { phone: '+49 30 87654321' } })
    expect(away.statusCode, away.body).toBe(200)
    const back = await t.edit(`/api/v1/users/${tech.id}`, { body: { phone: '+49 1512 3456789' } })
    expect(back.statusCode, back.body).toBe(200)
    expect((await t.api('GET', path, { token: tech.token })).json().items).toEqual([])
    const audit = await t.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.entityType, 'user'), eq(auditLog.entityId, tech.id)))
    const text = JSON.stringify(audit)
    expect(text).toContain('sms_block.cleared')
    expect(text).toContain('smsBlocks')
    await p1('P1 five')
    await drain()
    expect(sink.rcptAttempts(REFUSED)).toBe(4)
  })
})
