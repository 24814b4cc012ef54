import { and, eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { notificationOutbox } from '../../src/db/schema/index.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { changeInAuthorize, decide, setPolicy } from '../helpers/changes.js'
import { makeUser, suffix } from '../helpers/factories.js'
import { type SmtpSink, startSmtpSink } from '../helpers/smtp.js'

const DOMAIN = 'desk.example.test'

describe('events of other modules reach the outbox in their own transactions', () => {
  let t: TestApp
  let sink: SmtpSink
  beforeAll(async () => {
    sink = await startSmtpSink()
    t = await buildTestApp({ SMTP_URL: sink.url, MAIL_FROM: `Service Desk <desk@${DOMAIN}>` })
  })
  afterAll(async () => {
    t?.app.services.notifications.close()
    await t?.close()
    await sink?.close()
  })
  const drain = async () => {
    for (let i = 0; i < 50; i++) if ((await t.app.services.notifications.dispatchOnce()).claimed === 0) return
  }
  const rowsOf = (ticketId: string, event: string) =>
    t.db
      .select()
      .from(notificationOutbox)
      .where(and(eq(notificationOutbox.ticketId, ticketId), eq(notificationOutbox.event, event)))

  it('an approval round tells its approvers by mail, and its decision is an outbox row', async () => {
    const staff = async () => {
      const email = `approver-${suffix()}@example.test`
      return { ...(await makeUser(t, ['manager'], { email })), email }
    }
    const a1 = await staff()
    const a2 = await staff()
    await setPolicy(t, 'normal', { rule: 'all', approverIds: [a1.id, a2.id] })
    const c = await changeInAuthorize(t)

    const [requested, ...more] = await rowsOf(c.id, 'approval.requested')
    expect(more).toHaveLength(0)
    expect((requested!.payload as { approverIds: string[] }).approverIds.sort()).toEqual([a1.id, a2.id].sort())
    await drain()
    for (const a of [a1, a2]) {
      const mails = sink.to(a.email)
      expect(mails).toHaveLength(1)
      expect(mails[0]!.to).toEqual([a.email])
      expect(mails[0]!.header('subject')).toBe(`[${c.number}] Approval requested: ${c.title}`)
    }

    expect(await rowsOf(c.id, 'approval.decided')).toHaveLength(0)
    expect((await decide(t, 'changes', c.id, a1.token, { decision: 'approve' })).statusCode).toBe(200)
    // One of two: nothing decided yet
    expect(await rowsOf(c.id, 'approval.decided')).toHaveLength(0)
    expect((await decide(t, 'changes', c.id, a2.token, { decision: 'approve' })).statusCode).toBe(200)
    const decided = await rowsOf(c.id, 'approval.decided')
    expect(decided).toHaveLength(1)
    expect(decided[0]!.payload).toMatchObject({ round: 1, outcome: 'approved' })
    expect(decided[0]!.actorId).toBe(a2.id)
  })
})
